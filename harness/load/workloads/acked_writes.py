"""Unique writes, each recorded with its outcome, plus reads of earlier ones: feeds the lost-write checker."""

from __future__ import annotations

from collections import deque

from locust.env import Environment

from harness.core.log_records import OpFields
from harness.load.resp import encode
from harness.load.workloads.base import LoadContext, Workload
from harness.scenario.model import WorkloadSpec


class AckedWrites(Workload):
    kind = "acked-writes"

    def __init__(self, spec: WorkloadSpec, context: LoadContext, environment: Environment) -> None:
        super().__init__(spec, context, environment)
        self.seq = 0
        # Reads pick among the latest 100 acknowledged keys; older ones are the checker's (from the log), so
        # the user keeps no more (a soak's users would otherwise grow by every write they made).
        self.acked: deque[str] = deque(maxlen=100)

    def step(self) -> None:
        if self.rng.random() < self.spec.write_ratio or not self.acked:
            self._write()
        else:
            key = self.rng.choice(self.acked)
            payload = encode("GET", key)
            self.op("GET", lambda: self.session.one(payload, key))

    def _write(self) -> None:
        self.seq += 1
        key = self.key(self.user_id, self.seq)
        value = f"{self.user_id}:{self.seq}"
        payload = encode("SET", key, value)
        record = OpFields(f="write", key=key, value=value)
        if self.op("SET", lambda: self.session.one(payload, key), record=record).outcome == "ok":
            self.acked.append(key)
