"""`drill kinds`: every check, trigger and procedure step a file may name, with its parameters and help,
read from the definitions themselves (so the catalogue cannot drift from what the loader accepts)."""

from __future__ import annotations

from harness.runbooks.checks.registry import all_checks
from harness.scenario.fault_kinds import OTHER_FAULTS, SERVER_FAULT_KINDS, Pause, Surge
from harness.scenario.params import describe
from harness.scenario.procedures import GATHERERS, NEEDS_ARGUMENT, REMEDIATIONS, TRIGGER_OPTIONS, TRIGGERS
from harness.scenario.workload_kinds import WORKLOAD_KINDS

SECTIONS = ("workloads", "faults", "checks", "triggers", "gatherers", "remediations")


def render_kinds(only: str | None = None) -> str:
    parts = []
    if only in (None, "workloads"):
        lines = ["workloads (scenario load.workloads: {KIND: {users: N, ...}})"]
        for name, (params, doc) in WORKLOAD_KINDS.items():
            lines += _entry(name, doc, params)
        parts.append("\n".join(lines))
    if only in (None, "faults"):
        lines = ["faults (scenario faults: [{at: DURATION, jitter: DURATION, incident: BOOL, KIND: ...}])"]
        for name, doc in OTHER_FAULTS.items():
            grammar: dict[str, type] = {"pause": Pause, "surge": Surge}
            lines += _entry(name, doc, grammar[name]) if name in grammar else [f"  {name:<28} {doc}"]
        for name, (params, doc) in SERVER_FAULT_KINDS.items():
            lines += _entry(name, doc, params)
        parts.append("\n".join(lines))
    if only in (None, "checks"):
        parts.append(_checks())
    if only in (None, "triggers"):
        rows = [f"  {name:<16} {doc}" for name, doc in TRIGGERS.items()]
        rows += [f"  {name:<16} {doc}" for name, doc in TRIGGER_OPTIONS.items()]
        parts.append("triggers (runbook respond.when: exactly one trigger, plus options)\n" + "\n".join(rows))
    if only in (None, "gatherers"):
        rows = [f"  {name:<26} {doc}" for name, doc in GATHERERS.items()]
        parts.append("gatherers (runbook respond.steps: {gather: NAME})\n" + "\n".join(rows))
    if only in (None, "remediations"):
        rows = []
        for name, doc in REMEDIATIONS.items():
            rows.append(f"  {name:<26} {doc}")
            if name in NEEDS_ARGUMENT:
                rows.append(f"  {'':<26}   argument: {NEEDS_ARGUMENT[name]} (required)")
        parts.append(
            "remediations (runbook respond.steps: {remediate: NAME}; if_still: REPLY runs it only while "
            "a probe still gets that reply)\n" + "\n".join(rows)
        )
    return "\n\n".join(parts)


def _checks() -> str:
    lines = ["checks (runbook detect: and verify: steps; each also takes within: BOUND)"]
    for name, definition in all_checks().items():
        lines += _entry(name, definition.help, definition.params)
    return "\n".join(lines)


def _entry(name: str, doc: str, params: type) -> list[str]:
    lines = [f"  {name:<28} {doc}"]
    for param in describe(params):
        default = "required" if param.default is None else f"default {param.default}"
        lines.append(f"    {param.key}: {param.shown} ({default}) - {param.help}")
    return lines
