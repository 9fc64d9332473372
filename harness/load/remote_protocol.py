"""The names and settings load workers and the drill share (harness/load/remote.py for the drill's side of
remote workers, harness/load/remote_worker.py for theirs); free of Locust, so the CLI can name them."""

from __future__ import annotations

from dataclasses import dataclass

# The drill's messages, beside Locust's own (worker -> drill unless marked).
HELLO = "drill_hello"  # {address}: a remote worker asks for its config
CONFIG = "drill_config"  # drill -> worker: {config: WorkerConfig JSON}
CLOCK = "drill_clock"  # {sent}: a clock probe; the drill answers {sent, now} with its log's clock
READY = "drill_ready"  # {address, uncertainty}: aligned to the drill's clock, ready for users
LINES = "drill_lines"  # {lines}: log lines, stamped on the drill's clock
FINISH = "drill_finish"  # drill -> worker: stop the users, send everything held
FINISHED = "drill_finished"  # everything is sent
STATS = "drill_stats"  # {records}: a worker's (local or remote) stats of its last interval, for live progress


@dataclass(frozen=True, slots=True)
class RemoteWorkers:
    """`drill run --workers N --master-bind HOST:PORT`."""

    count: int
    bind: tuple[str, int]
    join_timeout: float = 120.0  # the workers are started by someone else: wait this long for them
