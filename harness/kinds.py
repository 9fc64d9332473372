"""`drill kinds`: every check, trigger and procedure step a file may name, with its parameters and help,
read from the definitions themselves (so the catalogue cannot drift from what the loader accepts)."""

from __future__ import annotations

from harness.runbooks.checks.registry import all_checks
from harness.scenario.params import describe
from harness.scenario.procedures import GATHERERS, NEEDS_ARGUMENT, REMEDIATIONS, TRIGGER_OPTIONS, TRIGGERS

SECTIONS = ("checks", "triggers", "gatherers", "remediations")


def render_kinds(only: str | None = None) -> str:
    parts = []
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
        lines.append(f"  {name:<28} {definition.help}")
        for doc in describe(definition.params):
            default = "required" if doc.default is None else f"default {doc.default}"
            lines.append(f"    {doc.key}: {doc.shown} ({default}) - {doc.help}")
    return "\n".join(lines)
