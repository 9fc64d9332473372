"""Checks on which keys a cluster serves while a shard is down, from the load's tracked operations: with
cluster-require-full-coverage yes every node refuses every key (CLUSTERDOWN) once a slot is unserved; with
no, only the lost shard's keys fail and the others are served throughout."""

from __future__ import annotations

from harness.core.log_records import FaultRecord, OpRecord
from harness.core.slots import key_slot
from harness.runbooks.checks.cluster import shard_of
from harness.runbooks.checks.registry import Judge, check
from harness.runbooks.history import History
from harness.runbooks.lost_writes import INTERRUPTED
from harness.runbooks.verdict import Verdict
from harness.scenario.check_kinds import Refused, Served


def _keys_of(history: History, incident: FaultRecord, which: str) -> list[OpRecord] | None:
    """The tracked operations on keys of the incident's shard (as created), or of every other shard, from
    the incident on; None when the log has no shards."""
    shard = shard_of(history, str(incident["node"]))
    if shard is None:
        return None
    first, last = shard["slots"]
    inside = which == "incident-shard"
    return [
        op
        for op in history.ops
        if op["t"] >= incident["t"] and "key" in op and (first <= key_slot(op["key"]) <= last) == inside
    ]


def _whose(keys: str) -> str:
    return "the incident shard's keys" if keys == "incident-shard" else "the other shards' keys"


def _refused_label(p: Refused) -> str:
    return f"{p.keys} {p.error or 'failing'}"


@check(Refused, label=_refused_label)
def keys_refused(p: Refused, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """An operation on a key of the other shards (or of the incident's) fails with `error` after the
    incident: who the outage reaches."""
    ops = _keys_of(history, incident, p.keys)
    if ops is None:
        return judge.unknown("the log has no cluster shards, or the incident's node is in none")
    refused = [op for op in ops if op["type"] != "ok" and (not p.error or op.get("error") == p.error)]
    what = p.error or "an error"
    if not refused:
        return judge(None, f"no operation on {_whose(p.keys)} got {what} after the incident")
    first = refused[0]
    return judge(
        float(first["t"]),
        f"{len(refused)} operations on {_whose(p.keys)} got {what}, first {first['key']}"
        f" at {first['t']:.3f}s",
    )


@check(Served)
def other_shards_served(p: Served, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """The other shards' keys keep being served from the incident to the end: at most `at_most` of their
    tracked operations fail or are left uncertain (a quantity; acknowledged ones are counted beside it;
    those in flight when the load stopped are not counted)."""
    ops = _keys_of(history, incident, "other-shards")
    if ops is None:
        return judge.unknown("the log has no cluster shards, or the incident's node is in none")
    if not ops:
        return judge.unknown("no tracked operation on the other shards' keys after the incident")
    # Operations cut off by the load's own end are no failure of the cluster's.
    failed = [op for op in ops if op["type"] != "ok" and op.get("error") != INTERRUPTED]
    classes = sorted({str(op.get("error", "?")) for op in failed})
    evidence = (
        f"{len(ops) - len(failed)} acknowledged and {len(failed)} failed or uncertain operations on the other"
        f" shards' keys after the incident{(' (' + ', '.join(classes) + ')') if classes else ''}"
    )
    return judge.bounded(len(failed), p.at_most, "ops", evidence)
