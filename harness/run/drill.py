"""One drill, top to bottom: bring the topology up, load it, inject faults, observe, tear down, judge."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.alerting.pager import Pager
from harness.alerting.poller import watch_alerts
from harness.alerting.rules import CONSOLE_PAGE, RULES_FILE
from harness.alerting.stack import AlertStack
from harness.backends.base import Backend
from harness.backends.choose import make_backend, require_partitions
from harness.backends.watchdog import DeadMansSwitch
from harness.core.engines import Engine, EngineMissing, find_engine, installed_engines
from harness.core.errors import FaultError
from harness.core.log_records import AlertingRecord, RollbackRecord, TopologyRecord
from harness.core.observation_log import ObservationLog, read_log
from harness.core.run_context import RunContext
from harness.core.topology import Node, Topology
from harness.faults.injector import FaultInjector
from harness.faults.server import preflight
from harness.faults.timeline import ScheduledFault, due, schedule
from harness.load.remote_protocol import RemoteWorkers
from harness.observe.cluster_view import watch_cluster
from harness.observe.info_sampler import sample_info
from harness.observe.readback import keys_to_read, read_back, sets_to_read
from harness.observe.security_probe import probe_security
from harness.observe.sentinel_events import watch_sentinel
from harness.report.model import RunReport, build_report
from harness.report.write import write_reports
from harness.respond.commands import StepSetting
from harness.respond.program_probes import ProgramProbes
from harness.respond.responder import Responder
from harness.run.guard import Guard
from harness.run.live import PATH as LIVE_PATH
from harness.run.live import LivePage
from harness.run.progress import Console, Status
from harness.runbooks.evaluate import evaluate
from harness.runbooks.history import History
from harness.scenario.model import MAX_MARGIN_S, Environment, Scenario

TICK_S = 0.02
STATUS_EVERY_S = 0.25
# Observation continues this long after the load stops, so late recovery events still land in the log.
SETTLE_S = 0.5


@dataclass(frozen=True, slots=True)
class Paging:
    """The alert stack as the drill's observers and responder see it."""

    api: str | None  # Prometheus, whose alert states are logged
    pager: Pager | None  # Alertmanager's notifications, when the scenario pages


@dataclass(frozen=True, slots=True)
class RunOptions:
    runs_dir: Path
    backend: str = "local"
    ui: tuple[str, int] | None = None  # serve Locust's web UI for the running drill here
    allow_external_faults: bool = False  # faults on nodes the harness did not start (an external environment)
    remote: RemoteWorkers | None = None  # load workers on other machines (drill run --workers)


def run_drill(scenario: Scenario, options: RunOptions, console: Console) -> RunReport:
    started = time.monotonic()
    env = scenario.environment
    for source in (env.password, env.security.secret if env.security else None):
        if source is not None:
            source.resolve()  # a missing secret is bad input: say so before starting anything
    if any(f.partition is not None for f in scenario.faults) and env.external_deployment is None:
        require_partitions(options.backend)  # a deployment found by address cuts with its own commands
    engine = None if options.backend == "external" else required_engine(env)  # before anything starts
    deployment = env.external_deployment
    run = RunContext.create(options.runs_dir, scenario.name, deployment.key_prefix if deployment else "drill")
    log = run.open_log(
        scenario.name,
        scenario.seed,
        options.backend,
        scenario.file,
        engine.label if engine else None,
        engine.adapted(env.config)[1] if engine else (),
    )
    backend = make_backend(
        options.backend,
        scenario.environment,
        run,
        scenario.name,
        scenario.seed,
        options.allow_external_faults,
        log,
    )
    alerting: AlertStack | None = None
    pager: Pager | None = None
    switch = DeadMansSwitch(run, log)
    try:
        console.line(
            f"run {run.run_id}: starting {scenario.environment.name} on the {options.backend} backend"
        )
        topology = backend.up()
        operator = topology.access.credentials
        switch.authorize((operator("operator"), operator("operator", "sentinel")))
        ready = TopologyRecord(
            t=log.now(),
            kind="topology",
            master_name=topology.master_name,
            primary=topology.initial_primary,
            nodes={n.name: _node_record(n) for n in topology.nodes},
            links={
                link.name: {"kind": link.kind, "node": link.node, "port": link.port}
                for link in topology.links
            },
            security={"acl": topology.access.acl, "tls": topology.access.tls is not None},
        )
        if topology.cluster:
            ready["shards"] = _shards(topology)
        if topology.proxy_api is not None:
            ready["proxy_api"] = "{}:{}".format(*topology.proxy_api)
        log.write(ready)
        console.line(f"topology ready in {log.now():.2f}s")
        probe_security(topology, log)
        preflight(topology, {f.action for f in scenario.faults})
        alert_api = None
        if scenario.alerts is not None:
            if scenario.alerts.page:  # Alertmanager pages the drill's own receiver
                pager = Pager(topology, log)
                pager.start()
            alerting = AlertStack(run, scenario.alerts.time_scale, scenario.alerts.scrape_interval, pager)
            setup = alerting.start(topology)
            alert_api = setup.api
            log.write(
                AlertingRecord(
                    t=log.now(),
                    kind="alerting",
                    rules=RULES_FILE.name,
                    time_scale=setup.time_scale,
                    scrape_interval=setup.scrape_interval,
                    for_s=setup.durations,
                    console=f"{setup.api}/{CONSOLE_PAGE}",
                )
            )
            console.line(
                f"Prometheus at {setup.api} with the alert rules' for: divided by {setup.time_scale:g}; "
                f"key metrics: {setup.api}/{CONSOLE_PAGE}"
            )
        console.line(f"driving load for {scenario.load.duration:g}s")
        paging = Paging(alert_api, pager)
        _drive(scenario, backend, topology, log, run, console, options, paging, switch)
    finally:
        if alerting is not None:
            alerting.stop()
        if pager is not None:
            pager.stop()
        backend.down()
        switch.close()  # the backend healed and thawed everything itself: the watchdog may leave
        log.close()
    records = read_log(log.path)
    evaluation = evaluate(scenario, records)
    report = build_report(
        scenario=scenario.name,
        run_id=run.run_id,
        run_dir=str(run.run_dir),
        backend=options.backend,
        retry_policy=scenario.load.retry.name,
        seed=scenario.seed,
        wall_time_s=time.monotonic() - started,
        history=History(tuple(records)),
        evaluation=evaluation,
    )
    write_reports(run.run_dir, report, records)
    return report


def required_engine(env: Environment) -> Engine:
    """The environment's engine, installed and able to run it; else EngineMissing (exit 3), saying why."""
    engine = find_engine(env.engine)
    why = engine_problem(env, engine)
    if why is not None:
        raise EngineMissing(why)
    return engine


def engine_problem(env: Environment, engine: Engine) -> str | None:
    """Why this installed engine cannot run the environment (a secured topology on a build without TLS)."""
    if env.security is None or not env.security.tls or engine.tls:
        return None
    with_tls = [e.name for _, e in installed_engines() if isinstance(e, Engine) and e.tls]
    return (
        f"{engine.label} was built without TLS, which the secured topology of {env.file} needs "
        f"(engines here with TLS: {', '.join(with_tls) or 'none'})"
    )


def _shards(topology: Topology) -> list[dict[str, Any]]:
    return [
        {"primary": s.primary, "replicas": list(s.replicas), "slots": list(s.slots)} for s in topology.shards
    ]


def _node_record(node: Node) -> dict[str, str]:
    host, port = node.client_address
    return {"kind": node.kind, "address": node.address, "client_address": f"{host}:{port}"}


def _roll_back(guard: Guard, faults: FaultInjector, log: ObservationLog, console: Console) -> None:
    """A stop condition tripped: end every fault still acting, the newest first, and log each step."""
    assert guard.trip is not None
    condition, trip = guard.trip
    console.line(
        f"t={log.now():7.3f}s  ABORTED: {condition.label} ({trip.evidence}); rolling the faults back"
    )
    for step in faults.rollback():
        record = RollbackRecord(
            t=round(log.now() - step.seconds, 6),  # when the step began
            kind="rollback",
            index=step.index,
            action=step.action,
            node=step.node,
            done=step.done,
            seconds=round(step.seconds, 6),
        )
        if step.error:
            record["error"] = step.error
        log.write(record, flush=True)
        what = step.done or f"could not be undone: {step.error}"
        console.line(f"t={log.now():7.3f}s  rollback: {step.action} {step.node or ''}: {what}")


def _drive(
    scenario: Scenario,
    backend: Backend,
    topology: Topology,
    log: ObservationLog,
    run: RunContext,
    console: Console,
    options: RunOptions,
    paging: Paging,
    switch: DeadMansSwitch,
) -> None:
    # Imported here: Locust monkey-patches the process with gevent on import (done first in __main__).
    from harness.load.runner import LoadRunner
    from harness.load.worker_pool import WorkerPool

    stop = threading.Event()
    observers = [
        threading.Thread(
            target=watch_sentinel, args=(s, topology, log, stop), daemon=True, name=f"events-{s.name}"
        )
        for s in topology.sentinels
    ]
    observers.append(
        threading.Thread(target=sample_info, args=(topology, log, stop), daemon=True, name="info")
    )
    if topology.cluster:
        observers.append(
            threading.Thread(target=watch_cluster, args=(topology, log, stop), daemon=True, name="cluster")
        )
    alert_api = paging.api
    if alert_api is not None:
        observers.append(
            threading.Thread(
                target=watch_alerts, args=(alert_api, topology, log, stop), daemon=True, name="alerts"
            )
        )
    for thread in observers:
        thread.start()
    load = LoadRunner(
        scenario.load,
        topology,
        log,
        key_prefix=run.key_prefix,
        csv_base=run.run_dir / "locust",
        ui=options.ui,
        workers=WorkerPool(run),
        remote=options.remote,
    )
    if options.ui is not None:
        live = LivePage(scenario.name, log)
        load.add_page(LIVE_PATH, live.render)
        console.line(f"Locust web UI: http://{options.ui[0]}:{options.ui[1]}/")
        console.line(
            f"drill page (live timeline and key metrics): http://{options.ui[0]}:{options.ui[1]}{LIVE_PATH}"
        )
    if options.remote is not None:
        host, port = options.remote.bind
        console.line(
            f"waiting for {options.remote.count} remote load worker(s): `drill worker --master {host}:{port}`"
        )
    plan = schedule(scenario.faults, scenario.seed)
    incident = next((f.index for f in plan if f.spec.incident), plan[0].index if plan else -1)
    planned_end = time.time() + scenario.load.duration + MAX_MARGIN_S  # a fault without max: by then
    faults = FaultInjector(backend, topology, log, run.key_prefix, incident, load.surge, switch, planned_end)
    setting = StepSetting(run.run_id, options.backend)
    responder = Responder(
        scenario.runbooks, backend, topology, log, faults, run.key_prefix, setting, paging.pager
    )
    if responder.needed:
        observers.append(threading.Thread(target=responder.run, args=(stop,), daemon=True, name="responder"))
        observers[-1].start()
    programs = ProgramProbes(scenario.runbooks, backend, topology, log, faults, setting)
    if programs.needed:  # the team's own health checks, as verify steps
        observers.append(threading.Thread(target=programs.run, args=(stop,), daemon=True, name="programs"))
        observers[-1].start()
    guard = Guard(scenario.abort_if, log)
    if guard.needed:  # stop conditions, judged live over the log
        observers.append(threading.Thread(target=guard.run, args=(stop,), daemon=True, name="guard"))
        observers[-1].start()
    fired, next_status = 0, 0.0
    applied: list[str] = []
    try:
        load.start()
        began = log.now()
        while (elapsed := log.now() - began) < scenario.load.duration and not guard.tripped.is_set():
            for fault in due(plan, elapsed, fired):
                skipped = _apply(faults, fault, log, drawn=scenario.nemesis is not None)
                fired += 1
                effect = f" {fault.spec.network.effect}" if fault.spec.network else ""
                applied.append(f"{fault.spec.action}{effect} {fault.spec.target}")
                console.line(f"t={log.now():7.3f}s  fault: {applied[-1]}{skipped}")
            if elapsed >= next_status:
                next_status = elapsed + STATUS_EVERY_S
                ops, errors = load.last_interval if load.last_interval else (None, {})
                console.status(
                    Status(
                        elapsed,
                        scenario.load.duration,
                        ops,
                        errors,
                        tuple(applied),
                        tuple(log.events_seen),
                        began,
                        guard.readings,
                    )
                )
            time.sleep(TICK_S)
        console.close()
        if guard.trip is not None:
            _roll_back(guard, faults, log, console)
        load.stop()
        faults.stop()  # a KEYS loop or a connection flood would stand in the read-back's way
        console.line(f"t={log.now():7.3f}s  load stopped; reading acknowledged writes back")
        written = read_log(log.path)
        read_back(topology, log, keys_to_read(written), sets=sets_to_read(written))
        faults.server.config.restore_all()  # every CONFIG value the drill changed, as it found it
        time.sleep(SETTLE_S)
    finally:
        console.close()
        load.stop()
        faults.stop()
        stop.set()
        for thread in observers:
            thread.join(timeout=2)


def _apply(faults: FaultInjector, fault: ScheduledFault, log: ObservationLog, drawn: bool) -> str:
    """Apply a fault of the timeline. A nemesis's drawn fault that cannot act on the topology as it is now
    (a replication link no replica streams through after a failover) is logged as skipped with the reason,
    and the drill goes on; a hand-written one stops the drill (exit 3)."""
    try:
        faults.apply(fault)
    except FaultError as exc:
        if not drawn:
            raise
        log.fault(log.now(), fault.index, fault.spec.action, fault.spec.target, None, skipped=str(exc))
        return f" (skipped: {exc})"
    return ""
