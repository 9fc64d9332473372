"""drill plan: what a drill would touch (nodes, each fault's exact command, the key prefix, every bound and
where its value comes from), changing nothing. `drill run --dry-run` prints the same."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.cli.command import Command
from harness.cli.exit_codes import ExitCode


def arguments(plan: argparse.ArgumentParser) -> None:
    plan.add_argument("scenario", type=Path)
    plan.add_argument(
        "--backend", choices=("local", "docker"), default=None, help="the backend it would run on"
    )
    plan.add_argument(
        "--seed", type=int, default=None, metavar="N", help="the seed it would run with (drill run --seed)"
    )


def run(args: argparse.Namespace) -> int:
    print(describe_plan(args.scenario, args.backend, args.seed))
    return ExitCode.PASSED


def describe_plan(path: Path, backend: str | None, seed: int | None = None) -> str:
    from harness.core.errors import UsageError
    from harness.run.dry_run import describe
    from harness.scenario.loader import load_drill
    from harness.scenario.model import Scenario

    scenario = load_drill(path, None)
    if not isinstance(scenario, Scenario):
        raise UsageError(f"drill plan: {path} is a sweep; plans are for drills (scenarios)")
    if seed is not None:
        from harness.scenario.nemesis import with_seed

        scenario = with_seed(scenario, seed)
    env = scenario.environment
    topology = None
    prefix = "drill"
    if env.external_deployment is not None:
        from harness.backends.addressed import found_topology  # reads only: SENTINEL commands

        topology = found_topology(env)
        prefix = env.external_deployment.key_prefix
    return describe(scenario, backend or env.backend, topology, f"{prefix}:<run id>")


COMMAND = Command(
    name="plan",
    help="print what a drill would touch and the commands it would run, changing nothing",
    example="drill plan scenarios/primary-failover.yaml",
    arguments=arguments,
    run=run,
)
