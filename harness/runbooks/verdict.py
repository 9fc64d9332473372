"""The outcome of one check: measured value, bound, pass/fail and the evidence behind it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Verdict:
    name: str  # e.g. "detect: sentinel_event +odown"
    source: str  # runbook name, or "scenario"
    section: str  # detect | verify | expect
    passed: bool
    measured: float | None  # seconds after the incident, or a count
    bound: float | None
    unit: str  # "s" or "writes"
    evidence: str
    at: float | None = None  # log time at which the condition was met
    unknown: bool = False  # the check could not judge (evidence says why): neither a pass nor a fail
    quantity: bool = False  # measured is a quantity against the check's own bound, not a time since the
    # incident: it takes no part in MTTD or MTTR
    cut_short: bool = False  # not met, and the drill was aborted before its window ended

    @property
    def status(self) -> str:
        if self.unknown:
            return "UNKNOWN"
        return "pass" if self.passed else "FAIL"

    @property
    def failed(self) -> bool:
        return not self.passed and not self.unknown
