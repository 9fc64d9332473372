"""Load workers on other machines, through Locust's own distributed mode: the drill's side.

`drill run --workers N --master-bind HOST:PORT` has the load's Locust master listen there and wait for N
workers (`drill worker --master HOST:PORT`, harness/load/remote_worker.py). Over Locust's messages each
worker says hello, gets the load spec and the topology's client addresses (never credentials: a secured
environment is refused), measures its clock against the drill's, and from then on sends its stats and
tracked operations as finished log lines on the drill's clock (and, like the drill's own workers, its
stats as a message of their own too, for the live progress), which the drill appends to its one log.
At the end the drill has each worker stop its users and send what it still holds before Locust's quit.
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass
from itertools import count
from typing import Any

from locust.env import Environment
from locust.runners import MasterRunner

from harness.clients.waiting import wait_for
from harness.core.errors import BackendError
from harness.core.observation_log import ObservationLog
from harness.load.remote_protocol import CLOCK, CONFIG, FINISH, FINISHED, HELLO, LINES, READY
from harness.load.worker_config import WorkerConfig


@dataclass(frozen=True, slots=True)
class JoinedWorker:
    index: int  # its users' ids and its stats records' `worker`
    address: str  # where it connected from
    uncertainty_s: float  # half the round trip of its best clock probe: how far its stamps may be off


class WorkerHub:
    """Hands each remote worker its config and index, answers its clock probes, appends its lines."""

    def __init__(
        self, runner: MasterRunner, log: ObservationLog, template: WorkerConfig, first_index: int
    ) -> None:
        self._runner = runner
        self._log = log
        self._template = template
        self._indices = count(first_index)
        self._assigned: dict[str, int] = {}  # Locust client id -> worker index
        self.joined: dict[str, JoinedWorker] = {}
        self._finished: set[str] = set()
        for name, handler in (
            (HELLO, self._hello),
            (CLOCK, self._clock),
            (READY, self._ready),
            (LINES, self._lines),
            (FINISHED, self._done),
        ):
            runner.register_message(name, handler)

    def wait_joined(self, expected: int, timeout: float, where: str) -> None:
        def joined() -> str | None:
            have = len(self.joined)
            return None if have >= expected else f"{have} of {expected} remote workers joined"

        wait_for(
            joined,
            timeout=timeout,
            what="remote load workers",
            hint=f"start each with `drill worker --master {where}` on a machine that reaches this one",
        )

    def finish(self, timeout: float = 15.0) -> list[int]:
        """Every joined worker stops its users and sends its last lines. Returns the indices of those that
        did not answer in time: what they still held is missing from the log (not invented), and the
        load's stop record says so."""
        for client_id in list(self.joined):  # sending yields: a late worker may join meanwhile
            self._runner.send_message(FINISH, None, client_id)

        def finished() -> str | None:
            missing = len(self.joined) - len(self._finished)
            return None if missing == 0 else f"{missing} remote worker(s) still sending"

        with contextlib.suppress(BackendError):
            wait_for(finished, timeout=timeout, what="remote workers' last lines", hint="")
        return sorted(w.index for c, w in self.joined.items() if c not in self._finished)

    def _hello(self, environment: Environment, msg: Any, **_: Any) -> None:
        if msg.node_id not in self._assigned:  # a repeated hello keeps its index
            self._assigned[msg.node_id] = next(self._indices)
        index = self._assigned[msg.node_id]
        config = dataclasses.replace(self._template, index=index)
        self._runner.send_message(CONFIG, {"config": config.to_json()}, msg.node_id)

    def _clock(self, environment: Environment, msg: Any, **_: Any) -> None:
        reply = {"sent": msg.data["sent"], "now": self._log.now()}
        self._runner.send_message(CLOCK, reply, msg.node_id)

    def _ready(self, environment: Environment, msg: Any, **_: Any) -> None:
        index = self._assigned.get(msg.node_id)
        if index is None:  # ready without a hello: not a drill worker of this run
            return
        self.joined[msg.node_id] = JoinedWorker(
            index, str(msg.data["address"]), float(msg.data["uncertainty"])
        )

    def _lines(self, environment: Environment, msg: Any, **_: Any) -> None:
        self._log.append_lines(msg.data["lines"])

    def _done(self, environment: Environment, msg: Any, **_: Any) -> None:
        self._finished.add(msg.node_id)
