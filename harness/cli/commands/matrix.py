"""drill matrix: one drill on several engines, side by side."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.cli.command import Command
from harness.cli.exit_codes import worst
from harness.core.engines import ENGINE_NAMES
from harness.core.errors import UsageError


def engine_list(value: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in value.split(",") if n.strip())
    unknown = [n for n in names if n not in ENGINE_NAMES]
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            f"unknown engine(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(ENGINE_NAMES)}"
        )
    if len(set(names)) != len(names):
        raise argparse.ArgumentTypeError("an engine is named twice")
    return names


def arguments(matrix: argparse.ArgumentParser) -> None:
    matrix.add_argument("scenario", type=Path)
    matrix.add_argument(
        "--engines",
        type=engine_list,
        required=True,
        help=f"comma-separated, in the order to run: {','.join(ENGINE_NAMES)}",
    )
    matrix.add_argument("--backend", choices=["local", "docker"], default=None)
    matrix.add_argument("--repeat", type=int, default=1, help="runs per engine (min/median/max when > 1)")
    matrix.add_argument("--runs-dir", type=Path, default=Path("runs"))
    matrix.add_argument("--secure", action="store_true", help="on the secured variant (needs TLS builds)")
    matrix.add_argument("--quiet", action="store_true", help="print only the comparison")


def run(args: argparse.Namespace) -> int:
    from harness.cli.exit_codes import exit_code
    from harness.run.matrix import MatrixOptions, run_matrix
    from harness.run.progress import make_console

    if args.repeat < 1:
        raise UsageError("drill matrix: --repeat must be at least 1")
    options = MatrixOptions(args.engines, args.backend, args.repeat, args.runs_dir, args.secure)
    console = make_console(args.quiet)
    try:
        result = run_matrix(args.scenario, options, console)
    finally:
        console.close()
    print(result.table)
    print(f"\nmatrix: {result.directory}/matrix.json, matrix.html")
    return worst([exit_code(run.report) for run in result.runs])


COMMAND = Command(
    name="matrix",
    help="run one drill on several engines and compare them side by side",
    example="drill matrix scenarios/primary-failover.yaml --engines redis-7.0,valkey-8.1 --repeat 3",
    arguments=arguments,
    run=run,
)
