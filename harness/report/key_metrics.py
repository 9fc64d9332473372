"""The operations documents' key-metrics dashboard from the drill's INFO samples (pure): six metrics per data
node on the drill's clock, each judged against its healthy / warning / critical bands (shared/SEED-FACTS.md,
"Key metrics and thresholds"), with the moments a node crosses into a worse band and the worst band each
metric reached."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from statistics import median
from typing import Any

from harness.runbooks.history import History

RATE_WINDOW_S = 1.0  # CPU, ops/s and hit rate: over the last second of samples, not one 0.25 s step
MIN_LOOKUPS = 20  # a hit rate over fewer keyspace lookups than this in its window says nothing
BANDS = ("healthy", "warning", "critical")


@dataclass(frozen=True, slots=True)
class Metric:
    key: str
    title: str
    unit: str  # "%" or "s"
    warning: float  # where the warning band starts
    critical: float  # where the critical band starts
    lower_is_worse: bool = False  # hit rate: the bands run downwards

    def band(self, value: float) -> str:
        if self.lower_is_worse:
            return "critical" if value < self.critical else "warning" if value <= self.warning else "healthy"
        return "critical" if value > self.critical else "warning" if value >= self.warning else "healthy"

    def show(self, value: float) -> str:
        return f"{value:.2f}s" if self.unit == "s" else f"{value:.0f}%"


METRICS = (
    Metric("memory", "memory used / maxmemory", "%", 75.0, 90.0),
    Metric("cpu", "CPU (used_cpu_sys + used_cpu_user per second)", "%", 70.0, 85.0),
    Metric("connections", "connected clients / maxclients", "%", 80.0, 95.0),
    Metric("hit_rate", "hit rate hits / (hits + misses)", "%", 95.0, 90.0, lower_is_worse=True),
    Metric("replication_lag", "replication lag (time behind the primary's offset)", "s", 1.0, 10.0),
    Metric("ops", "ops/s against the node's baseline before the first fault", "%", 150.0, 200.0),
)


@dataclass(frozen=True, slots=True)
class Crossing:
    t: float  # run clock
    node: str
    band: str  # warning | critical
    value: float


@dataclass(frozen=True, slots=True)
class Panel:
    metric: Metric
    series: tuple[tuple[str, tuple[tuple[float, float], ...]], ...]  # (node, ((t, value), ...))
    crossings: tuple[Crossing, ...]

    @property
    def worst(self) -> Crossing | None:
        """The first moment the worst band any node reached was reached (None: healthy, or no data)."""
        for band in ("critical", "warning"):
            found = [c for c in self.crossings if c.band == band]
            if found:
                return min(found, key=lambda c: c.t)
        return None

    @property
    def has_data(self) -> bool:
        return any(points for _, points in self.series)


def key_metrics(history: History) -> tuple[Panel, ...]:
    """Up to the load's end: what the read-back and teardown do after it (MGETs of every key) is not the
    drill's traffic."""
    window = history.load_window()
    until = window[1] if window else float("inf")
    samples = [(float(r["t"]), r["nodes"]) for r in history.infos if float(r["t"]) <= until]
    nodes = sorted({name for _, per_node in samples for name in per_node})
    faults = history.faults
    first_fault = float(faults[0]["t"]) if faults else float("inf")
    panels = []
    for metric in METRICS:
        series = []
        for node in nodes:
            mine = [
                (t, per_node[node])
                for t, per_node in samples
                if "error" not in per_node.get(node, {"error": 1})
            ]
            series.append((node, tuple(_values(metric.key, node, mine, samples, first_fault))))
        panels.append(Panel(metric, tuple(series), tuple(_crossings(metric, series))))
    return tuple(panels)


def _values(
    key: str,
    node: str,
    mine: list[tuple[float, dict[str, Any]]],
    samples: list[tuple[float, dict[str, Any]]],
    first_fault: float,
) -> list[tuple[float, float]]:
    if key == "memory":
        return [
            (t, 100.0 * _f(i, "used_memory") / _f(i, "maxmemory")) for t, i in mine if _f(i, "maxmemory") > 0
        ]
    if key == "connections":
        return [
            (t, 100.0 * _f(i, "connected_clients") / _f(i, "maxclients"))
            for t, i in mine
            if _f(i, "maxclients") > 0
        ]
    if key == "replication_lag":
        return _lag(node, samples)
    if key == "cpu":
        return _rate(
            mine, lambda i: _f(i, "used_cpu_sys") + _f(i, "used_cpu_user"), lambda d, s: 100.0 * d / s
        )
    if key == "hit_rate":
        return _hit_rate(mine)
    ops = _rate(mine, lambda i: _f(i, "total_commands_processed"), lambda d, s: d / s)
    before = [v for t, v in ops if t < first_fault]
    baseline = median(before) if before else 0.0
    return [(t, 100.0 * v / baseline) for t, v in ops] if baseline > 0 else []


def _share(mine: list[tuple[float, dict[str, Any]]], used: str, limit: str) -> list[tuple[float, float]]:
    return [(t, 100.0 * _f(i, used) / _f(i, limit)) for t, i in mine if _f(i, limit) > 0]


def _f(info: dict[str, Any], field: str) -> float:
    try:
        return float(info.get(field) or 0)
    except (TypeError, ValueError):
        return 0.0


def _rate(
    mine: list[tuple[float, dict[str, Any]]],
    counter: Callable[[dict[str, Any]], float],
    scale: Callable[[float, float], float],
) -> list[tuple[float, float]]:
    """Each sample against the latest one at least RATE_WINDOW_S older (a restart resets the counters: no
    point across it)."""
    out = []
    start = 0
    for t, info in mine:
        while start + 1 < len(mine) and t - mine[start + 1][0] >= RATE_WINDOW_S:
            start += 1
        then, old = mine[start]
        delta = counter(info) - counter(old)
        if t - then >= RATE_WINDOW_S and delta >= 0:
            out.append((t, scale(delta, t - then)))
    return out


def _hit_rate(mine: list[tuple[float, dict[str, Any]]]) -> list[tuple[float, float]]:
    hits = dict(_rate(mine, lambda i: _f(i, "keyspace_hits"), lambda d, s: d))
    lookups = _rate(mine, lambda i: _f(i, "keyspace_hits") + _f(i, "keyspace_misses"), lambda d, s: d)
    return [(t, 100.0 * hits[t] / n) for t, n in lookups if n >= MIN_LOOKUPS and t in hits]


def _lag(node: str, samples: list[tuple[float, dict[str, Any]]]) -> list[tuple[float, float]]:
    """How far behind its primary the node is, in time, while it replicates: now minus when the primary's
    offset was where the replica's is now (both from the samples). INFO's own `lag` is the age of the last
    REPLCONF ACK, sent every second, so it reads 1 s on a replica that is fully caught up."""
    offsets: dict[str, list[tuple[float, float]]] = {}  # primary -> its (t, master_repl_offset), rising
    out = []
    for t, per_node in samples:
        for name, info in per_node.items():
            if info.get("role") == "master":
                offsets.setdefault(name, []).append((t, _f(info, "offset")))
        mine = per_node.get(node, {})
        seen = offsets.get(str(mine.get("primary")), [])
        if mine.get("role") != "slave" or "error" in mine or not seen:
            continue
        where = _f(mine, "offset")
        if where >= seen[-1][1]:
            out.append((t, 0.0))
            continue
        caught = bisect_left(seen, where, key=lambda sample: sample[1])
        out.append((t, t - seen[caught][0]))
    return out


def _crossings(metric: Metric, series: list[tuple[str, tuple[tuple[float, float], ...]]]) -> list[Crossing]:
    """Each time a node's value moves into a worse band than its previous sample's."""
    out = []
    for node, points in series:
        previous = "healthy"
        for t, value in points:
            band = metric.band(value)
            if BANDS.index(band) > BANDS.index(previous):
                out.append(Crossing(t, node, band, value))
            previous = band
    return sorted(out, key=lambda c: c.t)


@dataclass(frozen=True, slots=True)
class KeyMetricSummary:
    """What report.json and the terminal say of one metric: the worst band reached, where and when."""

    metric: str
    worst: str  # healthy | warning | critical | no data
    text: str
    node: str | None = None
    value: float | None = None
    t: float | None = None
    crossings: int = 0


def summarize(panels: tuple[Panel, ...]) -> tuple[KeyMetricSummary, ...]:
    out = []
    for panel in panels:
        worst = panel.worst
        band = "no data" if not panel.has_data else worst.band if worst else "healthy"
        text = worst_text(panel)
        if worst is None:
            out.append(KeyMetricSummary(panel.metric.key, band, text))
        else:
            value = round(worst.value, 3)
            crossed = len(panel.crossings)
            out.append(KeyMetricSummary(panel.metric.key, band, text, worst.node, value, worst.t, crossed))
    return tuple(out)


def worst_text(panel: Panel) -> str:
    """One line per metric for the terminal and report.json: the worst band reached, where and when."""
    if not panel.has_data:
        return "no data"
    worst = panel.worst
    if worst is None:
        return "healthy throughout"
    return f"{worst.band}: {worst.node} {panel.metric.show(worst.value)} at t={worst.t:.2f}s"
