"""Checks for failover under partial failures: partitions, paused primaries, split brain, quorum loss."""

from __future__ import annotations

from typing import Any

from harness.core.log_records import FaultRecord, InfoRecord
from harness.runbooks.checks.registry import Judge, check
from harness.runbooks.checks.writes import WRITE_KINDS, reply_label
from harness.runbooks.history import History
from harness.runbooks.lost_writes import lost_writes
from harness.runbooks.verdict import Verdict
from harness.scenario.check_kinds import LostWindow, NoParams, Reply, Window
from harness.scenario.durations import Bound, format_seconds


@check(Window)
def no_failover(p: Window, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """No Sentinel reports +switch-master in the window: for drills where not failing over is right."""
    start = float(incident["t"])
    end = start + p.window if p.window else history.end
    switch = history.first("sentinel", start, event="+switch-master")
    if switch is not None and float(switch["t"]) <= end:
        return judge(
            None, f"{switch['sentinel']} reported +switch-master to {switch.get('new')} at {switch['t']:.3f}s"
        )
    span = f"in the {format_seconds(p.window)} after the incident" if p.window else "to the end of the drill"
    return judge(start, f"no Sentinel reported +switch-master {span}")


@check(Reply, label=reply_label)
def writes_refused(p: Reply, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """A write is refused with this error class (NOREPLICAS: the primary lost its replicas)."""
    since = float(incident["t"])
    for record in history.ops:
        if (
            record["t"] >= since
            and record["type"] == "fail"
            and record.get("error") == p.reply
            and record.get("f") in WRITE_KINDS
        ):
            return judge(float(record["t"]), f"{record['f']} {record.get('key', '')} refused with {p.reply}")
    for stats in history.stats:
        if stats["t"] >= since and p.reply in stats.get("errors", {}):
            return judge(
                float(stats["t"]), f"{p.reply} replies in the load's interval ending {stats['t']:.2f}s"
            )
    return judge(None, f"no write was refused with {p.reply} after the incident")


@check(LostWindow)
def lost_writes_within(p: LostWindow, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """Every lost acknowledged write was acknowledged within `window` of the incident (what
    min-replicas-max-lag promises: a cut-off primary stops accepting writes after that long)."""
    lost = lost_writes(history)
    if lost.error:
        return judge.unknown(f"which writes were lost is not known: {lost.error}")
    start = float(incident["t"])
    window = p.window.resolve(judge.settings)
    if not lost.lost:
        return judge.bounded(0.0, window, "s", f"no acknowledged write lost of {lost.acknowledged}")
    latest = max(t for _, t in lost.lost) - start
    earliest = min(t for _, t in lost.lost) - start
    evidence = (
        f"{len(lost.lost)} lost, acknowledged from {earliest:+.3f}s to {latest:+.3f}s after the incident "
        f"(window {_shown(p.window, window)})"
    )
    return judge.bounded(round(latest, 6), window, "s", evidence)


def _shown(bound: Bound, seconds: float) -> str:
    return f"{bound} = {format_seconds(seconds)}" if bound.names else format_seconds(seconds)


def _rounds(history: History, since: float) -> list[InfoRecord]:
    return [r for r in history.infos if r["t"] >= since]


def _primaries(round_: InfoRecord) -> list[str]:
    nodes: dict[str, dict[str, Any]] = round_["nodes"]
    return sorted(name for name, n in nodes.items() if "error" not in n and n.get("role") == "master")


@check(NoParams)
def single_primary(p: NoParams, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """From some sample to the end, exactly one node answers as primary; says how long two did."""
    rounds = _rounds(history, float(incident["t"]))
    if not rounds:
        return judge.unknown("no INFO samples after the incident")
    several = [r for r in rounds if len(_primaries(r)) > 1]
    split = ""
    if several:
        names = sorted({n for r in several for n in _primaries(r)})
        split = (
            f"; {' and '.join(names)} both answered as primary from {several[0]['t']:.2f}s to "
            f"{several[-1]['t']:.2f}s ({len(several)} samples)"
        )
    if len(_primaries(rounds[-1])) != 1:
        return judge(
            None, f"{len(_primaries(rounds[-1]))} primaries at the end ({_primaries(rounds[-1])}){split}"
        )
    start = len(rounds) - 1
    while start > 0 and len(_primaries(rounds[start - 1])) == 1:
        start -= 1
    return judge(
        float(rounds[start]["t"]),
        f"{_primaries(rounds[-1])[0]} the only primary from {rounds[start]['t']:.2f}s{split}",
    )


def _agreement(round_: InfoRecord, old: str | None) -> str | None:
    """The primary every Sentinel names in this sample, if they agree and the old primary replicates from
    it; else None."""
    views = set(round_.get("sentinels", {}).values())
    if len(views) != 1 or None in views:
        return None
    primary = next(iter(views))
    if old and old != primary:
        node = round_["nodes"].get(old, {})
        if node.get("role") != "slave" or node.get("primary") != primary:
            return None
    return str(primary)


@check(NoParams)
def sentinels_agree(p: NoParams, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """At the end every Sentinel names the same primary, and the incident's node replicates from it."""
    rounds = [r for r in _rounds(history, float(incident["t"])) if "sentinels" in r]
    if not rounds:
        return judge.unknown("the log has no Sentinel views (sampled from schema 2 on)")
    old = incident.get("node")
    last = rounds[-1]
    if _agreement(last, old) is None:
        views = ", ".join(f"{s}: {v or 'no answer'}" for s, v in sorted(last["sentinels"].items()))
        node = last["nodes"].get(old, {}) if old else {}
        where = f"; {old} is {node.get('role', 'unknown')} of {node.get('primary', '-')}" if old else ""
        return judge(None, f"at the end: {views}{where}")
    start = len(rounds) - 1
    while start > 0 and _agreement(rounds[start - 1], old) is not None:
        start -= 1
    primary = _agreement(last, old)
    with_old = f", {old} its replica" if old and old != primary else ""
    return judge(
        float(rounds[start]["t"]), f"every Sentinel names {primary}{with_old} from {rounds[start]['t']:.2f}s"
    )
