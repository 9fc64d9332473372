"""Stop conditions judged over the observation log (pure): when one first tripped and on what evidence. The
drill's guard (harness/run/guard.py) runs them live over the log as it grows and aborts the drill; `drill
evaluate` runs them again over the stored log and gets the same answer."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from harness.runbooks.history import History
from harness.runbooks.verdict import Verdict
from harness.scenario.model import StopCondition
from harness.scenario.stop_kinds import ErrorRate, MaxDuration, NoPrimary


@dataclass(frozen=True, slots=True)
class Trip:
    t: float  # log time at which the condition held
    evidence: str


@dataclass(frozen=True, slots=True)
class Reading:
    """What the condition looks like now, for the live progress line."""

    tripped: Trip | None
    now: str  # e.g. "error_rate 12% (above 5% for 1s)"


def judge(condition: StopCondition, history: History, now: float) -> Reading:
    return JUDGES[condition.kind](condition.params, history, now)


def _error_rate(params: ErrorRate, history: History, now: float) -> Reading:
    """Every stats interval of a run at least `for` long had more than `above` of its operations failed or
    left uncertain (the load's own counts, every workload and process together)."""
    interval = history.stats_interval
    # Per interval (records of every workload and process written within the same interval): operations,
    # failed or uncertain ones, and the latest record's time (when the interval's figures were known).
    buckets: dict[int, list[float]] = defaultdict(lambda: [0, 0, 0.0])
    for record in history.stats:
        t = float(record["t"])
        bucket = buckets[round(t / interval)]
        bucket[0] += record["ok"] + record["fail"] + record["info"]
        bucket[1] += record["fail"] + record["info"]
        bucket[2] = max(bucket[2], t)
    last = 0.0
    first: int | None = None  # the first interval of the current run above the share
    previous: int | None = None
    seen = failed = 0.0
    for key in sorted(buckets):
        total, bad, t = buckets[key]
        last = bad / total if total else 0.0
        if not (total and last > params.above):
            first, previous = None, key
            continue
        if first is None or previous != key - 1:
            first, seen, failed = key, 0.0, 0.0
        seen, failed, previous = seen + total, failed + bad, key
        if (key - first + 1) * interval >= params.seconds:
            since = buckets[first][2] - interval
            evidence = (
                f"more than {params.above:.0%} of the load's operations failed or were uncertain in every "
                f"{interval:g}s interval from {since:.2f}s to {t:.2f}s ({failed:,.0f} of {seen:,.0f})"
            )
            return Reading(Trip(t, evidence), f"error_rate {last:.0%}")
    return Reading(None, f"error_rate {last:.0%}")


def _no_primary(params: NoPrimary, history: History, now: float) -> Reading:
    """No data node answered INFO as a primary (on a cluster: for some shard) in every sample of a run at
    least `for` long."""
    shards = history.topologies[0].get("shards", []) if history.topologies else []
    since: float | None = None
    missing = ""
    for record in history.infos:
        nodes = record["nodes"]
        primaries = {name for name, info in nodes.items() if info.get("role") == "master"}
        if shards:
            lacking = [s["primary"] for s in shards if not primaries & {s["primary"], *s["replicas"]}]
            missing = f"{lacking[0]}'s shard" if lacking else ""
        else:
            missing = "the topology" if not primaries else ""
        t = float(record["t"])
        if not missing:
            since = None
            continue
        since = t if since is None else since
        if t - since >= params.seconds:
            evidence = f"no node answered as the primary of {missing} from {since:.2f}s to {t:.2f}s"
            return Reading(Trip(t, evidence), f"no primary for {t - since:.1f}s")
    held = f"no primary for {now - since:.1f}s" if since is not None else "a primary answers"
    return Reading(None, held)


def _max_duration(params: MaxDuration, history: History, now: float) -> Reading:
    start = float(history.run["t"]) if history.run else 0.0
    if now - start >= params.seconds:
        return Reading(Trip(start + params.seconds, f"the drill ran for {params.seconds:g}s"), f"{now:.0f}s")
    return Reading(None, f"{now - start:.0f}s of {params.seconds:g}s")


JUDGES: dict[str, Callable[..., Reading]] = {
    "error_rate": _error_rate,
    "no_primary": _no_primary,
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
        trip = reading.tripped
        evidence = (
            f"tripped at {trip.t:.3f}s: {trip.evidence}"
            if trip
            else f"did not trip ({reading.now} at the end)"
        )
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
                at=None if trip is None else trip.t,
                quantity=True,
            )
        )
    return verdicts
