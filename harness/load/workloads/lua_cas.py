"""Atomic check-and-set in Lua, loaded with SCRIPT LOAD and run with EVALSHA; NOSCRIPT (after a failover
or SCRIPT FLUSH) loads it again. Users increment shared registers by CAS: feeds the no-lost-update checker."""

from __future__ import annotations

import hashlib

from harness.load.resp import ReplyError, RespError, encode
from harness.load.workloads.base import Workload
from harness.scenario.model import WorkloadSpec

SCRIPT = (
    "local current = redis.call('GET', KEYS[1]) "
    "if current == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 end "
    "return 0"
)
SHA = hashlib.sha1(SCRIPT.encode()).hexdigest()


class LuaCas(Workload):
    kind = "lua-cas"

    def step(self) -> None:
        key = self.key(self.rng.randrange(self.spec.keys))
        self.op("cas", lambda: self._cas(key), record={"f": "cas", "key": key}, value_field="applied")

    def _cas(self, key: str) -> int:
        current = (self.session.one(encode("GET", key), key) or b"0").decode()
        payload = encode("EVALSHA", SHA, 1, key, current, int(current) + 1)
        (reply,) = self.session.call(payload, 1, key)
        if isinstance(reply, ReplyError) and str(reply).startswith("NOSCRIPT"):
            self.session.one(encode("SCRIPT", "LOAD", SCRIPT), key)  # on the node serving the key
            (reply,) = self.session.call(payload, 1, key)
        if isinstance(reply, ReplyError):
            raise RespError(reply)
        return int(reply)

    @classmethod
    def initial_state(cls, spec: WorkloadSpec, prefix: str) -> dict[str, int]:
        return {":".join((prefix, cls.kind, str(i))): 0 for i in range(spec.keys)}
