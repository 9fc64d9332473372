"""Runs Locust as a library: its own Environment, headless, in this process."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from itertools import count
from pathlib import Path
from typing import Any

import gevent
from locust.env import Environment
from locust.event import Events
from locust.runners import LocalRunner, MasterRunner
from locust.stats import PERCENTILES_TO_REPORT, StatsCSVFileWriter

from harness.backends.local import free_port
from harness.clients.waiting import wait_for
from harness.core.access import LOAD_CREDENTIALS_VAR, credentials_to_json
from harness.core.errors import BackendError
from harness.core.histograms import merge_intervals
from harness.core.log_records import InitRecord, LoadRecord, StatsRecord
from harness.core.observation_log import STATS_INTERVAL_S, ObservationLog
from harness.core.topology import Topology
from harness.load.locust_feed import feed_locust
from harness.load.remote import WorkerHub
from harness.load.remote_protocol import STATS, RemoteWorkers
from harness.load.stats import IntervalStats
from harness.load.surge_users import MESSAGE, listen, surge_message
from harness.load.users import WORKLOADS, make_user_classes
from harness.load.watchdog import CallWatchdog
from harness.load.worker_config import WorkerConfig
from harness.load.worker_pool import WorkerPool
from harness.load.workloads.base import LoadContext, initialize, open_session
from harness.scenario.model import LoadSpec


class LoadRunner:
    def __init__(
        self,
        spec: LoadSpec,
        topology: Topology,
        log: ObservationLog,
        key_prefix: str,
        csv_base: Path | None = None,
        ui: tuple[str, int] | None = None,
        workers: WorkerPool | None = None,
        remote: RemoteWorkers | None = None,
    ) -> None:
        """csv_base: write Locust's own CSV files (<base>_stats.csv, ...); ui: serve Locust's web UI there;
        workers: with spec.processes > 1, the users run in worker processes started through this pool;
        remote: the users (also) run in workers on other machines, which join the master bound there."""
        self._spec = spec
        self._log = log
        self._prefix = key_prefix
        self._stats: dict[str, IntervalStats] = {w.kind: IntervalStats() for w in spec.workloads}
        self._context = LoadContext(
            spec=spec,
            sentinels=tuple(s.client_address for s in topology.sentinels),
            master_name=topology.master_name,
            log=log,
            stats=self._stats,
            key_prefix=key_prefix,
            user_ids=count(1),
            watchdog=CallWatchdog(spec.timeout),
            credentials=topology.access.credentials("load"),
            sentinel_credentials=topology.access.credentials("load", "sentinel"),
            cluster=topology.cluster_routes,
        )
        # stop_timeout: at the end, users finish the operation they are in instead of being killed mid-call.
        self._env = Environment(
            user_classes=make_user_classes(self._context), events=Events(), stop_timeout=2.0
        )
        self._workers = workers if spec.processes > 1 else None
        self._remote = remote
        local = spec.processes if self._workers else 0  # the drill's own worker processes
        bind = remote.bind if remote else ("127.0.0.1", free_port() if self._workers else 0)
        # The drill's own workers reach a master bound to every interface on loopback.
        self._master_address = ("127.0.0.1" if bind[0] in ("0.0.0.0", "*") else bind[0], bind[1])
        self._runner: LocalRunner | MasterRunner = (
            self._env.create_master_runner(*bind)
            if self._workers or remote
            else self._env.create_local_runner()
        )
        self._processes = local + (remote.count if remote else 0)  # every process that runs users
        self._hub = (
            WorkerHub(self._runner, log, self._worker_template(0), local + 1)
            if remote and isinstance(self._runner, MasterRunner)
            else None
        )
        self._csv = (
            StatsCSVFileWriter(self._env, PERCENTILES_TO_REPORT, str(csv_base), False) if csv_base else None
        )
        self._csv_greenlet: gevent.Greenlet | None = None
        self._argv: list[str] | None = None
        if ui is not None:
            # Locust's web UI parses sys.argv with its own parser (ui_extra_args_dict, on every page), and
            # `drill run ...` is not a Locust command line: show it an empty one while the UI serves.
            self._argv, sys.argv = sys.argv, sys.argv[:1]
        self._web_ui = self._env.create_web_ui(ui[0], ui[1], stats_csv_writer=self._csv) if ui else None
        self.last_interval: tuple[float, dict[str, int]] | None = None  # ops/s and errors, for live progress
        self._worker_stats: list[StatsRecord] = []  # received from the workers since the last flush
        if isinstance(self._runner, MasterRunner):
            self._runner.register_message(STATS, self._received_stats)
        self._stop = threading.Event()
        self._surge: list[gevent.Greenlet] = []  # users of a traffic surge (faults: surge)
        if not self._processes:  # with workers, each spawns its own share (harness/load/worker_loop.py)
            listen(self._env, self._context, 1, self._surge, self._stop.is_set)
        self._flusher = threading.Thread(target=self._flush_loop, name="load-stats", daemon=True)

    def add_page(self, path: str, render: Callable[[], str]) -> bool:
        """Serve `render()` at `path` beside Locust's web UI (False: no UI runs)."""
        if self._web_ui is None or self._web_ui.app is None:
            return False
        self._web_ui.app.add_url_rule(path, path.strip("/") or "page", render)
        return True

    def start(self) -> None:
        self._initialize()
        if self._workers is not None:
            self._start_workers(self._workers)
        if self._remote is not None and self._hub is not None:
            host, port = self._remote.bind
            self._hub.wait_joined(self._remote.count, self._remote.join_timeout, f"{host}:{port}")
        self._wait_connected()
        record = LoadRecord(
            t=self._log.now(),
            kind="load",
            phase="start",
            users=self._spec.users,
            retry=self._spec.retry.name,
            workloads={w.kind: w.users for w in self._spec.workloads},
        )
        if self._hub is not None:
            record["remote_workers"] = [
                {"index": w.index, "address": w.address, "clock_uncertainty": round(w.uncertainty_s, 6)}
                for w in sorted(self._hub.joined.values(), key=lambda w: w.index)
            ]
        self._log.write(record)
        assert self._context.watchdog is not None
        self._context.watchdog.start()
        self._runner.start(self._spec.users, spawn_rate=self._spec.spawn_rate)
        self._flusher.start()
        if self._csv is not None:
            self._csv_greenlet = gevent.spawn(self._csv.stats_writer)

    def _worker_template(self, index: int) -> WorkerConfig:
        """What a worker is told: the load, the topology's client addresses, and (the drill's own, which
        share its machine) the log file and its clock's zero."""
        context = self._context
        return WorkerConfig(
            load=self._spec,
            master=self._master_address,
            log=str(self._log.path),
            start=self._log.start,
            sentinels=context.sentinels,
            master_name=context.master_name,
            key_prefix=context.key_prefix,
            index=index,
            cluster=context.cluster,
        )

    def _start_workers(self, workers: WorkerPool) -> None:
        context = self._context
        pair = (context.credentials, context.sentinel_credentials)
        template = self._worker_template(0)
        workers.start(self._spec.processes, template, {LOAD_CREDENTIALS_VAR: credentials_to_json(pair)})

    def _wait_connected(self) -> None:
        """Every worker process (the drill's own and the remote ones) connected to the master."""
        runner, workers, expected = self._runner, self._workers, self._processes

        def connected() -> str | None:
            if workers is not None and workers.exited():
                raise BackendError(
                    f"a load worker exited (codes {workers.exited()}); see logs/load-workers.log"
                )
            count = runner.worker_count if isinstance(runner, MasterRunner) else 0
            return None if count >= expected else f"{count} of {expected} connected"

        if expected:
            wait_for(
                connected, timeout=30, what="Locust workers", hint="see logs/load-workers.log in the run dir"
            )

    def _initialize(self) -> None:
        """Set the starting state the checkers compare against (bank balances, counters), and log it."""
        states = {w.kind: WORKLOADS[w.kind].initial_state(w, f"{self._prefix}") for w in self._spec.workloads}
        if not any(states.values()):
            return
        session = open_session(self._context)
        try:
            for kind, values in states.items():
                if values:
                    initialize(session, values)
                    self._log.write(InitRecord(t=self._log.now(), kind="init", workload=kind, values=values))
        finally:
            session.close()

    def surge(self, extra: int, seconds: float) -> None:
        """A traffic surge: `extra` more users, shared among the load's processes and, in each, among the
        workloads like the spec's users, for `seconds` (Locust's own messages carry it to the workers)."""
        self._runner.send_message(MESSAGE, surge_message(extra, seconds, max(self._processes, 1)))

    def stop(self) -> None:
        if self._stop.is_set():
            return
        gevent.killall(self._surge, timeout=2)
        unfinished = self._hub.finish() if self._hub is not None else []
        self._runner.quit()
        if self._csv_greenlet is not None:
            self._csv_greenlet.kill()
        if self._csv is not None:
            self._csv.close_files()
        if self._web_ui is not None:
            self._web_ui.stop()
        if self._argv is not None:
            sys.argv = self._argv
        if self._workers is not None:
            self._workers.stop()
        if self._context.watchdog is not None:
            self._context.watchdog.stop()
        self._stop.set()
        if self._flusher.is_alive():
            self._flusher.join(timeout=2)
        self._flush()
        stopped = LoadRecord(t=self._log.now(), kind="load", phase="stop")
        if unfinished:
            stopped["unfinished_workers"] = unfinished
        self._log.write(stopped)

    def _received_stats(self, environment: Environment, msg: Any, **_: Any) -> None:
        self._worker_stats.extend(msg.data["records"])

    def _take_worker_stats(self) -> list[StatsRecord]:
        taken, self._worker_stats = self._worker_stats, []
        return taken

    def _flush_loop(self) -> None:
        while not self._stop.wait(STATS_INTERVAL_S):
            self._flush()

    def _flush(self) -> None:
        if not self._processes:  # with workers, they count and write the load's stats themselves
            now = self._log.now()
            for kind, interval in self._stats.items():
                feed_locust(self._env.stats, kind, interval)
            records = [s.drain(now, kind) for kind, s in self._stats.items()]
            for record in records:
                self._log.write(record)
            _, errors = merge_intervals(records)
            self.last_interval = (sum(r["ok"] for r in records) / STATS_INTERVAL_S, errors)
        elif received := self._take_worker_stats():
            # The workers' stats, for the live progress (each covers one interval of one worker).
            _, errors = merge_intervals(received)
            self.last_interval = (sum(r["ok"] for r in received) / STATS_INTERVAL_S, errors)
        self._log.flush()
