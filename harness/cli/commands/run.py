"""drill run: one drill (or a sweep), judged by its runbooks."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.cli.command import Command, host_port, positive
from harness.cli.exit_codes import ExitCode, exit_code
from harness.core.engines import ENGINE_NAMES
from harness.core.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Callable

    from harness.load.remote_protocol import RemoteWorkers
    from harness.scenario.model import Sweep


def arguments(run: argparse.ArgumentParser) -> None:
    run.add_argument("scenario", type=Path)
    run.add_argument(
        "--backend", choices=["local", "docker"], default=None, help="override the environment's backend"
    )
    run.add_argument(
        "--runs-dir", type=Path, default=Path("runs"), help="where run directories go (default: runs)"
    )
    run.add_argument("--quiet", action="store_true", help="print only the report")
    run.add_argument(
        "--allow-external-faults",
        action="store_true",
        help="allow faults on nodes the harness did not start (environments with external:)",
    )
    run.add_argument(
        "--secure",
        action="store_true",
        help="run on the secured variant of the scenario's environment: ACL users per role with the "
        "default user off, and TLS on every link, with passwords and certificates made for the run",
    )
    run.add_argument(
        "--target",
        default=None,
        metavar="NAME",
        help="the deployment this run is meant for: must equal the environment's confirm: (when it has one)",
    )
    run.add_argument(
        "--seed",
        type=int,
        default=None,
        metavar="N",
        help="the seed instead of the scenario's (every seeded choice; a nemesis draws its schedule from it)",
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="print what the drill would touch and run (drill plan), changing nothing",
    )
    run.add_argument(
        "--engine",
        choices=ENGINE_NAMES,
        default=None,
        help="run the nodes on this engine instead of the environment's (see drill engines)",
    )
    run.add_argument(
        "--toxiproxy",
        default=None,
        metavar="HOST:PORT",
        help="create the drill's proxy links on this running Toxiproxy server (loopback) instead of "
        "starting the embedded proxy; Redis-aware effects need the embedded one (or drill proxy)",
    )
    run.add_argument(
        "--ui",
        nargs="?",
        const="127.0.0.1:8089",
        default=None,
        metavar="HOST:PORT",
        help="serve Locust's web UI for the running drill (default 127.0.0.1:8089, loopback only)",
    )
    run.add_argument(
        "--workers",
        type=positive,
        default=None,
        metavar="N",
        help="run the load on N Locust workers on other machines (`drill worker --master HOST:PORT`); "
        "the drill waits for them before the load starts",
    )
    run.add_argument(
        "--master-bind",
        default=None,
        metavar="HOST:PORT",
        help="where the load's Locust master listens for --workers (default 0.0.0.0:5557, Locust's port)",
    )


def run(args: argparse.Namespace) -> int:
    from harness.report.table import render_table
    from harness.run.drill import RunOptions, run_drill
    from harness.run.progress import make_console
    from harness.scenario.loader import load_drill
    from harness.scenario.model import Sweep, secured

    if args.dry_run:
        from harness.cli.commands.plan import describe_plan

        print(describe_plan(args.scenario, args.backend, args.seed))
        return ExitCode.PASSED
    ui = _ui_address(args.ui)
    scenario = load_drill(args.scenario, args.engine)
    if args.seed is not None and not isinstance(scenario, Sweep):
        from harness.scenario.nemesis import with_seed

        scenario = with_seed(scenario, args.seed)
    if args.secure:
        scenario = secured(scenario)
    if args.engine is not None and scenario.environment.external:
        raise UsageError(
            f"drill run: --engine does not apply to {scenario.environment.file}: its nodes are "
            f"{scenario.environment.owner}, already running"
        )
    if args.toxiproxy is not None:
        scenario = _on_toxiproxy(scenario, args.toxiproxy, args.backend)
    env = scenario.environment
    remote = _remote_workers(args, env)
    if remote is not None and (isinstance(scenario, Sweep) or env.external):
        raise UsageError(
            f"drill run --workers: {args.scenario} is a sweep or runs on an external environment; "
            "remote workers join single drills on topologies the drill starts"
        )
    chosen = args.backend or env.backend
    if env.external:
        if args.secure:
            raise UsageError(
                f"drill run: --secure does not apply to {env.file}: its nodes are {env.owner}, "
                "configured by their owner"
            )
        if args.backend is not None:
            raise UsageError(
                f"drill run: --backend does not apply to {env.file}: its nodes are {env.owner}, "
                "already running"
            )
        chosen = "external"
        if env.confirm is not None and args.target != env.confirm:
            raise UsageError(
                f"drill run: {env.file} asks every run to name its deployment (confirm: {env.confirm}), and "
                + (f"--target {args.target} is another" if args.target else "this run gave no --target")
                + f". Pass --target {env.confirm} if it is meant for it; nothing was started or changed"
            )
        # Refused before anything starts: these nodes belong to someone else.
        faults = () if isinstance(scenario, Sweep) else scenario.faults
        if faults and not args.allow_external_faults:
            raise UsageError(
                f"drill run: {args.scenario} injects {len(faults)} fault(s) into {env.file}, an external "
                f"environment ({env.owner}) that this run does not own. "
                "Pass --allow-external-faults to accept that; nothing was started or changed"
            )
    console = make_console(args.quiet)
    if isinstance(scenario, Sweep):
        return _sweep(scenario, args.runs_dir, console.line, chosen)
    options = RunOptions(
        runs_dir=args.runs_dir,
        backend=chosen,
        ui=ui,
        allow_external_faults=args.allow_external_faults,
        remote=remote,
    )
    try:
        report = run_drill(scenario, options, console)
    finally:
        console.close()
    print(render_table(report))
    return exit_code(report)


def _sweep(sweep: Sweep, runs_dir: Path, progress: Callable[[str], None], backend: str) -> int:
    from harness.sweep.report import render_tables
    from harness.sweep.runner import run_sweep

    result = run_sweep(sweep, runs_dir, progress, backend)
    print(render_tables(result.cells))
    print(
        f"\n{len(result.cells)} measurements in {result.wall_time_s:.1f}s; CSV: {result.run_dir}/sweep.csv, "
        "chart: report.html"
    )
    return ExitCode.PASSED


def _ui_address(value: str | None) -> tuple[str, int] | None:
    if value is None:
        return None
    from harness.core.loopback import loopback_address

    try:
        return loopback_address(value)
    except ValueError as exc:
        raise UsageError(
            f"drill run --ui: expected a loopback HOST:PORT such as 127.0.0.1:8089 ({exc})"
        ) from None


def _remote_workers(args: argparse.Namespace, env: Any) -> RemoteWorkers | None:
    """--workers/--master-bind as the run's remote workers; refused where they cannot work."""
    from harness.load.remote_protocol import RemoteWorkers

    if args.workers is None:
        if args.master_bind is not None:
            raise UsageError("drill run: --master-bind goes with --workers N (how many workers to wait for)")
        return None
    if args.secure or env.password is not None or env.security is not None:
        raise UsageError(
            f"drill run --workers: {env.file} is secured (passwords, ACL users or TLS), and remote workers "
            "would need its credentials sent over Locust's unencrypted messages; run this drill's load on "
            "this machine (load.processes) instead"
        )
    return RemoteWorkers(
        args.workers, host_port("drill run --master-bind", args.master_bind or "0.0.0.0:5557")
    )


def _on_toxiproxy(scenario: Any, address: str, backend: str | None) -> Any:
    """The scenario with its environment's links on a running Toxiproxy server (proxy.server)."""
    from harness.core.loopback import loopback_address

    env = scenario.environment
    try:
        server = loopback_address(address)
    except ValueError as exc:
        raise UsageError(f"drill run: --toxiproxy {address}: {exc}") from None
    if env.proxy is None:
        raise UsageError(
            f"drill run: --toxiproxy needs an environment with proxy links (proxy: in {env.file}), and "
            f"{env.file} has none"
        )
    if (backend or env.backend) != "local":
        raise UsageError("drill run: --toxiproxy works with the local backend (Docker runs its own proxy)")
    proxy = dataclasses.replace(env.proxy, server=server)
    return dataclasses.replace(scenario, environment=dataclasses.replace(env, proxy=proxy))


COMMAND = Command(
    name="run",
    help="run a drill and judge it",
    example="drill run scenarios/primary-failover.yaml --backend docker\n"
    "  (its files go to runs/primary-failover-<run id>/: report.html, report.json, junit.xml and\n"
    "  observations.jsonl)",
    arguments=arguments,
    run=run,
)
