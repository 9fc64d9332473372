"""Verdicts for a runbook's procedure (respond:), from what the responder logged while the drill ran. Pure."""

from __future__ import annotations

from harness.core.log_records import RespondRecord, RunbookStepRecord
from harness.runbooks.history import History
from harness.runbooks.verdict import Verdict
from harness.scenario.model import Runbook


def procedure_verdicts(runbook: Runbook, history: History) -> list[Verdict]:
    respond = runbook.respond
    if respond is None:
        return []
    incident = history.incident
    t0 = float(incident["t"]) if incident is not None else 0.0
    start = next((r for r in history.responds if r["runbook"] == runbook.name), None)
    triggered = start is not None and start["phase"] == "triggered"
    trigger = Verdict(
        f"respond: when {respond.trigger.shown}",
        runbook.name,
        "respond",
        triggered,
        _since(start, t0) if triggered else None,
        respond.trigger.within,
        "s",
        f"{start['node']}: {respond.trigger.shown}; the procedure starts"
        if triggered and start is not None
        else f"the incident's node never showed {respond.trigger.shown} within {respond.trigger.within:g}s",
        float(start["t"]) if triggered and start is not None else None,
    )
    out = [trigger]
    done = {int(r["index"]): r for r in history.runbook_steps if r["runbook"] == runbook.name}
    for index, action in enumerate(respond.steps):
        name = f"respond: {action.kind} {action.name}" + (f" {action.argument}" if action.argument else "")
        record = done.get(index)
        if record is None:
            out.append(
                Verdict(
                    name,
                    runbook.name,
                    "respond",
                    False,
                    None,
                    None,
                    "s",
                    "not run: the procedure never started",
                )
            )
            continue
        out.append(
            Verdict(
                name,
                runbook.name,
                "respond",
                bool(record["ok"]),
                _since(record, t0),
                None,
                "s",
                str(record["evidence"]),
                float(record["t"]),
            )
        )
    return out


def _since(record: RespondRecord | RunbookStepRecord | None, t0: float) -> float | None:
    return None if record is None else round(float(record["t"]) - t0, 6)
