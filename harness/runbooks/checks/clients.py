"""Checks on connected clients against maxclients."""

from __future__ import annotations

from harness.core.log_records import FaultRecord
from harness.runbooks.checks.common import clear_from
from harness.runbooks.checks.registry import Judge, check
from harness.runbooks.history import History
from harness.runbooks.verdict import Verdict
from harness.scenario.check_kinds import ClientsAbove, ClientsBelow


def _client_ratios(history: History, since: float) -> list[tuple[float, str, float]]:
    out = []
    for round_ in history.infos:
        if round_["t"] < since:
            continue
        for name, node in round_["nodes"].items():
            used, limit = node.get("connected_clients"), node.get("maxclients")
            if used is not None and limit:
                out.append((float(round_["t"]), name, used / limit))
    return out


@check(ClientsAbove)
def clients_above(p: ClientsAbove, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """connected_clients / maxclients of a node crosses `above`."""
    for t, name, share in _client_ratios(history, float(incident["t"])):
        if share > p.above:
            return judge(t, f"{name} at {share:.0%} of maxclients (> {p.above:.0%})")
    return judge(None, f"no node's clients crossed {p.above:.0%} of maxclients after the incident")


@check(ClientsBelow)
def clients_below(p: ClientsBelow, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """Every node's connected_clients / maxclients is back under `below` and stays there to the end."""
    points = [(t, share > p.below) for t, _, share in _client_ratios(history, float(incident["t"]))]
    since = clear_from(points, float(incident["t"]))
    if since is None:
        return judge(None, f"clients above {p.below:.0%} of maxclients until the end")
    return judge(since, f"every node under {p.below:.0%} of maxclients from {since:.2f}s to the end")
