"""Checks on Prometheus alerts."""

from __future__ import annotations

from harness.core.log_records import FaultRecord
from harness.runbooks.checks.registry import Judge, check
from harness.runbooks.history import History
from harness.runbooks.verdict import Verdict
from harness.scenario.check_kinds import Alert, Page


def _node(choice: str, history: History, incident: FaultRecord) -> str | None:
    """The node an alert or page must concern (None: any)."""
    if choice == "incident":
        return str(incident.get("node"))
    if choice == "primary":
        topology = history.first("topology", 0.0)
        return str(topology["primary"]) if topology else None
    return None


def _label(p: Alert | Page) -> str:
    return f"{p.name} {p.state}"


@check(Alert, label=_label)
def alert(p: Alert, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """The Prometheus alert reaches `state` (pending, firing, or resolved after it fired)."""
    node = _node(p.node, history, incident)
    changes = [
        r
        for r in history.alerts
        if r["t"] >= incident["t"] and r["name"] == p.name and (node is None or r["node"] == node)
    ]
    who = f" for {node}" if node else ""
    if p.state == "resolved":
        fired = next((r for r in changes if r["state"] == "firing"), None)
        if fired is None:
            return judge(None, f"{p.name}{who} never fired, so it cannot resolve")
        changes = [r for r in changes if r["t"] > fired["t"]]
    record = next((r for r in changes if r["state"] == p.state), None)
    if record is None:
        return judge(None, f"{p.name}{who} was never {p.state} after the incident")
    return judge(float(record["t"]), f"Prometheus: {p.name}{who} {p.state} at {record['t']:.3f}s")


@check(Page, label=_label)
def page(p: Page, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """Alertmanager delivers a notification (firing, or resolved) about the alert to the drill's receiver."""
    node = _node(p.node, history, incident)
    for record in history.pages:
        if (
            record["t"] >= incident["t"]
            and record["name"] == p.name
            and record["state"] == p.state
            and (node is None or record["node"] == node)
        ):
            return judge(float(record["t"]), f"Alertmanager paged: {p.name} {p.state} for {record['node']}")
    who = f" for {node}" if node else ""
    return judge(None, f"no {p.state} page about {p.name}{who} after the incident")
