"""drill cleanup: remove what runs whose harness died left behind."""

from __future__ import annotations

import argparse

from harness.cli.command import Command
from harness.cli.exit_codes import ExitCode


def arguments(cleanup: argparse.ArgumentParser) -> None:
    cleanup.add_argument("--run-id", help="only this run (even if its harness still runs)")


def run(args: argparse.Namespace) -> int:
    from harness.backends.reaper import reap

    reaped = reap(args.run_id)
    print(
        f"drill cleanup: {len(reaped.run_ids)} run(s), {reaped.processes} process(es), "
        f"{reaped.directories} scratch dir(s), {reaped.containers} container(s), {reaped.networks} "
        f"network(s), {reaped.volumes} volume(s) removed"
    )
    for live in reaped.skipped_live:
        print(f"  skipped run {live}: its harness is still running (use --run-id to force)")
    return ExitCode.PASSED


COMMAND = Command(
    name="cleanup",
    help="remove processes and scratch dirs that killed runs left behind",
    example="drill cleanup   (every run whose harness is gone; --run-id ID for one)",
    arguments=arguments,
    run=run,
)
