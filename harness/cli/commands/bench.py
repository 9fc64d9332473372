"""drill bench: performance goals as ratios measured side by side in one run."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.cli.command import Command, positive
from harness.cli.exit_codes import ExitCode
from harness.core.errors import UsageError


def arguments(bench: argparse.ArgumentParser) -> None:
    bench.add_argument(
        "target",
        choices=["proxy", "load", "soak"],
        help="proxy: proxied vs direct throughput and toxic latency; load: harness users vs redis-benchmark; "
        "soak: the harness's log growth and memory over a long drill",
    )
    bench.add_argument("--requests", type=int, default=3_000_000, help="requests per throughput measurement")
    bench.add_argument(
        "--connections",
        type=positive,
        default=10,
        help="load: connections (users) on each side (default 10; redis-benchmark's own default is 50)",
    )
    bench.add_argument(
        "--cluster",
        action="store_true",
        help="load: on a fresh 3-primary cluster, against redis-benchmark --cluster",
    )
    bench.add_argument(
        "--toxiproxy",
        metavar="HOST:PORT",
        help="proxy: measure this running Toxiproxy server (loopback) beside ours, in the same rounds",
    )
    bench.add_argument(
        "--scenario",
        type=Path,
        default=Path("scenarios/soak.yaml"),
        help="soak: the drill to run (default scenarios/soak.yaml: 2 minutes of full load, failover halfway)",
    )


def run(args: argparse.Namespace) -> int:
    if args.toxiproxy is not None and args.target != "proxy":
        raise UsageError("drill bench: --toxiproxy goes with drill bench proxy")
    if args.target == "soak":
        return _soak(args.scenario)
    if args.target == "load":
        from harness.bench.load_bench import run_load_bench
        from harness.bench.load_figures import render as render_load

        rows = run_load_bench(connections=args.connections, cluster=args.cluster)
        print(render_load(rows, args.connections, args.cluster))
        return ExitCode.PASSED
    if args.cluster:
        raise UsageError("--cluster goes with drill bench load")
    from harness.bench.proxy_bench import render, run_proxy_bench
    from harness.core.loopback import loopback_address

    try:
        server = loopback_address(args.toxiproxy) if args.toxiproxy is not None else None
    except ValueError as exc:
        raise UsageError(f"drill bench proxy: --toxiproxy {args.toxiproxy}: {exc}") from None
    print(render(run_proxy_bench(args.requests, server)))
    return ExitCode.PASSED


def _soak(scenario: Path) -> int:
    from harness.bench.soak_bench import render, run_soak_bench
    from harness.scenario.loader import load_scenario

    load_s = load_scenario(scenario).load.duration  # bad input stops here, before anything runs
    result = run_soak_bench(scenario, load_s)
    print(render(result))
    return ExitCode.PASSED if result.exit_code == 0 else ExitCode.CHECK_FAILED


COMMAND = Command(
    name="bench",
    help="measure performance goals as side-by-side ratios",
    example="drill bench proxy   (direct vs proxied SET/s in the same rounds; ratios printed)",
    arguments=arguments,
    run=run,
)
