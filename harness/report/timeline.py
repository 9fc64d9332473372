"""The drill's timeline from its observation log: load per time bucket, fault windows, event markers. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.core.histograms import histogram_percentile, merge_intervals
from harness.core.log_records import StatsRecord
from harness.core.observation_log import Record
from harness.report.key_metrics import Panel, key_metrics
from harness.runbooks.history import History
from harness.runbooks.lost_writes import lost_writes

BUCKET_S = 0.5
# Sentinel events worth a marker on the timeline (the rest stay in the log).
MARKED_EVENTS = ("+sdown", "+odown", "+switch-master", "-sdown", "+convert-to-slave", "-odown")


@dataclass(frozen=True, slots=True)
class Point:
    t: float  # seconds since the load started
    ops_per_s: float
    p50_us: int
    p99_us: int
    errors: dict[str, int]


@dataclass(frozen=True, slots=True)
class Band:
    start: float
    end: float
    label: str


@dataclass(frozen=True, slots=True)
class Marker:
    t: float
    label: str
    kind: str  # "sentinel" | "detected" | "recovered" | "aborted" | "closest" (a stop condition's nearest)


@dataclass(frozen=True, slots=True)
class Timeline:
    """Times here count from the load's start (the charts' left edge); `origin` is that start on the run's
    clock, which every label a person reads shows (t)."""

    duration: float
    points: tuple[Point, ...]
    bands: tuple[Band, ...]
    markers: tuple[Marker, ...]
    lost: tuple[float, ...] = ()  # when each lost acknowledged write was acknowledged
    origin: float = 0.0  # the load's start, t on the run's clock
    key_metrics: tuple[Panel, ...] = ()  # the operations documents' dashboard, from the INFO samples


def build_timeline(
    records: list[Record],
    mttd: float | None,
    mttr: float | None,
    checks: Sequence[Mapping[str, Any]] = (),
) -> Timeline:
    """`checks`: the report's, as report.json has them; a stop condition that did not trip is marked where
    it came closest."""
    history = History(tuple(records))
    origin, end = history.load_window() or (0.0, history.end)
    return Timeline(
        duration=max(end - origin, BUCKET_S),
        points=_points(history.stats, origin),
        bands=_bands(records, origin, end),
        markers=_markers(records, origin, mttd, mttr, checks),
        lost=tuple(round(t - origin, 3) for _, t in lost_writes(history).lost),
        origin=origin,
        key_metrics=key_metrics(history),
    )


def _points(stats_records: list[StatsRecord], origin: float) -> tuple[Point, ...]:
    buckets: dict[int, list[StatsRecord]] = {}
    for record in stats_records:
        if record["t"] >= origin:
            buckets.setdefault(int((record["t"] - origin) // BUCKET_S), []).append(record)
    points = []
    for index in sorted(buckets):
        stats = buckets[index]
        histogram, errors = merge_intervals(stats)
        ok = sum(s["ok"] for s in stats)
        points.append(
            Point(
                (index + 1) * BUCKET_S,
                ok / BUCKET_S,
                histogram_percentile(histogram, 0.5),
                histogram_percentile(histogram, 0.99),
                errors,
            )
        )
    return tuple(points)


def _bands(records: list[Record], origin: float, end: float) -> tuple[Band, ...]:
    """A band from each fault to what ends it: a restart of the killed node, a heal, or the load's end."""
    faults = [
        r for r in records if r["kind"] == "fault" or (r["kind"] == "fault_end" and r["action"] == "pause")
    ]
    bands = []
    for i, fault in enumerate(faults):
        if fault.get("action") in ("restart", "heal") or fault["kind"] == "fault_end":
            continue
        closing = next((f for f in faults[i + 1 :] if _ends(f, fault)), None)
        stop = float(closing["t"]) if closing else end
        what = fault.get("effect") or fault.get("action")
        target = fault.get("link") or fault.get("node")
        label = f"{what} {target}"
        if fault.get("groups"):  # a partition: who was cut from whom
            groups = fault["groups"]
            cut = "->" if fault.get("one_way") else "|"
            label = f"{what} {'+'.join(groups['between'])} {cut} {'+'.join(groups['and'])}"
        took = float(fault.get("completed") or fault["t"]) - float(fault["t"])
        if took >= 0.005:  # the action's own duration: invoked at the band's start, done this much later
            label += f" (took {took * 1000:.0f} ms)"
        bands.append(Band(float(fault["t"]) - origin, stop - origin, label))
    return tuple(bands)


def _ends(later: Record, fault: Record) -> bool:
    if later["kind"] == "fault_end":
        return bool(later.get("index") == fault.get("index"))
    if fault.get("action") == "partition":
        return later.get("action") == "heal" and later.get("link") in ("all", "partition")
    if later.get("action") == "restart":
        return bool(later.get("node") == fault.get("node"))
    if later.get("action") == "heal":
        return later.get("link") in ("all", fault.get("link"))
    return False


def _markers(
    records: list[Record],
    origin: float,
    mttd: float | None,
    mttr: float | None,
    checks: Sequence[Mapping[str, Any]],
) -> tuple[Marker, ...]:
    markers: list[Marker] = []
    seen: set[tuple[str, str]] = set()
    for record in records:
        if record["kind"] != "sentinel" or record.get("event") not in MARKED_EVENTS:
            continue
        key = (str(record["event"]), str(record.get("node")))
        if key in seen:  # every Sentinel reports it; the first report is the one that counts
            continue
        seen.add(key)
        markers.append(
            Marker(
                float(record["t"]) - origin,
                f"{record['event']} {record.get('node') or ''}".strip(),
                "sentinel",
            )
        )
    faults = [r for r in records if r["kind"] == "fault"]
    if faults:
        incident = float(faults[0]["t"]) - origin
        if mttd is not None:
            markers.append(Marker(incident + mttd, f"detected (MTTD {mttd:.2f}s)", "detected"))
        if mttr is not None:
            markers.append(Marker(incident + mttr, f"recovered (MTTR {mttr:.2f}s)", "recovered"))
    for abort in (r for r in records if r["kind"] == "abort"):  # where the guard stopped the drill
        markers.append(Marker(float(abort["t"]) - origin, f"ABORTED: {abort['condition']}", "aborted"))
    for check in checks:  # a stop condition that held back: where it came closest to tripping
        if check.get("section") == "guard" and check.get("passed") and check.get("at") is not None:
            markers.append(Marker(float(check["at"]) - origin, f"closest to {check['name']}", "closest"))
    return tuple(markers)
