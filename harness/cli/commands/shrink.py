"""drill shrink: the smallest part of a nemesis run's schedule that still breaks the verdict it broke."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.cli.command import Command
from harness.cli.exit_codes import ExitCode


def arguments(shrink: argparse.ArgumentParser) -> None:
    shrink.add_argument("run_dir", type=Path, help="a nemesis run that broke a verdict")
    shrink.add_argument(
        "--max-trials", type=int, default=20, metavar="N", help="stop after N trial drills (default 20)"
    )
    shrink.add_argument(
        "--verdict",
        default="",
        metavar="NAME",
        help="the verdict to keep broken (default: the run's first failed one; without its incident prefix)",
    )
    shrink.add_argument(
        "--backend",
        choices=("local", "docker"),
        default=None,
        help="run the trials here (default: the run's)",
    )


def run(args: argparse.Namespace) -> int:
    from harness.run.shrink import shrink

    result = shrink(args.run_dir, args.max_trials, args.backend, print, args.verdict)
    faults = "; ".join(f"{u[0].action} {u[0].target} at {u[0].at:g}s" for u in result.kept)
    print(
        f"drill shrink: {len(result.kept)} of {result.drawn} drawn fault(s) still break {result.verdict!r} "
        f"after {result.trials} trial(s): {faults}\nwritten: {result.scenario_file}"
    )
    return ExitCode.PASSED


COMMAND = Command(
    name="shrink",
    help="re-run subsets of a nemesis run's schedule to find the smallest that still breaks its verdict",
    example="drill shrink runs/nemesis-20261206-040000-abcdef --max-trials 10",
    arguments=arguments,
    run=run,
)
