"""drill node: act on a node of a running drill, as a runbook program would with systemctl."""

from __future__ import annotations

import argparse

from harness.cli.command import Command
from harness.cli.exit_codes import ExitCode


def arguments(node: argparse.ArgumentParser) -> None:
    node.add_argument("action", choices=["status", "stop", "start", "restart", "kill"])
    node.add_argument("name", help="the node, e.g. redis-2 (a runbook program gets it as DRILL_NODE)")
    node.add_argument("--run-id", required=True, help="the drill's run id (DRILL_RUN_ID)")


def run(args: argparse.Namespace) -> int:
    from harness.backends.node_control import control

    print(control(args.action, args.run_id, args.name))
    return ExitCode.PASSED


COMMAND = Command(
    name="node",
    help="status, stop, start, restart or kill a node of a running drill (for runbook programs)",
    example='drill node start "$DRILL_NODE" --run-id "$DRILL_RUN_ID"   (inside a runbook program)',
    arguments=arguments,
    run=run,
)
