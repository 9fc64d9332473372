"""Non-transactional pipelines: `batch` SETs in one round trip, encoded once per user."""

from __future__ import annotations

from typing import Any

from locust.env import Environment

from harness.load.resp import RespError, encode, first_error
from harness.load.workloads.base import LoadContext, Workload
from harness.scenario.model import WorkloadSpec


class Pipeline(Workload):
    kind = "pipeline"

    def __init__(self, spec: WorkloadSpec, context: LoadContext, environment: Environment) -> None:
        super().__init__(spec, context, environment)
        # The user's keys share a slot: a cluster serves the whole batch from one node, as a pipeline must be.
        keys = [self.tagged((self.user_id,), i) for i in range(spec.batch)]
        self.payload = b"".join(encode("SET", key, "v") for key in keys)
        self.route = keys[0]

    def step(self) -> None:
        self.op(f"pipeline {self.spec.batch}", self._send, ops=self.spec.batch)

    def _send(self) -> list[Any]:
        replies = self.session.call(self.payload, self.spec.batch, self.route)
        error = first_error(replies)
        if error is not None:  # e.g. OOM part-way through the batch
            raise RespError(error)
        return replies
