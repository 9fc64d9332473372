"""Checks on what a cluster's nodes say of each other (the `cluster` records of observe/cluster_view.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.log_records import ClusterRecord, FaultRecord
from harness.runbooks.checks.common import NoParams, clear_from
from harness.runbooks.checks.registry import Judge, check
from harness.runbooks.history import History
from harness.runbooks.verdict import Verdict
from harness.scenario.params import one_of, param
from harness.slots import SLOTS


@dataclass(frozen=True, slots=True)
class Flagged:
    flag: str = param(
        "what another node flags the incident's node: failed (FAIL, agreed by a majority of primaries) or"
        " suspected (PFAIL, one node's own timeout)",
        one_of("failed", "suspected"),
        "failed",
    )


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
