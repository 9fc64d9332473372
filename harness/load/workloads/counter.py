"""INCR on a few shared counters, each increment recorded: feeds the counter checker."""

from __future__ import annotations

from harness.load.resp import encode
from harness.load.workloads.base import Workload
from harness.scenario.model import WorkloadSpec


class Counter(Workload):
    kind = "counter"

    def step(self) -> None:
        key = self.key(self.rng.randrange(self.spec.keys))
        payload = encode("INCR", key)
        self.op(
            "INCR",
            lambda: self.session.one(payload, key),
            record={"f": "incr", "key": key},
            value_field="value",
        )

    @classmethod
    def initial_state(cls, spec: WorkloadSpec, prefix: str) -> dict[str, int]:
        return {":".join((prefix, cls.kind, str(i))): 0 for i in range(spec.keys)}
