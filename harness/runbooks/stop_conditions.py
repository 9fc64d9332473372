"""Stop conditions judged over the observation log (pure): when one first tripped and on what evidence. The
drill's guard (harness/run/guard.py) runs them live over the log as it grows and aborts the drill; `drill
evaluate` runs them again over the stored log and gets the same answer."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.runbooks.history import History
from harness.runbooks.verdict import Verdict
from harness.scenario.model import StopCondition
from harness.scenario.stop_kinds import (
    AlertFiring,
    ClusterState,
    ErrorRate,
    Latency,
    MaxDuration,
    MemoryAbove,
    NodeDown,
    NoPrimary,
    OpsBelow,
    ReplicationBroken,
)


@dataclass(frozen=True, slots=True)
class Trip:
    t: float  # log time at which the condition held
    evidence: str


@dataclass(frozen=True, slots=True)
class Closest:
    """The moment a condition that did not trip came nearest to tripping, for the report's timeline."""

    t: float
    text: str  # e.g. "error_rate peaked at 3% (t=4.50s)"


@dataclass(frozen=True, slots=True)
class Reading:
    """What the condition looks like now, for the live progress line, and the closest it came so far."""

    tripped: Trip | None
    now: str  # e.g. "error_rate 12%"
    closest: Closest | None = None


def judge(condition: StopCondition, history: History, now: float) -> Reading:
    return JUDGES[condition.kind](condition.params, history, now)


def _error_rate(params: ErrorRate, history: History, now: float) -> Reading:
    """Every stats interval of a run at least `for` long had more than `above` of its operations failed or
    left uncertain (the load's own counts, every workload and process together)."""
    intervals = _intervals(history)
    shares = [(t, (total - ok) / total if total else 0.0) for t, ok, total, _ in intervals]
    last = f"error_rate {shares[-1][1]:.0%}" if shares else "error_rate -"
    above = [(t, share > params.above) for t, share in shares]
    held = _held(above, params.seconds, history.stats_interval)
    if held is None:
        closest = _longest(
            _runs(above, history.stats_interval, f"error_rate above {params.above:.0%}"), params.seconds
        )
        return Reading(None, last, closest or _peak(shares, "error_rate", lambda v: f"{v:.0%}"))
    since, t = held
    window = [(ok, total) for at, ok, total, _ in intervals if since < at <= t]
    failed, seen = sum(total - ok for ok, total in window), sum(total for _, total in window)
    evidence = (
        f"more than {params.above:.0%} of the load's operations failed or were uncertain in every "
        f"{history.stats_interval:g}s interval from {since:.2f}s to {t:.2f}s ({failed:,} of {seen:,})"
    )
    return Reading(Trip(t, evidence), last)


def _no_primary(params: NoPrimary, history: History, now: float) -> Reading:
    """No data node answered INFO as a primary (on a cluster: for some shard) in every sample of a run at
    least `for` long."""
    shards = history.topologies[0].get("shards", []) if history.topologies else []

    def missing(nodes: dict[str, Any]) -> str:
        primaries = {name for name, info in nodes.items() if info.get("role") == "master"}
        if shards:
            lacking = [s["primary"] for s in shards if not primaries & {s["primary"], *s["replicas"]}]
            return f"no node answered as the primary of {lacking[0]}'s shard" if lacking else ""
        return "" if primaries else "no node answered as the primary"

    return Reading(*_info_run(history, params.seconds, missing))


def _intervals(history: History) -> list[tuple[float, int, int, int]]:
    """The load per stats interval, every workload and process together: (t of its latest record, ok,
    operations, the slowest workload's p99 µs)."""
    interval = history.stats_interval
    buckets: dict[int, list[float]] = defaultdict(lambda: [0.0, 0, 0, 0])
    for record in history.stats:
        t = float(record["t"])
        bucket = buckets[round(t / interval)]
        bucket[0] = max(bucket[0], t)
        bucket[1] += record["ok"]
        bucket[2] += record["ok"] + record["fail"] + record["info"]
        bucket[3] = max(bucket[3], record["p99_us"])
    return [(b[0], int(b[1]), int(b[2]), int(b[3])) for _, b in sorted(buckets.items())]


def _held(samples: list[tuple[float, bool]], seconds: float, step: float) -> tuple[float, float] | None:
    """The first run of consecutive samples (t, holds) that held for `seconds`: (its start, the sample at
    which it had held long enough). `step`: the time each sample covers (its start is t - step)."""
    return next(((a, b) for a, b, _ in _runs(samples, step, "") if b - a >= seconds - 1e-9), None)


def _latency(params: Latency, history: History, now: float) -> Reading:
    intervals = _intervals(history)
    limit_us = params.p99_above * 1e6
    slow = [(t, p99 > limit_us) for t, _, _, p99 in intervals]
    held = _held(slow, params.seconds, history.stats_interval)
    last = f"p99 {intervals[-1][3] / 1000:.1f} ms" if intervals else "p99 -"
    if held is None:
        p99s = [(t, p99 / 1e6) for t, _, _, p99 in intervals]
        above = f"p99 above {params.p99_above * 1000:g} ms"
        closest = _longest(_runs(slow, history.stats_interval, above), params.seconds)
        return Reading(None, last, closest or _peak(p99s, "p99", lambda v: f"{v * 1000:.1f} ms"))
    since, t = held
    evidence = (
        f"the load's p99 was above {params.p99_above * 1000:g} ms in every interval from {since:.2f}s to "
        f"{t:.2f}s"
    )
    return Reading(Trip(t, evidence), last)


def _ops_below(params: OpsBelow, history: History, now: float) -> Reading:
    faults = history.faults
    intervals = _intervals(history)
    if not faults:
        return Reading(None, "no fault yet")
    first = min(float(f["t"]) for f in faults)
    before = sorted(ok for t, ok, _, _ in intervals if t <= first)
    if not before:
        return Reading(None, "no baseline")
    baseline = before[len(before) // 2]
    after = [(t, ok) for t, ok, _, _ in intervals if t > first]
    held = _held(
        [(t, ok < params.ratio * baseline) for t, ok in after], params.seconds, history.stats_interval
    )
    last = f"ops {after[-1][1] / baseline:.0%} of baseline" if after and baseline else "ops -"
    if held is None:
        # The lowest throughput: nearer as it falls (below the ratio, held for `for`, it would trip).
        low = min(after, key=lambda interval: interval[1], default=None) if baseline else None
        closest = (
            Closest(low[0], f"ops fell to {low[1] / baseline:.0%} of baseline (t={low[0]:.2f}s)")
            if low
            else None
        )
        return Reading(None, last, closest)
    since, t = held
    evidence = (
        f"acknowledged operations under {params.ratio:.0%} of the baseline ({baseline} per interval, the "
        f"median before the first fault) in every interval from {since:.2f}s to {t:.2f}s"
    )
    return Reading(Trip(t, evidence), last)


def _peak(values: list[tuple[float, float]], name: str, show: Callable[[float], str]) -> Closest | None:
    """The highest of (t, value)."""
    if not values:
        return None
    t, value = max(values, key=lambda pair: pair[1])
    return Closest(t, f"{name} peaked at {show(value)} (t={t:.2f}s)")


def _runs(samples: list[tuple[float, bool]], step: float, what: str) -> list[tuple[float, float, str]]:
    """Each run of consecutive samples (t, holds) that held: (its start, its last sample, what)."""
    runs: list[tuple[float, float, str]] = []
    since: float | None = None
    for t, holds in samples:
        since = None if not holds else (t - step if since is None else since)
        if since is not None:
            runs.append((since, t, what))
    return runs


def _longest(runs: list[tuple[float, float, str]], seconds: float) -> Closest | None:
    """The longest of the runs (since, until, what) a held condition saw, against the `for` it needs."""
    if not runs:
        return None
    since, until, what = max(runs, key=lambda run: run[1] - run[0])
    return Closest(until, f"{what} for {until - since:.2f}s of {seconds:g}s (t={since:.2f}s to {until:.2f}s)")


def _info_run(
    history: History, seconds: float, broken: Callable[[dict[str, Any]], str]
) -> tuple[Trip | None, str, Closest | None]:
    """The first run of INFO samples at least `seconds` long in which broken(nodes) names something, else
    the longest such run seen."""
    since: float | None = None
    what = ""
    runs: list[tuple[float, float, str]] = []
    for record in history.infos:
        t = float(record["t"])
        what = broken(record["nodes"])
        if not what:
            since = None
            continue
        since = t if since is None else since
        if t - since >= seconds:
            return Trip(t, f"{what} from {since:.2f}s to {t:.2f}s"), what, None
        runs.append((since, t, what))
    return None, what or "ok", _longest(runs, seconds)


def _replication_broken(params: ReplicationBroken, history: History, now: float) -> Reading:
    def broken(nodes: dict[str, Any]) -> str:
        down = sorted(
            n for n, i in nodes.items() if i.get("role") == "slave" and i.get("link") not in (None, "up")
        )
        return f"{', '.join(down)}'s link to its primary down" if down else ""

    return Reading(*_info_run(history, params.seconds, broken))


def _memory_above(params: MemoryAbove, history: History, now: float) -> Reading:
    def over(nodes: dict[str, Any]) -> str:
        for name, info in sorted(nodes.items()):
            used, limit = info.get("used_memory"), info.get("maxmemory")
            if used and limit and used / limit > params.above:
                return f"{name} at {used / limit:.0%} of maxmemory"
        return ""

    trip, now_text, _ = _info_run(history, 0.0, over)
    if trip is not None:
        return Reading(trip, now_text)
    shares = [
        (float(record["t"]), info["used_memory"] / info["maxmemory"])
        for record in history.infos
        for info in record["nodes"].values()
        if info.get("used_memory") and info.get("maxmemory")
    ]
    return Reading(None, now_text, _peak(shares, "memory", lambda v: f"{v:.0%} of maxmemory"))


def _node_down(params: NodeDown, history: History, now: float) -> Reading:
    def down(nodes: dict[str, Any]) -> str:
        silent = sorted(n for n, i in nodes.items() if "error" in i and params.node in ("any", n))
        return f"{', '.join(silent)} not answering" if silent else ""

    return Reading(*_info_run(history, params.seconds, down))


def _cluster_state(params: ClusterState, history: History, now: float) -> Reading:
    states: dict[str, str] = {}
    since: float | None = None
    runs: list[tuple[float, float, str]] = []
    for record in history.cluster_views:
        if "state" in record:
            states[record["node"]] = record["state"]
        failing = sorted(n for n, s in states.items() if s != "ok")
        t = float(record["t"])
        if not failing:
            since = None
            continue
        since = t if since is None else since
        if t - since >= params.seconds:
            evidence = f"{', '.join(failing)} reported cluster_state fail from {since:.2f}s to {t:.2f}s"
            return Reading(Trip(t, evidence), "cluster_state fail")
        runs.append((since, t, "cluster_state fail"))
    return Reading(
        None,
        "cluster_state ok" if since is None else f"cluster_state fail for {now - since:.1f}s",
        _longest(runs, params.seconds),
    )


def _alert(params: AlertFiring, history: History, now: float) -> Reading:
    """Prometheus reported the alert firing (for the node, or any): the first such state change."""
    firing = [
        a
        for a in history.alerts
        if a["name"] == params.name and a["state"] == "firing" and params.node in ("any", a["node"])
        and float(a["t"]) <= now
    ]  # fmt: skip
    if firing:
        first = firing[0]
        return Reading(Trip(float(first["t"]), f"{params.name} firing for {first['node']}"), "firing")
    return Reading(None, f"{params.name} not firing")


def _max_duration(params: MaxDuration, history: History, now: float) -> Reading:
    start = float(history.run["t"]) if history.run else 0.0
    if now - start >= params.seconds:
        return Reading(Trip(start + params.seconds, f"the drill ran for {params.seconds:g}s"), f"{now:.0f}s")
    return Reading(None, f"{now - start:.0f}s of {params.seconds:g}s")


JUDGES: dict[str, Callable[..., Reading]] = {
    "error_rate": _error_rate,
    "no_primary": _no_primary,
    "latency": _latency,
    "ops_below": _ops_below,
    "replication_broken": _replication_broken,
    "memory_above": _memory_above,
    "node_down": _node_down,
    "cluster_state": _cluster_state,
    "alert": _alert,
    "max_duration": _max_duration,
}


def stop_verdicts(conditions: tuple[StopCondition, ...], history: History) -> list[Verdict]:
    """Each stop condition judged again over the stored log, up to where the drill stopped (its abort, or
    the load's end): a tripped one fails and names the abort."""
    aborts = history.aborts
    window = history.load_window()
    until = float(aborts[0]["t"]) if aborts else (window[1] if window else history.end)
    verdicts = []
    for condition in conditions:
        reading = judge(condition, history, until)
        trip, closest = reading.tripped, reading.closest
        if trip:
            evidence = f"tripped at {trip.t:.3f}s: {trip.evidence}"
        elif closest:
            evidence = f"did not trip; closest: {closest.text}"
        else:
            evidence = f"did not trip ({reading.now} at the end)"
        verdicts.append(
            Verdict(
                f"abort_if: {condition.label}",
                "scenario",
                "guard",
                trip is None,
                None if trip is None else round(trip.t, 6),
                None,
                "s",
                evidence,
                at=trip.t if trip else (closest.t if closest else None),
                quantity=True,
            )
        )
    return verdicts
