"""Checks on what the Sentinels report."""

from __future__ import annotations

from typing import Any

from harness.core.log_records import FaultRecord
from harness.runbooks.checks.registry import Judge, check
from harness.runbooks.history import History
from harness.runbooks.verdict import Verdict
from harness.scenario.check_kinds import SentinelEvent


def _label(p: SentinelEvent) -> str:
    return p.event + (f" ({p.node})" if p.node != "any" else "")


@check(SentinelEvent, label=_label)
def sentinel_event(p: SentinelEvent, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """Any Sentinel reports the event (for the incident's node, or any node) after the incident."""
    match: dict[str, Any] = {"event": p.event}
    if p.node == "incident":
        match["node"] = incident["node"]
    elif p.node == "primary":
        topology = history.first("topology", 0.0)
        match["node"] = topology["primary"] if topology else None
    record = history.first("sentinel", float(incident["t"]), **match)
    if record is None:
        who = f" for {match['node']}" if "node" in match else ""
        return judge(None, f"no Sentinel reported {p.event}{who} after the incident")
    evidence = f"{record['sentinel']}: {record['event']} {record['data']} at t={record['t']:.3f}s"
    return judge(float(record["t"]), evidence)
