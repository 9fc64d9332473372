"""Checks on the load's latency (P2 High latency)."""

from __future__ import annotations

from harness.core.histograms import histogram_percentile, merge_intervals
from harness.core.log_records import FaultRecord
from harness.runbooks.checks.common import clear_from
from harness.runbooks.checks.registry import Judge, check
from harness.runbooks.history import History
from harness.runbooks.verdict import Verdict
from harness.scenario.check_kinds import LatencyAbove, LatencyBelow

LATENCY_WINDOW_S = 2.0  # latency_below judges the p99 of this trailing window, not of one stats interval


def _slowest(
    history: History, since: float, window_s: float | None, only: str = ""
) -> list[tuple[float, int, str]]:
    """(time, p99 µs, workload) of the slowest workload (or of `only`) over the trailing `window_s` at each
    load interval after `since`; None: each interval on its own."""
    stats = [s for s in history.stats if s.get("ok", 0) > 0 and (not only or s.get("workload") == only)]
    window_s = window_s if window_s is not None else history.stats_interval / 2
    out = []
    for t in sorted({float(s["t"]) for s in stats if s["t"] >= since}):
        window = [s for s in stats if t - window_s < s["t"] <= t]
        workloads = sorted({str(s.get("workload")) for s in window})
        p99s = [
            (histogram_percentile(merge_intervals(s for s in window if s.get("workload") == w)[0], 0.99), w)
            for w in workloads
        ]
        p99, slowest = max(p99s)
        out.append((t, p99, slowest))
    return out


def workload_label(p: LatencyAbove | LatencyBelow) -> str:
    return p.workload


@check(LatencyAbove, label=workload_label)
def latency_above(p: LatencyAbove, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """The load's p99 (slowest workload, or `workload`) crosses `above` in some stats interval: a short
    burst counts. The evidence names the workload, so a drill can tell slow writes from slow reads."""
    for t, p99, workload in _slowest(history, float(incident["t"]), None, p.workload):
        if p99 > p.above * 1e6:
            over = f"{workload} p99 {p99 / 1000:.1f} ms > {p.above * 1000:g} ms"
            return judge(t, f"{over} in the interval ending {t:.2f}s")
    whose = p.workload or "the load"
    return judge(None, f"{whose}'s p99 never exceeded {p.above * 1000:g} ms after the incident")


@check(LatencyBelow, label=workload_label)
def latency_below(p: LatencyBelow, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """The load's p99 is back under `below` over trailing 2 s windows, to the end.

    One interval's p99 is its ~5th slowest call, so a single hiccup of the busy host would otherwise
    decide whether the system recovered."""
    points = [
        (t, p99 > p.below * 1e6)
        for t, p99, _ in _slowest(history, float(incident["t"]), LATENCY_WINDOW_S, p.workload)
    ]
    if not points:
        return judge.unknown(f"no load intervals of {p.workload or 'any workload'} after the incident")
    since = clear_from(points, float(incident["t"]))
    if since is None:
        return judge(None, f"p99 above {p.below * 1000:g} ms until the load ended")
    window = f"p99 (over {LATENCY_WINDOW_S:g} s windows)"
    return judge(since, f"{window} under {p.below * 1000:g} ms from {since:.2f}s to the end")
