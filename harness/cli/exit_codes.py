"""Exit codes, one meaning each (as httpie's status.py): cli/ is the only place that returns them."""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.report.model import RunReport


class ExitCode(IntEnum):
    PASSED = 0
    CHECK_FAILED = 1
    BAD_INPUT = 2
    ENVIRONMENT_ERROR = 3
    ABORTED = 4  # a stop condition tripped (guardrails): the faults were rolled back
    UNKNOWN = 5  # nothing failed, but some check could not judge: a CI job must not read it as a pass
    INTERRUPTED = 130
    BROKEN_PIPE = 141  # as a process killed by SIGPIPE: what `yes | head` leaves


EXIT_CODES_HELP = """exit codes:
  0    every check passed
  1    a check failed
  2    bad input (a file, a field, an option): nothing was started
  3    the environment or the harness failed (a node did not start, a command it needs failed)
  4    aborted: a stop condition tripped and the faults were rolled back
  5    unknown: nothing failed, but a check could not judge (its evidence says why)
  130  interrupted (Ctrl-C, SIGTERM): everything the run started was removed"""


def exit_code(report: RunReport) -> ExitCode:
    """0 every check passed, 1 a check failed, 4 a stop condition aborted it, 5 none failed but some could
    not judge."""
    outcome = report.outcome
    if outcome == "aborted":
        return ExitCode.ABORTED
    if outcome == "failed":
        return ExitCode.CHECK_FAILED
    return ExitCode.UNKNOWN if outcome == "unknown" else ExitCode.PASSED


def worst(codes: list[ExitCode]) -> ExitCode:
    """Several runs' codes as one: an abort outranks a failure, which outranks an unknown, then a pass."""
    for code in (ExitCode.ABORTED, ExitCode.CHECK_FAILED, ExitCode.UNKNOWN):
        if code in codes:
            return code
    return ExitCode.PASSED
