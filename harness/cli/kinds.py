"""`drill kinds`: every check, trigger and procedure step a file may name, with its parameters and help,
and the observation log's record kinds, read from the definitions themselves (so the catalogue cannot
drift from what the loader accepts). The same catalogue renders as text for the terminal and as the docs
site's reference pages (`--format markdown`)."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

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
from harness.scenario.params import ParamDoc, describe
from harness.scenario.procedure_kinds import GATHERERS, REMEDIATIONS, STEP_OPTION, TRIGGERS
from harness.scenario.stop_kinds import STOP_CONDITIONS
from harness.scenario.workload_kinds import WORKLOAD_KINDS

WIDTH = 100  # help wraps at this width, never cut
SECTIONS = (
    "workloads", "faults", "checks", "stop-conditions", "triggers", "gatherers", "remediations", "log",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Entry:
    name: str
    help: str
    params: tuple[ParamDoc, ...] = ()
    group: str = ""  # a heading within the section (the faults' network effects)


@dataclass(frozen=True, slots=True)
class Section:
    name: str  # the `drill kinds` argument
    title: str
    usage: str  # where a file names them
    entries: tuple[Entry, ...]


def catalogue(only: str | None = None) -> tuple[Section, ...]:
    """Every section (or the one named), each kind with its help and parameters, from the definitions."""
    builders = {
        "workloads": _workloads,
        "faults": _faults,
        "checks": _checks,
        "stop-conditions": _stop_conditions,
        "triggers": _triggers,
        "gatherers": _gatherers,
        "remediations": _remediations,
    }
    return tuple(builders[name]() for name in builders if only in (None, name))


def _params(params: type, first: str = "") -> tuple[ParamDoc, ...]:
    return tuple(sorted(describe(params), key=lambda p: p.key != first))  # stable: the rest keep their order


def _workloads() -> Section:
    entries = tuple(Entry(name, doc, _params(params)) for name, (params, doc) in WORKLOAD_KINDS.items())
    return Section("workloads", "Workloads", "scenario load.workloads: {KIND: {users: N, ...}}", entries)


def _faults() -> Section:
    grammar: dict[str, type] = {"pause": Pause, "surge": Surge}
    entries = [
        Entry(name, doc, _params(grammar[name]) if name in grammar else ())
        for name, doc in OTHER_FAULTS.items()
    ]
    entries += [Entry(name, doc, _params(params)) for name, (params, doc) in SERVER_FAULT_KINDS.items()]
    effects = {"packet-loss": (PacketLoss, PACKET_LOSS_HELP), **REDIS_EFFECTS}
    network = "network effects with settings (network: {link: L, EFFECT: {...}})"
    entries += [Entry(name, doc, _params(params), network) for name, (params, doc) in effects.items()]
    usage = "scenario faults: [{at: DURATION, jitter: DURATION, incident: BOOL, KIND: ...}]"
    return Section("faults", "Faults", usage, tuple(entries))


def _checks() -> Section:
    entries = tuple(Entry(name, d.help, _params(d.params)) for name, d in all_checks().items())
    return Section(
        "checks", "Checks", "runbook detect: and verify: steps; each also takes within: BOUND", entries
    )


def _stop_conditions() -> Section:
    entries = tuple(Entry(name, doc, _params(params)) for name, (params, doc) in STOP_CONDITIONS.items())
    usage = "scenario abort_if: [{KIND: {...}}]; any one trips: the drill stops, its faults are rolled back"
    usage += ", exit 4"
    return Section("stop-conditions", "Stop conditions", usage, entries)


def _triggers() -> Section:
    entries = tuple(Entry(name, doc, _params(params, first=name)) for name, (params, doc) in TRIGGERS.items())
    usage = "runbook respond.when: exactly one trigger's key, plus its options"
    return Section("triggers", "Triggers", usage, entries)


def _gatherers() -> Section:
    entries = tuple(Entry(name, doc, _params(params)) for name, (params, doc) in GATHERERS.items())
    usage = f"runbook respond.steps: {{gather: NAME, {STEP_OPTION}: REPLY}}"
    return Section("gatherers", "Gatherers", usage, entries)


def _remediations() -> Section:
    entries = tuple(Entry(name, doc, _params(params)) for name, (params, doc) in REMEDIATIONS.items())
    usage = (
        f"runbook respond.steps: {{remediate: NAME, ...}}; {STEP_OPTION}: REPLY runs it only while a probe"
        " still gets that reply"
    )
    return Section("remediations", "Remediations", usage, entries)


# --- text, for the terminal -----------------------------------------------------------------------------


def render_kinds(only: str | None = None, width: int = WIDTH) -> str:
    """Every kind with its help, each entry wrapped to `width` columns (continuations indented)."""
    return "\n".join(_wrap(line, width) for line in _text(only).split("\n"))


def _wrap(line: str, width: int) -> str:
    if len(line) <= width:
        return line
    indent = len(line) - len(line.lstrip())
    hang = " " * (indent + 4)
    return textwrap.fill(line, width, subsequent_indent=hang, break_on_hyphens=False, break_long_words=False)


def _text(only: str | None) -> str:
    parts = []
    for section in catalogue(only):
        lines = [f"{section.title.lower()} ({section.usage})"]
        group = ""
        for entry in section.entries:
            if entry.group and entry.group != group:
                group = entry.group
                lines.append(f"  {group}:")
            lines.append(f"  {entry.name:<28} {entry.help}")
            lines += [f"    {p.key}: {p.shown} ({_default(p)}) - {p.help}" for p in entry.params]
        parts.append("\n".join(lines))
    if only in (None, "log"):
        parts.append("observation log records (docs/observation-log.md)\n" + describe_kinds())
    return "\n\n".join(parts)


def _default(param: ParamDoc) -> str:
    return "required" if param.default is None else f"default {param.default}"


# --- markdown, for the docs site's reference pages ------------------------------------------------------

GENERATED = "<!-- generated by `drill kinds {name} --format markdown`: do not edit by hand -->"


def render_markdown(name: str) -> str:
    """One reference page: the section's kinds, each a heading, its help and a table of its parameters."""
    if name == "log":
        return (
            "\n\n".join(
                [
                    "# Observation log records",
                    GENERATED.format(name=name),
                    "Every record of `observations.jsonl`, its fields (`*`: optional) and what each means; "
                    "the format and how to read it are in [the observation log](../observation-log.md).",
                    describe_kinds(),
                ]
            )
            + "\n"
        )
    (section,) = catalogue(name)
    out = [f"# {section.title}", GENERATED.format(name=name), f"Written as: `{section.usage}`."]
    group = ""
    for entry in section.entries:
        if entry.group and entry.group != group:
            group = entry.group
            out.append(f"## {group[0].upper()}{group[1:]}")
        level = "###" if group else "##"
        out += [f"{level} `{entry.name}`", _html_safe(entry.help)]
        if entry.params:
            rows = [
                f"| `{p.key}` | {_escape(p.shown)} | {_escape(_default(p))} | {_escape(p.help)} |"
                for p in entry.params
            ]
            out.append("\n".join(["| parameter | value | default | meaning |", "|---|---|---|---|", *rows]))
    return "\n\n".join(out) + "\n"


def _escape(text: str) -> str:
    """A table cell: a pipe would split it."""
    return _html_safe(text).replace("|", "\\|")


def _html_safe(text: str) -> str:
    """Angle brackets would be read as HTML."""
    return text.replace("<", "&lt;").replace(">", "&gt;")
