"""`drill kinds`: every check, trigger and procedure step a file may name, with its parameters and help,
and the observation log's record kinds, read from the definitions themselves (so the catalogue cannot
drift from what the loader accepts)."""

from __future__ import annotations

import textwrap

from harness.core.log_records import describe_kinds
from harness.runbooks.checks.registry import all_checks
from harness.scenario.fault_kinds import (
    OTHER_FAULTS,
    PACKET_LOSS_HELP,
    REDIS_EFFECTS,
    SERVER_FAULT_KINDS,
    PacketLoss,
    Pause,
    Surge,
)
from harness.scenario.params import describe
from harness.scenario.procedure_kinds import GATHERERS, REMEDIATIONS, STEP_OPTION, TRIGGERS
from harness.scenario.stop_kinds import STOP_CONDITIONS
from harness.scenario.workload_kinds import WORKLOAD_KINDS

WIDTH = 100  # help wraps at this width, never cut


def render_kinds(only: str | None = None, width: int = WIDTH) -> str:
    """Every kind with its help, each entry wrapped to `width` columns (continuations indented)."""
    return "\n".join(_wrap(line, width) for line in _kinds(only).split("\n"))


def _wrap(line: str, width: int) -> str:
    if len(line) <= width:
        return line
    indent = len(line) - len(line.lstrip())
    hang = " " * (indent + 4)
    return textwrap.fill(line, width, subsequent_indent=hang, break_on_hyphens=False, break_long_words=False)


def _kinds(only: str | None) -> str:
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
        lines.append("  network effects with settings (network: {link: L, EFFECT: {...}}):")
        for name, (params, doc) in {"packet-loss": (PacketLoss, PACKET_LOSS_HELP), **REDIS_EFFECTS}.items():
            lines += _entry(name, doc, params)
        parts.append("\n".join(lines))
    if only in (None, "checks"):
        parts.append(_checks())
    if only in (None, "stop-conditions"):
        lines = [
            "stop conditions (scenario abort_if: [{KIND: {...}}]; any one trips: the drill stops, its faults"
            " are rolled back, exit 4)"
        ]
        for name, (params, doc) in STOP_CONDITIONS.items():
            lines += _entry(name, doc, params)
        parts.append("\n".join(lines))
    if only in (None, "triggers"):
        lines = ["triggers (runbook respond.when: exactly one trigger's key, plus its options)"]
        for name, (params, doc) in TRIGGERS.items():
            lines += _entry(name, doc, params, first=name)
        parts.append("\n".join(lines))
    if only in (None, "gatherers"):
        lines = [f"gatherers (runbook respond.steps: {{gather: NAME, {STEP_OPTION}: REPLY}})"]
        for name, (params, doc) in GATHERERS.items():
            lines += _entry(name, doc, params)
        parts.append("\n".join(lines))
    if only in (None, "remediations"):
        lines = [
            f"remediations (runbook respond.steps: {{remediate: NAME, ...}}; {STEP_OPTION}: REPLY runs it"
            " only while a probe still gets that reply)"
        ]
        for name, (params, doc) in REMEDIATIONS.items():
            lines += _entry(name, doc, params)
        parts.append("\n".join(lines))
    if only in (None, "log"):
        parts.append("observation log records (docs/observation-log.md)\n" + describe_kinds())
    return "\n\n".join(parts)


def _checks() -> str:
    lines = ["checks (runbook detect: and verify: steps; each also takes within: BOUND)"]
    for name, definition in all_checks().items():
        lines += _entry(name, definition.help, definition.params)
    return "\n".join(lines)


def _entry(name: str, doc: str, params: type, first: str = "") -> list[str]:
    lines = [f"  {name:<28} {doc}"]
    for param in sorted(describe(params), key=lambda p: p.key != first):  # stable: the rest keep their order
        default = "required" if param.default is None else f"default {param.default}"
        lines.append(f"    {param.key}: {param.shown} ({default}) - {param.help}")
    return lines
