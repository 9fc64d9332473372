"""Secrets named by environment files: read from environment variables or files when a run starts, never
printed (the value hides from repr and str), never written into the run directory."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from harness.core.errors import ConfigError, Problem


@dataclass(frozen=True, slots=True)
class Secret:
    value: str = field(repr=False)

    def __str__(self) -> str:
        return "<secret>"

    def reveal(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class SecretSource:
    """Where a secret comes from: `env` (a variable's name) or `file` (a path)."""

    kind: str
    name: str
    where: Problem  # the environment file's line that names it (message empty), for errors

    def resolve(self) -> Secret:
        if self.kind == "env":
            value = os.environ.get(self.name)
            if not value:
                raise ConfigError([_problem(self, f"environment variable {self.name} is not set")])
            return Secret(value)
        try:
            value = Path(self.name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError([_problem(self, f"cannot read {self.name}: {exc.strerror}")]) from None
        if not value:
            raise ConfigError([_problem(self, f"{self.name} is empty")])
        return Secret(value)


def _problem(source: SecretSource, message: str) -> Problem:
    return Problem(source.where.file, source.where.line, source.where.field, message)
