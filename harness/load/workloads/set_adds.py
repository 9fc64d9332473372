"""SADD of a unique element per operation to a few shared sets, each recorded: feeds the set checker (Jepsen's
set test: every acknowledged element present at the end, nothing present that was never sent)."""

from __future__ import annotations

from itertools import count

from locust.env import Environment

from harness.load.resp import encode
from harness.load.workloads.base import LoadContext, Workload
from harness.scenario.model import WorkloadSpec


class SetAdds(Workload):
    kind = "set"

    def __init__(self, spec: WorkloadSpec, context: LoadContext, environment: Environment) -> None:
        super().__init__(spec, context, environment)
        self._sent = count()

    def step(self) -> None:
        key = self.key(self.rng.randrange(self.spec.keys))
        element = f"{self.user_id}-{next(self._sent)}"  # never sent twice by anyone
        payload = encode("SADD", key, element)
        self.op(
            "SADD",
            lambda: self.session.one(payload, key),
            record={"f": "sadd", "key": key, "element": element},
        )
