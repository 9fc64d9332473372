"""Checks on the primary's ops/s against its baseline, and on its hit rate (from INFO over each second)."""

from __future__ import annotations

from harness.core.log_records import FaultRecord, InfoRecord
from harness.runbooks.checks.common import clear_from
from harness.runbooks.checks.registry import Judge, check
from harness.runbooks.history import History
from harness.runbooks.verdict import Verdict
from harness.scenario.check_kinds import DipAtMost, HitRateBack, HitRateBelow, OpsAbove, OpsBack


def _second_apart(rounds: list[InfoRecord], history: History) -> list[tuple[InfoRecord, InfoRecord]]:
    """(earlier, later) INFO rounds one second apart, at every round from the first second on."""
    window = max(1, round(1.0 / history.info_interval))
    return [(rounds[i - window], rounds[i]) for i in range(window, len(rounds))]


def _hit_rates(history: History, since: float) -> list[tuple[float, str, float]]:
    """(time, primary, hits / (hits + misses) over the second before it) after `since`."""
    rounds = [r for r in history.infos if r["t"] >= since]
    out = []
    for earlier, later in _second_apart(rounds, history):
        for name, node in later["nodes"].items():
            before = earlier["nodes"].get(name, {})
            if node.get("role") != "master" or "keyspace_hits" not in node or "keyspace_hits" not in before:
                continue
            hits = node["keyspace_hits"] - before["keyspace_hits"]
            misses = node["keyspace_misses"] - before["keyspace_misses"]
            if hits + misses > 0:
                out.append((float(later["t"]), name, hits / (hits + misses)))
    return out


@check(HitRateBelow)
def hit_rate_below(p: HitRateBelow, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """The primary's hit rate over a second falls under `below`."""
    for t, name, rate in _hit_rates(history, float(incident["t"])):
        if rate < p.below:
            return judge(t, f"{name} hit rate {rate:.1%} over the second to {t:.2f}s (< {p.below:.0%})")
    return judge(None, f"the primary's hit rate stayed at or above {p.below:.0%} after the incident")


@check(HitRateBack)
def hit_rate_back(p: HitRateBack, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """The primary's hit rate over each second is back above `above` and stays there to the end."""
    rates = _hit_rates(history, float(incident["t"]))
    if not rates:
        return judge.unknown("no read of the primary was sampled after the incident")
    since = clear_from([(t, rate <= p.above) for t, _, rate in rates], float(incident["t"]))
    if since is None:
        return judge(None, f"the primary's hit rate at or under {p.above:.0%} until the end")
    return judge(since, f"the primary's hit rate above {p.above:.0%} from {since:.2f}s to the end")


def _primary_ops(history: History) -> list[tuple[float, float]]:
    """(time, commands/s of the primary over the second before it), from INFO total_commands_processed."""
    out = []
    for earlier, later in _second_apart(history.infos, history):
        for name, node in later["nodes"].items():
            before = earlier["nodes"].get(name, {})
            if (
                node.get("role") == "master"
                and "total_commands_processed" in node
                and before.get("role") == "master"
            ):
                done = node["total_commands_processed"] - before.get("total_commands_processed", 0)
                out.append((float(later["t"]), done / (float(later["t"]) - float(earlier["t"]))))
    return out


def _ops_baseline(history: History, incident: FaultRecord) -> float | None:
    """The primary's median commands/s while the load ran before the incident."""
    window = history.load_window()
    start = window[0] if window else 0.0
    before = sorted(rate for t, rate in _primary_ops(history) if start + 1.0 <= t < float(incident["t"]))
    return before[len(before) // 2] if before else None


NO_BASELINE = "no ops/s baseline: the load ran less than a second before the incident"


def _ops_above_label(p: OpsAbove) -> str:
    return f"+{p.above:.0%}"  # a runbook may check both the warning and the critical level


@check(OpsAbove, label=_ops_above_label)
def ops_above(p: OpsAbove, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """The primary's ops/s rises more than `above` over its baseline (median before the incident)."""
    baseline = _ops_baseline(history, incident)
    if not baseline:
        return judge.unknown(NO_BASELINE)
    for t, rate in _primary_ops(history):
        if t >= float(incident["t"]) and rate > baseline * (1 + p.above):
            return judge(
                t, f"primary at {rate:,.0f} ops/s, {rate / baseline - 1:+.0%} on its baseline {baseline:,.0f}"
            )
    return judge(None, f"the primary stayed within +{p.above:.0%} of its baseline {baseline:,.0f} ops/s")


def _ops_back_label(p: OpsBack) -> str:
    return f"+{p.below:.0%}"


@check(OpsBack, label=_ops_back_label)
def ops_back(p: OpsBack, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """The primary's ops/s is back within `below` of its baseline and stays there to the end of the load."""
    baseline = _ops_baseline(history, incident)
    if not baseline:
        return judge.unknown(NO_BASELINE)
    window = history.load_window()
    end = window[1] if window else float("inf")
    points = [
        (t, rate > baseline * (1 + p.below))
        for t, rate in _primary_ops(history)
        if float(incident["t"]) <= t <= end
    ]
    since = clear_from(points, float(incident["t"]))
    if since is None:
        return judge(
            None, f"the primary above +{p.below:.0%} of its baseline {baseline:,.0f} ops/s to the end"
        )
    return judge(
        since, f"within +{p.below:.0%} of the baseline {baseline:,.0f} ops/s from {since:.2f}s to the end"
    )


@check(DipAtMost)
def throughput_dip(p: DipAtMost, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """The load's acknowledged ops/s (the clients' own count) in its worst 1 s window from the incident to
    the incident fault's end (or the load's), against its median window before the incident: the dip, as a
    share of that baseline, must stay within `at_most`."""
    window = history.load_window()
    if window is None:
        return judge.unknown("the log has no load")
    start, stop = window
    end = next((float(e["t"]) for e in history.fault_ends if e["index"] == incident["index"]), stop)
    # Second s holds the stats drained at about s + 0.5 and s + 1 (each covers the STATS_INTERVAL_S before
    # it): the load's ops in (s, s + 1] after its start.
    per_second: dict[int, int] = {}
    for record in history.stats:
        second = int(record["t"] - start - 0.25)
        per_second[second] = per_second.get(second, 0) + record["ok"]
    t0, t1, last = float(incident["t"]) - start, end - start, stop - start
    before = sorted(n for s, n in per_second.items() if s >= 1 and s + 1 <= t0)  # the first: ramp-up
    during = [(n, s) for s, n in per_second.items() if s + 1 > t0 and s < t1 and s + 1 <= last]
    if not before or not during:
        return judge.unknown("no whole second of load before the incident, or none during it")
    baseline = before[len(before) // 2]
    worst, second = min(during)
    dip = max(0.0, 1 - worst / baseline) if baseline else 0.0
    evidence = (
        f"worst 1 s window {worst:,} ops (from {second - t0:+.1f}s of the incident) against a baseline of"
        f" {baseline:,}: a dip of {dip:.0%}"
    )
    return judge.bounded(round(dip, 3), p.at_most, "share", evidence)
