"""GET/SET with the TTL patterns of SEED-FACTS.md: hot cache 1-5 min, SET EX/EXAT/KEEPTTL, GETEX."""

from __future__ import annotations

import time

from harness.load.resp import encode
from harness.load.workloads.base import Workload

KEYS_PER_USER = 1000


class KeyValue(Workload):
    kind = "kv"

    def step(self) -> None:
        key = self.key(self.user_id, self.rng.randrange(KEYS_PER_USER))
        if self.rng.random() < self.spec.write_ratio:
            ttl = self.rng.randint(60, 300)  # hot cache: 1-5 minutes
            pattern = self.rng.random()
            if pattern < 0.6:
                name, payload = "SET EX", encode("SET", key, "v", "EX", ttl)
            elif pattern < 0.8:
                name, payload = "SET EXAT", encode("SET", key, "v", "EXAT", int(time.time()) + ttl)
            else:
                name, payload = "SET KEEPTTL", encode("SET", key, "v", "KEEPTTL")
        elif self.rng.random() < 0.8:
            name, payload = "GET", encode("GET", key)
        else:
            name, payload = "GETEX", encode("GETEX", key, "EX", 300)
        self.op(name, lambda: self.session.one(payload, key))
