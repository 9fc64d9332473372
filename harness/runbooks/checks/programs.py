"""The team's own health check as a verify step: a program run live (exit 0 = holds), judged from its runs."""

from __future__ import annotations

from pathlib import Path

from harness.core.log_records import FaultRecord
from harness.runbooks.checks.registry import Judge, check
from harness.runbooks.history import History
from harness.runbooks.verdict import Verdict
from harness.scenario.check_kinds import Program


def _label(p: Program) -> str:
    return Path(p.command[0]).name


@check(Program, label=_label)
def program(p: Program, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """The team's program, run live every `every` with the run's context, exits 0 from some run to the end."""
    name, since = _label(p), float(incident["t"])
    runs = [r for r in history.program_probes if r["command"] == list(p.command) and r["t"] >= since]
    if not runs:
        return judge.unknown(f"{name} never ran after the incident")
    failed = [i for i, r in enumerate(runs) if not r["ok"]]
    if failed and failed[-1] == len(runs) - 1:
        tally = f"{len(failed)} of {len(runs)} runs failed"
        return judge(None, f"{name} still failing at the end ({tally}): {runs[-1]['evidence']}")
    first = runs[failed[-1] + 1] if failed else runs[0]
    before = f"{len(failed)} failed run(s) before"
    return judge(
        float(first["t"]), f"{name} holds from {first['t']:.2f}s to the end ({before}): {first['evidence']}"
    )
