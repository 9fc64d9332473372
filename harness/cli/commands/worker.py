"""drill worker: part of a drill's load from this machine (Locust's distributed mode)."""

from __future__ import annotations

import argparse

from harness.cli.command import Command, host_port


def arguments(worker: argparse.ArgumentParser) -> None:
    worker.add_argument(
        "--master", required=True, metavar="HOST:PORT", help="the drill's --master-bind address"
    )


def run(args: argparse.Namespace) -> int:
    from harness.load.remote_worker import run_remote_worker

    return run_remote_worker(host_port("drill worker --master", args.master), print)


COMMAND = Command(
    name="worker",
    help="run part of a drill's load from this machine",
    example="drill worker --master 10.0.0.5:5557   (beside: drill run SCENARIO --workers 1 on 10.0.0.5)",
    arguments=arguments,
    run=run,
)
