"""drill list: the drill files of a directory."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.cli.command import Command
from harness.cli.exit_codes import ExitCode
from harness.core.errors import UsageError


def arguments(listing: argparse.ArgumentParser) -> None:
    listing.add_argument("directory", type=Path, nargs="?", default=Path("scenarios"))


def run(args: argparse.Namespace) -> int:
    from harness.scenario.listing import list_drills

    if not args.directory.is_dir():
        raise UsageError(
            f"drill list: {args.directory} is not a directory (looked at {args.directory.resolve()})"
        )
    print(list_drills(args.directory))
    return ExitCode.PASSED


COMMAND = Command(
    name="list",
    help="show the drill files of a directory with faults and runbooks",
    example="drill list scenarios/",
    arguments=arguments,
    run=run,
)
