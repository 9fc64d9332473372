"""Keyspace care as prescribed: SCAN (never KEYS) with MATCH/COUNT/TYPE, UNLINK rather than DEL,
EXPIRE/PEXPIRE/PERSIST on the user's own keys."""

from __future__ import annotations

from locust.env import Environment

from harness.load.resp import encode
from harness.load.workloads.base import LoadContext, Workload
from harness.scenario.model import WorkloadSpec

KEYS_PER_USER = 200


class Keyspace(Workload):
    kind = "keyspace"

    def __init__(self, spec: WorkloadSpec, context: LoadContext, environment: Environment) -> None:
        super().__init__(spec, context, environment)
        self.cursor = b"0"
        # The user's keys share a slot, so SCAN on the node serving it finds them all (a cluster's SCAN is
        # per node).
        self.match = self.tagged((self.user_id,), "*")
        self.route = self.tagged((self.user_id,), 0)

    def step(self) -> None:
        key = self.tagged((self.user_id,), self.rng.randrange(KEYS_PER_USER))
        choice = self.rng.random()
        if choice < 0.3:
            self.op("SET", lambda: self.session.one(encode("SET", key, "v"), key))
        elif choice < 0.5:
            self.op("SCAN", self._scan)
        elif choice < 0.6:
            self.op("EXPIRE", lambda: self.session.one(encode("EXPIRE", key, 600), key))
        elif choice < 0.7:
            self.op("PEXPIRE", lambda: self.session.one(encode("PEXPIRE", key, 600_000), key))
        elif choice < 0.8:
            self.op("PERSIST", lambda: self.session.one(encode("PERSIST", key), key))
        else:
            self.op("UNLINK", lambda: self.session.one(encode("UNLINK", key), key))

    def _scan(self) -> int:
        cursor, keys = self.session.one(
            encode("SCAN", self.cursor, "MATCH", self.match, "COUNT", 100, "TYPE", "string"), self.route
        )
        self.cursor = cursor
        return len(keys)
