"""drill report: render report.html again."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.cli.command import Command
from harness.cli.exit_codes import ExitCode


def arguments(report: argparse.ArgumentParser) -> None:
    report.add_argument("run_dir", type=Path)


def run(args: argparse.Namespace) -> int:
    from harness.report.rerender import rerender

    print(rerender(args.run_dir))
    return ExitCode.PASSED


COMMAND = Command(
    name="report",
    help="re-render report.html from a run directory's files",
    example="drill report runs/primary-failover-1a2b3c",
    arguments=arguments,
    run=run,
)
