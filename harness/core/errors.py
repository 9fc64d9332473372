"""The harness's error hierarchy. cli.py maps each class to an exit code."""

from __future__ import annotations

from dataclasses import dataclass


class DrillError(Exception):
    """Base class of every error the harness reports without a traceback."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input file, located as precisely as we can."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class ConfigError(DrillError):
    """Bad input: every problem found in the files, reported at once."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in problems))


class UsageError(DrillError):
    """Bad command line."""


class BackendError(DrillError):
    """The topology could not be started, reached or controlled."""


class FaultError(DrillError):
    """A fault could not be applied."""
