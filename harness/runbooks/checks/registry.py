"""The check catalogue: how a check is declared, found, and judged against its step's bound."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from harness.core.log_records import FaultRecord
from harness.runbooks.history import History
from harness.runbooks.verdict import Verdict
from harness.scenario.durations import Bound
from harness.scenario.model import Step

P = TypeVar("P")


@dataclass(frozen=True, slots=True)
class Judge:
    """Turns "the condition was first met at `at`" into a verdict against the step's bound."""

    step: Step
    settings: dict[str, float]
    source: str  # the runbook's name
    section: str
    incident_t: float

    def __call__(self, at: float | None, evidence: str) -> Verdict:
        bound = self.step.within.resolve(self.settings) if self.step.within else None
        measured = None if at is None else round(at - self.incident_t, 6)
        passed = measured is not None and (bound is None or measured <= bound)
        name = step_name(self.section, self.step)
        return Verdict(name, self.source, self.section, passed, measured, bound, "s", evidence, at)

    def bounded(self, measured: float, bound: float, unit: str, evidence: str) -> Verdict:
        """A verdict on a measured quantity against a bound of the check's own (not the step's `within`)."""
        name = step_name(self.section, self.step)
        passed = measured <= bound
        section = self.section
        return Verdict(name, self.source, section, passed, measured, bound, unit, evidence, quantity=True)

    def unknown(self, reason: str) -> Verdict:
        """The check cannot judge: what it needs is not in the log. Never a pass, never a fail."""
        bound = self.step.within.resolve(self.settings) if self.step.within else None
        name = step_name(self.section, self.step)
        return Verdict(name, self.source, self.section, False, None, bound, "s", reason, unknown=True)


@dataclass(frozen=True, slots=True)
class CheckDef(Generic[P]):
    """One check: its name (the key in a runbook), its parameters, what it judges, and how a step of it
    is labelled in reports (e.g. the Sentinel event it waits for)."""

    name: str
    params: type[P]
    judge: Callable[[P, History, FaultRecord, Judge], Verdict]
    help: str
    label: Callable[[P], str] | None = None


def check(
    params: type[P], label: Callable[[P], str] | None = None
) -> Callable[[Callable[[P, History, FaultRecord, Judge], Verdict]], CheckDef[P]]:
    """Declare the decorated function a check named after it; its docstring's first paragraph is its help
    (whole: a sentence that runs onto the next line is not cut there)."""

    def define(judge: Callable[[P, History, FaultRecord, Judge], Verdict]) -> CheckDef[P]:
        paragraph = (judge.__doc__ or "").strip().split("\n\n")[0]
        return CheckDef(judge.__name__, params, judge, " ".join(paragraph.split()), label)

    return define


@cache
def all_checks() -> Mapping[str, CheckDef[Any]]:
    """Every check defined in this package, by name, in the order of their modules and definitions."""
    package = importlib.import_module("harness.runbooks.checks")
    found: dict[str, CheckDef[Any]] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name == "registry":
            continue
        module = importlib.import_module(f"harness.runbooks.checks.{info.name}")
        for value in vars(module).values():
            if isinstance(value, CheckDef):
                found[value.name] = value
    return MappingProxyType(found)


def step_name(section: str, step: Step) -> str:
    definition = all_checks()[step.check]
    label = definition.label(step.params) if definition.label else ""
    return f"{section}: {step.check}{' ' + label if label else ''}"


def run_check(step: Step, history: History, settings: dict[str, float], source: str, section: str) -> Verdict:
    """Judge one runbook step; every time is measured from the incident (the first fault). A check that
    cannot judge (nothing to measure from, or it fails on what the log holds) gives an unknown verdict."""
    incident = history.incident
    judge = Judge(step, settings, source, section, float(incident["t"]) if incident else 0.0)
    if incident is None:
        return judge.unknown("no fault was applied, so there is no incident to measure from")
    definition = all_checks()[step.check]
    try:
        return definition.judge(step.params, history, incident, judge)
    except Exception as exc:  # a log the check cannot read (torn, old, hand-edited): judge nothing
        return judge.unknown(f"the check could not read the log: {type(exc).__name__}: {exc}")


def make_step(check_name: str, within: Bound | None = None, line: int | None = None, **params: Any) -> Step:
    """A step built in code (tests, tools) rather than read from a runbook file."""
    return Step(check_name, line, all_checks()[check_name].params(**params), within)
