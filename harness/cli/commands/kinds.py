"""drill kinds: every kind the files may name, from its definition."""

from __future__ import annotations

import argparse
import shutil
import sys

from harness.cli.command import Command
from harness.cli.exit_codes import ExitCode

SECTIONS = (
    "workloads", "faults", "checks", "stop-conditions", "triggers", "gatherers", "remediations", "log",
)  # fmt: skip


def arguments(kinds: argparse.ArgumentParser) -> None:
    kinds.add_argument("section", nargs="?", choices=SECTIONS)


def run(args: argparse.Namespace) -> int:
    from harness.cli.kinds import WIDTH, render_kinds

    width = shutil.get_terminal_size((WIDTH, 24)).columns if sys.stdout.isatty() else WIDTH
    print(render_kinds(args.section, max(width, 60)))
    return ExitCode.PASSED


COMMAND = Command(
    name="kinds",
    help="every workload, fault, check, trigger, gatherer, remediation and log record kind, with help",
    example="drill kinds checks",
    arguments=arguments,
    run=run,
)
