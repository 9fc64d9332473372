"""Checks on replication: replicas attached and caught up, replication lag."""

from __future__ import annotations

from typing import Any

from harness.core.log_records import FaultRecord, InfoRecord
from harness.runbooks.checks.common import clear_from
from harness.runbooks.checks.registry import Judge, check
from harness.runbooks.history import History
from harness.runbooks.verdict import Verdict
from harness.scenario.check_kinds import Attached, LagAbove, LagBelow
from harness.scenario.durations import format_seconds


@check(Attached)
def replicas_attached(p: Attached, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """From some sample to the end: one primary, every replica linked, online and caught up."""
    rounds = [r for r in history.infos if r["t"] >= incident["t"]]
    reasons = [_round_problem(i, rounds, p.lag_below, p.replicas == "all") for i in range(len(rounds))]
    if not rounds or reasons[-1] is not None:
        last = reasons[-1] if rounds else "no INFO samples after the incident"
        return judge(None, f"not attached at the end: {last}")
    start = len(rounds) - 1
    while start > 0 and reasons[start - 1] is None:
        start -= 1
    nodes = rounds[-1]["nodes"]
    primary = next(name for name, n in nodes.items() if n.get("role") == "master")
    attached = sorted(r["node"] for r in nodes[primary].get("replicas", []))
    evidence = (
        f"{primary} primary with {len(attached)} replica(s) online ({', '.join(attached) or 'none'}), "
        f"caught up within {format_seconds(p.lag_below)} from {rounds[start]['t']:.2f}s to the end"
    )
    return judge(float(rounds[start]["t"]), evidence)


def _round_problem(index: int, rounds: list[InfoRecord], lag_below: float, every_node: bool) -> str | None:
    """Why round `index` does not show a healthy replication, or None when it does.

    every_node: a node that does not answer counts against the round (else only live nodes are judged).
    """
    nodes: dict[str, dict[str, Any]] = rounds[index]["nodes"]
    live = {name: n for name, n in nodes.items() if "error" not in n}
    if every_node and len(live) < len(nodes):
        return f"{', '.join(sorted(set(nodes) - set(live)))} not answering"
    primaries = [name for name, n in live.items() if n.get("role") == "master"]
    if len(primaries) != 1:
        return f"{len(primaries)} nodes report the primary role ({', '.join(primaries) or 'none'})"
    primary = primaries[0]
    online = {r["node"] for r in live[primary].get("replicas", []) if r.get("state") == "online"}
    for name, node in live.items():
        if name == primary:
            continue
        if node.get("primary") != primary or node.get("link") != "up" or name not in online:
            return f"{name} not attached to {primary} (link {node.get('link')}, sees {node.get('primary')})"
        lag = _replication_lag(index, rounds, name)
        if lag >= lag_below:
            return f"{name} lagged {format_seconds(lag)} behind the primary"
    return None


def _replication_lag(index: int, rounds: list[InfoRecord], replica: str) -> float:
    """How old the replica's data is at round `index`: the time since the primary last had only what the
    replica has now (0 when it has everything). Resolution: one sampling interval."""
    have = rounds[index]["nodes"][replica].get("offset", 0)
    now = float(rounds[index]["t"])
    for earlier in reversed(rounds[: index + 1]):
        offsets = [n.get("offset", 0) for n in earlier["nodes"].values() if n.get("role") == "master"]
        if len(offsets) == 1 and offsets[0] <= have:
            return now - float(earlier["t"])
    return now - float(rounds[0]["t"])  # behind every sample we have: at least this old


@check(LagAbove)
def replication_lag(p: LagAbove, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """A replica falls more than `above` behind the primary (lag from sampled offsets)."""
    watched = incident.get("replica") or incident.get("node") if p.node == "incident" else None
    rounds = [r for r in history.infos if r["t"] >= incident["t"]]
    for index, round_ in enumerate(rounds):
        for name, node in round_["nodes"].items():
            if node.get("role") != "slave" or "error" in node or (watched and name != watched):
                continue
            lag = _replication_lag(index, rounds, name)
            if lag > p.above:
                threshold = format_seconds(p.above)
                evidence = f"{name} {format_seconds(lag)} behind the primary (threshold {threshold})"
                return judge(float(round_["t"]), evidence)
    who = watched or "any replica"
    return judge(None, f"{who} never lagged more than {format_seconds(p.above)} after the incident")


@check(LagBelow)
def replication_lag_below(p: LagBelow, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """Every replica's lag behind the primary is back under `below` and stays there to the end."""
    rounds = [r for r in history.infos if r["t"] >= incident["t"]]
    points = [
        (float(round_["t"]), _replication_lag(index, rounds, name) >= p.below)
        for index, round_ in enumerate(rounds)
        for name, node in round_["nodes"].items()
        if node.get("role") == "slave" and "error" not in node
    ]
    if not points:
        return judge.unknown("no replica was sampled after the incident")
    since = clear_from(points, float(incident["t"]))
    if since is None:
        return judge(None, f"a replica {format_seconds(p.below)} or more behind until the end")
    return judge(since, f"every replica under {format_seconds(p.below)} behind from {since:.2f}s to the end")
