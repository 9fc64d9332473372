"""drill schema: the JSON Schema of a kind of file, for editors (yaml-language-server) and CI linters."""

from __future__ import annotations

import argparse

from harness.cli.command import Command
from harness.cli.exit_codes import ExitCode

KINDS = ("scenario", "environment", "runbook", "sweep")


def arguments(schema: argparse.ArgumentParser) -> None:
    schema.add_argument("kind", choices=KINDS, help="which kind of file")


def run(args: argparse.Namespace) -> int:
    from harness.cli.schema import render

    print(render(args.kind), end="")
    return ExitCode.PASSED


COMMAND = Command(
    name="schema",
    help="the JSON Schema of scenario, environment, runbook or sweep files (committed under schemas/)",
    example=(
        "drill schema scenario > schemas/scenario.json\n"
        "  # then, first line of a scenario file:\n"
        "  # yaml-language-server: $schema=../schemas/scenario.json"
    ),
    arguments=arguments,
    run=run,
)
