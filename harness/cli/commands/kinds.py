"""drill kinds: every kind the files may name, from its definition."""

from __future__ import annotations

import argparse
import shutil
import sys

from harness.cli.command import Command
from harness.cli.exit_codes import ExitCode
from harness.core.errors import UsageError

SECTIONS = (
    "workloads", "faults", "checks", "stop-conditions", "triggers", "gatherers", "remediations", "log",
)  # fmt: skip


def arguments(kinds: argparse.ArgumentParser) -> None:
    kinds.add_argument("section", nargs="?", choices=SECTIONS)
    kinds.add_argument(
        "--format",
        choices=("text", "markdown"),
        default="text",
        help="markdown: the docs site's reference page of one section (docs/reference/SECTION.md)",
    )


def run(args: argparse.Namespace) -> int:
    from harness.cli.kinds import WIDTH, render_kinds, render_markdown

    if args.format == "markdown":
        if args.section is None:
            raise UsageError("drill kinds --format markdown: name the section (one reference page each)")
        print(render_markdown(args.section), end="")
        return ExitCode.PASSED
    width = shutil.get_terminal_size((WIDTH, 24)).columns if sys.stdout.isatty() else WIDTH
    print(render_kinds(args.section, max(width, 60)))
    return ExitCode.PASSED


COMMAND = Command(
    name="kinds",
    help="every workload, fault, check, trigger, gatherer, remediation and log record kind, with help",
    example="drill kinds checks\n  drill kinds faults --format markdown > docs/reference/faults.md",
    arguments=arguments,
    run=run,
)
