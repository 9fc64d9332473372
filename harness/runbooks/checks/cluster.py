"""Checks on what a cluster's nodes say of each other (the `cluster` records of observe/cluster_view.py)."""

from __future__ import annotations

from typing import Any

from harness.core.log_records import ClusterRecord, FaultRecord
from harness.core.slots import SLOTS
from harness.runbooks.checks.common import clear_from
from harness.runbooks.checks.registry import Judge, check
from harness.runbooks.history import History
from harness.runbooks.verdict import Verdict
from harness.scenario.check_kinds import Flagged, NoParams, Redirected


def _flag_label(p: Flagged) -> str:
    return p.flag


@check(Flagged, label=_flag_label)
def cluster_node_flagged(p: Flagged, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """Another cluster node flags the incident's node as failed (or suspected) after the incident."""
    node = str(incident["node"])
    for record in _after(history, incident):
        entry = record.get("view", {}).get(node, {})
        if record["node"] != node and (entry.get(p.flag) or (p.flag == "suspected" and entry.get("failed"))):
            return judge(float(record["t"]), f"{record['node']} flags {node} {p.flag} at {record['t']:.3f}s")
    return judge(None, f"no cluster node flagged {node} {p.flag} after the incident")


@check(NoParams)
def cluster_failover(p: NoParams, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """A replica of the incident's shard is promoted: a node serves the shard's slots in its place."""
    shard = shard_of(history, str(incident["node"]))
    if shard is None:
        return judge.unknown("the log has no cluster shards, or the incident's node is in none")
    candidates = [n for n in (shard["primary"], *shard["replicas"]) if n != incident["node"]]
    for record in _after(history, incident):
        view = record.get("view", {})
        for name in candidates:
            entry = view.get(name, {})
            if entry.get("role") == "primary" and entry.get("slots") and not entry.get("failed"):
                seen = f"as {record['node']} sees at {record['t']:.3f}s"
                return judge(float(record["t"]), f"{name} serves {entry['slots']} slots {seen}")
    return judge(None, f"no other node of {incident['node']}'s shard was promoted")


@check(NoParams)
def cluster_state(p: NoParams, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """Every cluster node that answers reports cluster_state:ok again, to the end of the drill."""
    return _settled(history, incident, judge, lambda r: r.get("state") == "ok", "cluster_state:ok")


@check(NoParams)
def slots_covered(p: NoParams, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """Every cluster node that answers sees all 16384 slots served again, to the end of the drill."""
    return _settled(history, incident, judge, lambda r: r.get("slots_ok") == SLOTS, f"{SLOTS} slots ok")


def _settled(history: History, incident: FaultRecord, judge: Judge, good: Any, what: str) -> Verdict:
    """From when every answering node's latest view is good, to the end (nodes that do not answer, such
    as a killed one, are not asked)."""
    views = history.cluster_views
    if not views:
        return judge.unknown("the log has no cluster views: not a cluster, or its observer did not run")
    t0 = float(incident["t"])
    latest: dict[str, ClusterRecord] = {}
    points: list[tuple[float, bool]] = []
    for record in views:
        latest[record["node"]] = record
        if record["t"] >= t0:
            answering = [r for r in latest.values() if "error" not in r]
            points.append((float(record["t"]), not all(good(r) for r in answering)))
    if not points:
        points = [(t0, not all(good(r) for r in latest.values() if "error" not in r))]
    at = clear_from(points, t0)
    if at is None:
        bad = sorted(name for name, r in latest.items() if "error" not in r and not good(r))
        return judge(None, f"not {what} on {', '.join(bad)} at the end of the drill")
    return judge(at, f"{what} on every answering node from {at:.3f}s to the end")


def _after(history: History, incident: FaultRecord) -> list[ClusterRecord]:
    return [r for r in history.cluster_views if r["t"] >= incident["t"]]


def shard_of(history: History, node: str) -> dict[str, Any] | None:
    """The incident node's shard as created (the topology record's `shards`)."""
    topology = history.first("topology", 0.0)
    for shard in (topology or {}).get("shards", []):
        if node == shard["primary"] or node in shard["replicas"]:
            return dict(shard)
    return None


@check(NoParams)
def reshard_done(p: NoParams, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """The incident's reshard moved every slot it planned, and every cluster node that answers then sees the
    receiving node serve them (its slot count, as the receiver itself reports it, agreed by all)."""
    planned = int(incident.get("details", {}).get("slots", 0))
    end = next((e for e in history.fault_ends if e["index"] == incident["index"]), None)
    if incident["action"] != "reshard" or end is None:
        return judge.unknown("the incident is not a reshard that ended")
    if end.get("slots") != planned:
        return judge(None, f"the reshard did not move every slot: {end.get('outcome')}")
    receiver = str(end.get("node"))
    latest: dict[str, ClusterRecord] = {}
    for record in history.cluster_views:
        latest[record["node"]] = record
        if record["t"] < end["t"] or receiver not in latest:
            continue
        seen = [r.get("view", {}).get(receiver, {}).get("slots") for r in latest.values() if "error" not in r]
        own = latest[receiver].get("view", {}).get(receiver, {}).get("slots")
        if own is not None and all(slots == own for slots in seen):
            return judge(float(record["t"]), f"{end.get('outcome')}; every node sees {receiver} serve {own}")
    return judge(None, f"{end.get('outcome')}, but the nodes never agreed on {receiver}'s slots")


def _reply_label(p: Redirected) -> str:
    return p.reply


@check(Redirected, label=_reply_label)
def clients_redirected(p: Redirected, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """The load's clients follow a MOVED (or ASK) redirect after the incident: they noticed the slot map
    change (the `redirects` of the load's stats, counted per interval)."""
    total = 0
    first: float | None = None
    for record in history.stats:
        count = record.get("redirects", {}).get(p.reply, 0)
        if record["t"] >= incident["t"] and count:
            first = float(record["t"]) if first is None else first
            total += count
    if first is None:
        return judge(None, f"the load's clients followed no {p.reply} after the incident")
    return judge(first, f"{p.reply} followed from {first:.3f}s, {total} in all")
