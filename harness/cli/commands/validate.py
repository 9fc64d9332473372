"""drill validate: load and check files, start nothing."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.cli.command import Command
from harness.cli.exit_codes import ExitCode
from harness.core.errors import ConfigError, Problem


def arguments(validate: argparse.ArgumentParser) -> None:
    validate.add_argument("files", type=Path, nargs="+")


def run(args: argparse.Namespace) -> int:
    from harness.scenario.loader import load_any

    problems: list[Problem] = []
    for file in args.files:
        try:
            load_any(file)
            print(f"{file}: ok")
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    return ExitCode.PASSED


COMMAND = Command(
    name="validate",
    help="check scenario, environment and runbook files",
    example="drill validate scenarios/*.yaml environments/*.yaml runbooks/*.yaml",
    arguments=arguments,
    run=run,
)
