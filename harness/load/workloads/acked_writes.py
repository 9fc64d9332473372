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
        self.acked: deque[tuple[str, str]] = deque(maxlen=100)

    def step(self) -> None:
        if self.rng.random() < self.spec.write_ratio or not self.acked:
            self._write()
        else:
            key, value = self.rng.choice(self.acked)
            payload = encode("GET", key)
            t0 = self.context.log.now()
            read = self.op("GET", lambda: self.session.one(payload, key))
            if read.outcome == "ok" and read.value is not None and read.value != value.encode():
                # Only this key's writer ever wrote it, and only this value: anything else is a value no
                # client wrote (the reads checker's evidence). A nil is a stale read, counted elsewhere.
                seen = (
                    read.value.decode(errors="replace") if isinstance(read.value, bytes) else str(read.value)
                )
                self.context.log.write(self._op_record(OpFields(f="read", key=key, value=seen), "ok", t0))

    def _write(self) -> None:
        self.seq += 1
        key = self.key(self.user_id, self.seq)
        value = f"{self.user_id}:{self.seq}"
        payload = encode("SET", key, value)
        record = OpFields(f="write", key=key, value=value)

        def write() -> object:
            reply = self.session.one(payload, key)
            if server := self.session.server:  # who acknowledged it: one primary at a time, from the clients
                record["by"] = server
            return reply

        if self.op("SET", write, record=record).outcome == "ok":
            self.acked.append((key, value))
