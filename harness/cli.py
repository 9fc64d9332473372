"""Command line. The only place that turns outcomes into exit codes."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
import traceback
from enum import IntEnum
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import gevent

if TYPE_CHECKING:
    from collections.abc import Callable

    from harness.load.remote_protocol import RemoteWorkers
    from harness.report.model import RunReport
    from harness.scenario.model import Sweep

from harness.engines import ENGINE_NAMES
from harness.errors import BackendError, ConfigError, DrillError, FaultError, Problem, UsageError


class ExitCode(IntEnum):
    PASSED = 0
    CHECK_FAILED = 1
    BAD_INPUT = 2
    ENVIRONMENT_ERROR = 3
    INTERRUPTED = 130
    BROKEN_PIPE = 141  # as a process killed by SIGPIPE: what `yes | head` leaves


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="drill", description="Chaos and load drills for Redis, judged by runbooks.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = commands.add_parser("run", help="run a drill and judge it")
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
        type=_positive,
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
    worker = commands.add_parser("worker", help="run part of a drill's load from this machine")
    worker.add_argument(
        "--master", required=True, metavar="HOST:PORT", help="the drill's --master-bind address"
    )
    validate = commands.add_parser("validate", help="check scenario, environment and runbook files")
    validate.add_argument("files", type=Path, nargs="+")
    proxy = commands.add_parser(
        "proxy", help="run the Toxiproxy-compatible proxy on its own (for other tools)"
    )
    proxy.add_argument("--listen", default="127.0.0.1:8474", help="API address (default 127.0.0.1:8474)")
    proxy.add_argument(
        "--allow-any-upstream", action="store_true", help="forward to non-loopback upstreams too"
    )
    proxy.add_argument("--seed", type=int, help="seed for jitter, slicer and toxicity rolls")
    audit = commands.add_parser("audit", help="readiness checklist against a live Redis (reads only)")
    audit.add_argument(
        "--host", default="127.0.0.1", help="loopback address of the server (default 127.0.0.1)"
    )
    audit.add_argument("--port", type=int, default=6379)
    audit.add_argument("--user", help="ACL user to log in as (default: the default user)")
    audit.add_argument("--password-env", metavar="VAR", help="environment variable holding the password")
    audit.add_argument("--password-file", type=Path, help="file holding the password")
    audit.add_argument("--sentinel", metavar="HOST:PORT", help="a Sentinel watching this deployment")
    audit.add_argument(
        "--cluster",
        action="store_true",
        help="the server is a Redis Cluster node: add the cluster items (C1-C4) from its view of the cluster",
    )
    audit.add_argument(
        "--tls-ca-cert", type=Path, help="CA certificate: connect with TLS, verifying the server"
    )
    audit.add_argument("--tls-cert", type=Path, help="client certificate, for servers with tls-auth-clients")
    audit.add_argument("--tls-key", type=Path, help="the client certificate's key")
    audit.add_argument(
        "--runs-dir", type=Path, default=Path("runs"), help="where passed failover drills are found"
    )
    listing = commands.add_parser("list", help="show the drill files of a directory with faults and runbooks")
    listing.add_argument("directory", type=Path, nargs="?", default=Path("scenarios"))
    kinds = commands.add_parser(
        "kinds",
        help="every workload, fault, check, trigger, gatherer, remediation and log record kind, with help",
    )
    kinds.add_argument(
        "section",
        nargs="?",
        choices=["workloads", "faults", "checks", "triggers", "gatherers", "remediations", "log"],
    )
    node = commands.add_parser(
        "node", help="status, stop, start, restart or kill a node of a running drill (for runbook programs)"
    )
    node.add_argument("action", choices=["status", "stop", "start", "restart", "kill"])
    node.add_argument("name", help="the node, e.g. redis-2 (a runbook program gets it as DRILL_NODE)")
    node.add_argument("--run-id", required=True, help="the drill's run id (DRILL_RUN_ID)")
    evaluate = commands.add_parser(
        "evaluate", help="judge a stored run again, with the same or edited runbooks and bounds"
    )
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
    report = commands.add_parser("report", help="re-render report.html from a run directory's files")
    report.add_argument("run_dir", type=Path)
    bench = commands.add_parser("bench", help="measure performance goals as side-by-side ratios")
    bench.add_argument(
        "target",
        choices=["proxy", "load", "soak"],
        help="proxy: proxied vs direct throughput and toxic latency; load: harness users vs redis-benchmark; "
        "soak: the harness's log growth and memory over a long drill",
    )
    bench.add_argument("--requests", type=int, default=3_000_000, help="requests per throughput measurement")
    bench.add_argument(
        "--connections",
        type=_positive,
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
    cleanup = commands.add_parser(
        "cleanup", help="remove processes and scratch dirs that killed runs left behind"
    )
    cleanup.add_argument("--run-id", help="only this run (even if its harness still runs)")
    commands.add_parser("engines", help="the engines installed here, with versions and what each lacks")
    matrix = commands.add_parser(
        "matrix", help="run one drill on several engines and compare them side by side"
    )
    matrix.add_argument("scenario", type=Path)
    matrix.add_argument(
        "--engines",
        type=_engine_list,
        required=True,
        help=f"comma-separated, in the order to run: {','.join(ENGINE_NAMES)}",
    )
    matrix.add_argument("--backend", choices=["local", "docker"], default=None)
    matrix.add_argument("--repeat", type=int, default=1, help="runs per engine (min/median/max when > 1)")
    matrix.add_argument("--runs-dir", type=Path, default=Path("runs"))
    matrix.add_argument("--secure", action="store_true", help="on the secured variant (needs TLS builds)")
    matrix.add_argument("--quiet", action="store_true", help="print only the comparison")
    image = commands.add_parser("image", help="the Docker backend's Redis image")
    image.add_argument("action", choices=["build"], help="build: from this machine's Redis, offline")
    image.add_argument("--rebuild", action="store_true", help="build again even if the tag exists")
    image.add_argument("--engine", choices=ENGINE_NAMES, default=None, help="from this engine's binaries")
    return parser


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    unraisable, sys.unraisablehook = sys.unraisablehook, _redeliver_interrupt(sys.unraisablehook)
    try:
        return _main(argv)
    finally:
        sys.unraisablehook = unraisable


def _main(argv: list[str] | None) -> int:
    try:
        args = _parser().parse_args(argv)
        if args.command == "validate":
            return _validate(args.files)
        if args.command == "cleanup":
            return _cleanup(args.run_id)
        if args.command == "audit":
            return _audit(args)
        if args.command == "list":
            return _list(args.directory)
        if args.command == "report":
            return _report(args.run_dir)
        if args.command == "kinds":
            from harness.kinds import render_kinds

            print(render_kinds(args.section))
            return ExitCode.PASSED
        if args.command == "node":
            from harness.node_control import control

            print(control(args.action, args.run_id, args.name))
            return ExitCode.PASSED
        if args.command == "evaluate":
            return _evaluate(args)
        if args.command == "bench":
            if args.toxiproxy is not None and args.target != "proxy":
                raise UsageError("drill bench: --toxiproxy goes with drill bench proxy")
            if args.target == "soak":
                return _soak(args.scenario)
            return _bench(args.target, args.requests, args.connections, args.cluster, args.toxiproxy)
        if args.command == "proxy":
            return _proxy(args.listen, args.allow_any_upstream, args.seed)
        if args.command == "image":
            return _image(args.rebuild, args.engine)
        if args.command == "engines":
            return _engines()
        if args.command == "matrix":
            return _matrix(args)
        if args.command == "worker":
            from harness.load.remote_worker import run_remote_worker

            return run_remote_worker(_host_port("drill worker --master", args.master), print)
        return _run(args, _ui_address(args.ui))
    except ConfigError as exc:
        print(f"drill: bad input ({len(exc.problems)} problem(s)):\n{exc}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    except UsageError as exc:
        print(str(exc), file=sys.stderr)
        return ExitCode.BAD_INPUT
    except (BackendError, FaultError) as exc:
        print(f"drill: environment error: {exc}", file=sys.stderr)
        return ExitCode.ENVIRONMENT_ERROR
    except DrillError as exc:
        print(f"drill: {exc}", file=sys.stderr)
        return ExitCode.ENVIRONMENT_ERROR
    except KeyboardInterrupt:
        print("drill: interrupted; everything the run started has been removed", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:  # `drill kinds | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return ExitCode.BROKEN_PIPE
    except Exception as exc:  # a bug in the harness: say so in one paragraph, keep the traceback in a file
        if _caused_by_interrupt(exc):  # raised where Python wraps it (a class body's __set_name__, say)
            print("drill: interrupted; everything the run started has been removed", file=sys.stderr)
            return ExitCode.INTERRUPTED
        crash = Path(tempfile.mkstemp(prefix="redis-drill-crash-", suffix=".txt")[1])
        crash.write_text(traceback.format_exc(), encoding="utf-8")
        print(
            f"drill: internal error (a bug in redis-drill, not in your files): {type(exc).__name__}: {exc}. "
            f"Everything the run started has been removed. Traceback: {crash}",
            file=sys.stderr,
        )
        return ExitCode.ENVIRONMENT_ERROR


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C and SIGTERM end the run in the main greenlet, whichever greenlet the signal lands in: raised
    in a (monkey-patched) thread, a thread's excepthook would swallow it and the drill would run on."""
    main_greenlet = gevent.get_hub().parent
    if main_greenlet is None or gevent.getcurrent() is main_greenlet:
        raise KeyboardInterrupt
    _throw_when_main_waits()


def _throw_when_main_waits() -> bool:
    """KeyboardInterrupt thrown into the main greenlet when it next yields to the hub (False: no hub
    parent to throw into)."""
    hub = gevent.get_hub()
    if hub.parent is None:
        return False
    hub.loop.run_callback(hub.parent.throw, KeyboardInterrupt)
    return True


def _caused_by_interrupt(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(16):  # a chain is short; a cycle is not followed forever
        if seen is None:
            return False
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _redeliver_interrupt(
    default: Callable[[sys.UnraisableHookArgs], object],
) -> Callable[[sys.UnraisableHookArgs], None]:
    """A hook for exceptions Python swallows: one raised by `_interrupt` while the interpreter ran a weakref
    callback or a __del__ (the import system's module-lock callback, say: seen in CI as an interrupt the drill
    ignored, running on to exit 0) is thrown into the main greenlet again, when it next waits."""

    def hook(unraisable: sys.UnraisableHookArgs) -> None:
        if not (isinstance(unraisable.exc_value, KeyboardInterrupt) and _throw_when_main_waits()):
            default(unraisable)

    return hook


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


def _validate(files: list[Path]) -> int:
    from harness.scenario.loader import load_any

    problems: list[Problem] = []
    for file in files:
        try:
            load_any(file)
            print(f"{file}: ok")
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    return ExitCode.PASSED


def _proxy(listen: str, allow_any: bool, seed: int | None) -> int:
    # The proxy is asyncio; this process is gevent-patched. Replace it with a clean interpreter.
    argv = [sys.executable, "-m", "harness.proxy", "--listen", listen]
    argv += ["--allow-any-upstream"] if allow_any else []
    argv += ["--seed", str(seed)] if seed is not None else []
    os.execv(sys.executable, argv)
    return ExitCode.ENVIRONMENT_ERROR  # not reached


def _image(rebuild: bool, engine_name: str | None) -> int:
    from harness.backends.image import MONITORING, connect, ensure_built, ensure_image, plan_image
    from harness.engines import find_engine
    from harness.errors import BackendError

    engine = find_engine(engine_name) if engine_name else None
    client = connect()
    started = time.monotonic()
    tag = ensure_image(client, rebuild=rebuild, engine=engine)
    print(f"drill image: {tag} ready ({time.monotonic() - started:.1f}s)")
    # The compose lab's exporter and Prometheus (`--profile monitoring`), when they are installed here.
    started = time.monotonic()
    try:
        plan = plan_image(MONITORING)
    except BackendError as exc:  # not installed: the lab runs without them
        print(f"drill image: no monitoring image: {exc}")
        return ExitCode.PASSED
    tag = ensure_built(client, plan, rebuild)
    print(f"drill image: {tag} ready ({time.monotonic() - started:.1f}s)")
    return ExitCode.PASSED


def _audit(args: argparse.Namespace) -> int:
    from harness.access import Credentials, TlsFiles
    from harness.audit import audit, loopback_only, read_snapshot, render
    from harness.secrets import Secret

    host = loopback_only(args.host)
    password = None
    if args.password_env:
        password = os.environ.get(args.password_env)
        if password is None:
            raise UsageError(f"drill audit: environment variable {args.password_env} is not set")
    elif args.password_file:
        try:
            password = args.password_file.read_text().strip()
        except OSError as exc:
            raise UsageError(f"drill audit: cannot read {args.password_file}: {exc.strerror}") from None
    sentinel = None
    if args.sentinel:
        s_host, _, s_port = args.sentinel.rpartition(":")
        if not s_port.isdigit():
            raise UsageError(f"drill audit: --sentinel expects HOST:PORT, got {args.sentinel!r}")
        sentinel = (loopback_only(s_host), int(s_port))
    tls = None
    if args.tls_ca_cert:
        if bool(args.tls_cert) != bool(args.tls_key):
            raise UsageError("drill audit: --tls-cert and --tls-key go together")
        for path in (args.tls_ca_cert, args.tls_cert, args.tls_key):
            if path is not None and not path.is_file():
                raise UsageError(f"drill audit: {path} is not a file")
        cert, key = (str(args.tls_cert), str(args.tls_key)) if args.tls_cert else (None, None)
        tls = TlsFiles(str(args.tls_ca_cert), cert, key)
    elif args.tls_cert or args.tls_key:
        raise UsageError("drill audit: --tls-cert and --tls-key need --tls-ca-cert")
    login = Credentials(args.user, Secret(password) if password is not None else None, tls)
    items = audit(read_snapshot(host, args.port, login, sentinel, args.runs_dir, args.cluster))
    print(render(items, f"{host}:{args.port}"))
    return ExitCode.CHECK_FAILED if any(i.verdict == "fail" for i in items) else ExitCode.PASSED


def _list(directory: Path) -> int:
    from harness.listing import list_drills

    if not directory.is_dir():
        raise UsageError(f"drill list: {directory} is not a directory")
    print(list_drills(directory))
    return ExitCode.PASSED


def _evaluate(args: argparse.Namespace) -> int:
    from harness.reevaluate import OUT_DIR, EvaluateOptions, reevaluate
    from harness.report.table import render_table

    options = EvaluateOptions(args.scenario, tuple(args.runbook), tuple(args.expect))
    report = reevaluate(args.run_dir, options)
    print(render_table(report))
    print(f"reports: {args.run_dir / OUT_DIR}/")
    return exit_code(report)


def _report(run_dir: Path) -> int:
    from harness.report.rerender import rerender

    print(rerender(run_dir))
    return ExitCode.PASSED


def _soak(scenario: Path) -> int:
    from harness.bench.soak_bench import render, run_soak_bench
    from harness.scenario.loader import load_scenario

    load_s = load_scenario(scenario).load.duration  # bad input stops here, before anything runs
    result = run_soak_bench(scenario, load_s)
    print(render(result))
    return ExitCode.PASSED if result.exit_code == 0 else ExitCode.CHECK_FAILED


def _bench(target: str, requests: int, connections: int, cluster: bool, toxiproxy: str | None) -> int:
    if target == "load":
        from harness.bench.load_bench import render as render_load
        from harness.bench.load_bench import run_load_bench

        rows = run_load_bench(connections=connections, cluster=cluster)
        print(render_load(rows, connections, cluster))
        return ExitCode.PASSED
    if cluster:
        raise UsageError("--cluster goes with drill bench load")
    from harness.bench.proxy_bench import render, run_proxy_bench
    from harness.loopback import loopback_address

    try:
        server = loopback_address(toxiproxy) if toxiproxy is not None else None
    except ValueError as exc:
        raise UsageError(f"drill bench proxy: --toxiproxy {toxiproxy}: {exc}") from None
    print(render(run_proxy_bench(requests, server)))
    return ExitCode.PASSED


def _cleanup(run_id: str | None) -> int:
    from harness.backends.reaper import reap

    reaped = reap(run_id)
    print(
        f"drill cleanup: {len(reaped.run_ids)} run(s), {reaped.processes} process(es), "
        f"{reaped.directories} scratch dir(s), {reaped.containers} container(s), {reaped.networks} "
        f"network(s), {reaped.volumes} volume(s) removed"
    )
    for live in reaped.skipped_live:
        print(f"  skipped run {live}: its harness is still running (use --run-id to force)")
    return ExitCode.PASSED


def _ui_address(value: str | None) -> tuple[str, int] | None:
    if value is None:
        return None
    from harness.loopback import loopback_address

    try:
        return loopback_address(value)
    except ValueError as exc:
        raise UsageError(
            f"drill run --ui: expected a loopback HOST:PORT such as 127.0.0.1:8089 ({exc})"
        ) from None


def _host_port(option: str, value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"{option}: expected HOST:PORT such as 10.0.0.5:5557, got {value!r}")
    return host, int(port)


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
        args.workers, _host_port("drill run --master-bind", args.master_bind or "0.0.0.0:5557")
    )


def _run(args: argparse.Namespace, ui: tuple[str, int] | None) -> int:
    from harness.progress import make_console
    from harness.report.table import render_table
    from harness.run import RunOptions, run_drill
    from harness.scenario.loader import load_drill
    from harness.scenario.model import Sweep, secured

    scenario = load_drill(args.scenario, args.engine)
    if args.secure:
        scenario = secured(scenario)
    if args.engine is not None and scenario.environment.external_compose_project is not None:
        raise UsageError(
            f"drill run: --engine does not apply to {scenario.environment.file}: its nodes are Compose "
            f"project {scenario.environment.external_compose_project}'s containers, already running"
        )
    if args.toxiproxy is not None:
        scenario = _on_toxiproxy(scenario, args.toxiproxy, args.backend)
    env = scenario.environment
    remote = _remote_workers(args, env)
    if remote is not None and (isinstance(scenario, Sweep) or env.external_compose_project is not None):
        raise UsageError(
            f"drill run --workers: {args.scenario} is a sweep or runs on an external environment; "
            "remote workers join single drills on topologies the drill starts"
        )
    chosen = args.backend or env.backend
    if env.external_compose_project is not None:
        if args.secure:
            raise UsageError(
                f"drill run: --secure does not apply to {env.file}: its nodes are Compose project "
                f"{env.external_compose_project}'s containers, configured by their owner"
            )
        if args.backend is not None:
            raise UsageError(
                f"drill run: --backend does not apply to {env.file}: its nodes are Compose project "
                f"{env.external_compose_project}'s containers, already running"
            )
        chosen = "external"
        # Refused before anything starts: these nodes belong to someone else.
        faults = () if isinstance(scenario, Sweep) else scenario.faults
        if faults and not args.allow_external_faults:
            raise UsageError(
                f"drill run: {args.scenario} injects {len(faults)} fault(s) into {env.file}, an external "
                f"environment (Compose project {env.external_compose_project}) that this run does not own. "
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


def _on_toxiproxy(scenario: Any, address: str, backend: str | None) -> Any:
    """The scenario with its environment's links on a running Toxiproxy server (proxy.server)."""
    import dataclasses

    from harness.loopback import loopback_address

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


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {value!r}")
    return int(value)


def _engine_list(value: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in value.split(",") if n.strip())
    unknown = [n for n in names if n not in ENGINE_NAMES]
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            f"unknown engine(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(ENGINE_NAMES)}"
        )
    if len(set(names)) != len(names):
        raise argparse.ArgumentTypeError("an engine is named twice")
    return names


def _matrix(args: argparse.Namespace) -> int:
    from harness.matrix import MatrixOptions, run_matrix
    from harness.progress import make_console

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
    outcomes = {run.report.outcome for run in result.runs}
    if "failed" in outcomes:
        return ExitCode.CHECK_FAILED
    return ExitCode.ENVIRONMENT_ERROR if "unknown" in outcomes else ExitCode.PASSED


def _engines() -> int:
    """Every engine: found (version, binaries, what it lacks) or not (what to install)."""
    from tabulate import tabulate

    from harness.engines import Engine, installed_engines

    rows = []
    for name, found in installed_engines():
        if isinstance(found, Engine):
            rows.append([name, found.version, found.source, str(found.server), ", ".join(found.lacks) or "-"])
        else:
            rows.append([name, "-", "not installed", found, "-"])
    print(tabulate(rows, headers=["engine", "version", "from", "server (or why missing)", "lacks"]))
    return ExitCode.PASSED


def exit_code(report: RunReport) -> ExitCode:
    """0 every check passed, 1 a check failed, 3 none failed but some could not judge."""
    outcome = report.outcome
    if outcome == "failed":
        return ExitCode.CHECK_FAILED
    return ExitCode.ENVIRONMENT_ERROR if outcome == "unknown" else ExitCode.PASSED
