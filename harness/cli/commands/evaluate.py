"""drill evaluate: judge a stored run again."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.cli.command import Command
from harness.cli.exit_codes import exit_code


def arguments(evaluate: argparse.ArgumentParser) -> None:
    evaluate.add_argument("run_dir", type=Path)
    evaluate.add_argument(
        "--scenario", type=Path, help="the scenario to judge by (default: the file the run started from)"
    )
    evaluate.add_argument(
        "--runbook",
        type=Path,
        action="append",
        default=[],
        help="judge by this runbook instead of the scenario's (repeatable)",
    )
    evaluate.add_argument(
        "--expect",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one of the scenario's expectations, e.g. recovery_within=5s (repeatable)",
    )


def run(args: argparse.Namespace) -> int:
    from harness.report.table import render_table
    from harness.run.reevaluate import OUT_DIR, EvaluateOptions, reevaluate

    options = EvaluateOptions(args.scenario, tuple(args.runbook), tuple(args.expect))
    report = reevaluate(args.run_dir, options)
    print(render_table(report))
    print(f"reports: {args.run_dir / OUT_DIR}/")
    return exit_code(report)


COMMAND = Command(
    name="evaluate",
    help="judge a stored run again, with the same or edited runbooks and bounds",
    example="drill evaluate runs/primary-failover-1a2b3c --expect recovery_within=5s",
    arguments=arguments,
    run=run,
)
