"""What every Locust worker process does once it knows its load: build its users' context, run the users
the master hands it, and count them every half second until the master says quit.

Shared by the drill's own worker processes (harness/load/worker.py, which write to the log file) and remote
workers (harness/load/remote_worker.py, which forward their lines to the drill).
"""

from __future__ import annotations

import contextlib
import threading
from itertools import count

import gevent
from locust.env import Environment
from locust.exception import RPCError
from locust.runners import WorkerRunner

from harness.core.access import Credentials
from harness.core.observation_log import STATS_INTERVAL_S, ObservationLog
from harness.load.forwarded_log import ForwardedLog
from harness.load.locust_feed import feed_locust
from harness.load.remote_protocol import STATS
from harness.load.stats import IntervalStats
from harness.load.surge_users import listen
from harness.load.watchdog import CallWatchdog
from harness.load.worker_config import USER_IDS_PER_WORKER, WorkerConfig
from harness.load.workloads.base import LoadContext


def worker_context(
    config: WorkerConfig,
    log: ObservationLog | ForwardedLog,
    credentials: tuple[Credentials, Credentials] = (Credentials(), Credentials()),
) -> LoadContext:
    """The users' context: the drill's load spec and topology addresses, user ids of this worker's own."""
    spec = config.load
    return LoadContext(
        spec=spec,
        sentinels=config.sentinels,
        master_name=config.master_name,
        log=log,
        stats={w.kind: IntervalStats() for w in spec.workloads},
        key_prefix=config.key_prefix,
        user_ids=count(config.index * USER_IDS_PER_WORKER + 1),
        watchdog=CallWatchdog(spec.timeout),
        credentials=credentials[0],
        sentinel_credentials=credentials[1],
        cluster=config.cluster,
    )


class WorkerLoop:
    """One worker's users, surges and stats, for as long as the master keeps it."""

    def __init__(
        self,
        environment: Environment,
        context: LoadContext,
        log: ObservationLog | ForwardedLog,
        index: int,
    ) -> None:
        self._environment = environment
        self._context = context
        self._log = log
        self._index = index
        self._stop = threading.Event()
        self._surge: list[gevent.Greenlet] = []
        self._finished = False
        self._runner: WorkerRunner | None = None  # while the master listens: the stats go to it too
        listen(environment, context, index, self._surge, self._stop.is_set)

    def flush(self) -> None:
        records = []
        for kind, interval in self._context.stats.items():
            feed_locust(self._environment.stats, kind, interval)  # reported to the master's UI by Locust
            records.append(interval.drain(self._log.now(), kind, worker=self._index))
            self._log.write(records[-1])
        self._log.flush()
        if self._runner is not None:  # the drill's live progress (Locust's own reports come every 3 s)
            with contextlib.suppress(RPCError):  # the master is gone: Locust's heartbeat ends this worker
                self._runner.send_message(STATS, {"records": records})

    def run(self, runner: WorkerRunner) -> None:
        """Until the master's quit ends the runner."""
        assert self._context.watchdog is not None
        self._context.watchdog.start()
        self._runner = runner
        flusher = threading.Thread(target=self._flush_loop, daemon=True)
        flusher.start()
        try:
            runner.greenlet.join()
        finally:
            self.finish()

    def finish(self) -> None:
        """Surges ended, the last stats counted, the log closed (a second call does nothing)."""
        if self._finished:
            return
        self._finished = True
        self._runner = None  # the master may be gone: the last stats go to the log only
        self._stop.set()
        gevent.killall(self._surge, timeout=2)
        assert self._context.watchdog is not None
        self._context.watchdog.stop()
        self.flush()
        self._log.close()

    def _flush_loop(self) -> None:
        while not self._stop.wait(STATS_INTERVAL_S):
            self.flush()
