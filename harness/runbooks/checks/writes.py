"""Checks on the load's writes and errors."""

from __future__ import annotations

from harness.core.log_records import FaultRecord, OpRecord, StatsRecord
from harness.core.slots import key_slot
from harness.runbooks.checks.cluster import cluster_failover, shard_of
from harness.runbooks.checks.registry import Judge, check
from harness.runbooks.history import History
from harness.runbooks.verdict import Verdict
from harness.scenario.check_kinds import NoParams, Reply, Tolerance

WRITE_KINDS = ("write", "incr", "transfer", "cas")  # tracked operations that write when they succeed


def wrote(record: OpRecord) -> bool:
    """An acknowledged tracked operation that wrote: it shows the primary accepts writes."""
    if record["type"] != "ok":
        return False
    kind = record.get("f")
    if kind == "transfer":
        return record.get("result") == "committed"
    if kind == "cas":
        return record.get("applied") == 1
    return kind in ("write", "incr")


@check(NoParams)
def writable(p: NoParams, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """A write is acknowledged after the incident, and after +switch-master if there was one (on a cluster:
    a write to the incident's shard, after its replica was promoted if one was)."""
    since = float(incident["t"])
    switch = history.first("sentinel", since, event="+switch-master")
    if switch is not None:
        since = float(switch["t"])
    shard = shard_of(history, str(incident["node"]))
    promoted = cluster_failover.judge(NoParams(), history, incident, judge) if shard else None
    if promoted is not None and promoted.at is not None:
        since = promoted.at
    slots = tuple(shard["slots"]) if shard else None
    for record in history.ops:
        if wrote(record) and record["t0"] >= since and (slots is None or _in_slots(record, slots)):
            what = record.get("key") or f"{record['from']} -> {record['to']}"
            evidence = f"{record['f']} {what} acknowledged at {record['t']:.3f}s"
            if switch is not None:
                evidence += f" (after +switch-master to {switch.get('new')})"
            if shard is not None:
                evidence += f" (slot {key_slot(_op_key(record))} of {shard['primary']}'s shard"
                evidence += f", after {promoted.evidence})" if promoted and promoted.at else ")"
            return judge(float(record["t"]), evidence)
    where = f" to {shard['primary']}'s shard" if shard else ""
    return judge(None, f"no write{where} was acknowledged after the incident")


def _op_key(record: OpRecord) -> str:
    return str(record.get("key") or record.get("from"))


def _in_slots(record: OpRecord, slots: tuple[int, int]) -> bool:
    return slots[0] <= key_slot(_op_key(record)) <= slots[1]


@check(Tolerance)
def error_rate_back_to_baseline(
    p: Tolerance, history: History, incident: FaultRecord, judge: Judge
) -> Verdict:
    """The load's share of failed or uncertain operations returns to its pre-incident level and stays."""
    t_incident = float(incident["t"])
    stats = history.stats
    before = [s for s in stats if s["t"] < t_incident]
    if not any(s["ok"] + s["fail"] + s["info"] for s in before):
        return judge.unknown("no baseline: the load completed no operation before the incident")
    after = [s for s in stats if s["t"] >= t_incident]
    baseline = _error_ratio(before)
    allowed = baseline + p.tolerance
    bad = [s for s in after if _error_ratio([s]) > allowed]
    recovered_at = float(bad[-1]["t"]) if bad else t_incident
    clean_after = [s for s in after if s["t"] > recovered_at and s["ok"] > 0]
    if not clean_after:
        return judge(None, f"errors above baseline {baseline:.2%} until the load ended")
    errors = sum(s["fail"] + s["info"] for s in after)
    evidence = (
        f"baseline error ratio {baseline:.2%}; {errors} failed or uncertain operations after the incident, "
        f"none above baseline after {recovered_at:.2f}s"
    )
    return judge(recovered_at, evidence)


def _error_ratio(stats: list[StatsRecord]) -> float:
    errors = sum(s["fail"] + s["info"] for s in stats)
    total = errors + sum(s["ok"] for s in stats)
    return errors / total if total else 0.0


def _reply_times(history: History, reply: str, since: float) -> list[tuple[float, bool]]:
    """(time, seen) points for one error reply after `since`: each load interval (seen if any of its calls
    got the reply, retried or not) and each change of the responder's probe answer."""
    points = [
        (float(s["t"]), reply in s.get("errors", {}) or reply in s.get("retried_errors", {}))
        for s in history.stats
        if s["t"] >= since
    ]
    points += [(float(p["t"]), p["reply"] == reply) for p in history.probe_replies if p["t"] >= since]
    return sorted(points)


def reply_label(p: Reply) -> str:
    return p.reply


@check(Reply, label=reply_label)
def error_reply(p: Reply, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """A client (the load or the responder's probe) gets this error reply."""
    for t, seen in _reply_times(history, p.reply, float(incident["t"])):
        if seen:
            return judge(t, f"first {p.reply} reply at {t:.3f}s")
    return judge(None, f"no client got a {p.reply} reply after the incident")


@check(Reply, label=reply_label)
def reply_gone(p: Reply, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """After the last such reply, writes succeed to the end of the drill."""
    points = _reply_times(history, p.reply, float(incident["t"]))
    seen = [t for t, hit in points if hit]
    if not seen:
        return judge(None, f"no {p.reply} reply after the incident, so nothing to recover from")
    last = seen[-1]
    probes_after = [r for r in history.probe_replies if r["t"] > last]
    ok_after = [s for s in history.stats if s["t"] > last and s["ok"] > 0]
    if not ok_after and not any(r["reply"] == "ok" for r in probes_after):
        return judge(None, f"{p.reply} replies until the end of the drill (last at {last:.3f}s)")
    gone = min([float(r["t"]) for r in probes_after if r["reply"] == "ok"] or [last])
    return judge(gone, f"last {p.reply} reply at {last:.3f}s; writes succeed from {gone:.3f}s to the end")
