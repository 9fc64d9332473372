"""MSET of two keys, as an application would write related keys: with a hash tag `{...}` they share a slot
and a cluster serves them together; without one they (almost always) fall in two slots and a cluster
refuses the command with CROSSSLOT, the error table's case whose prescription is hash tags. On one
server both forms succeed. Not tracked: the replies are counted by class, as every workload's are."""

from __future__ import annotations

from harness.core.slots import key_slot
from harness.load.resp import encode
from harness.load.workloads.base import Workload

KEYS_PER_USER = 1000


class CrossSlot(Workload):
    kind = "crossslot"

    def step(self) -> None:
        i = self.rng.randrange(KEYS_PER_USER)
        if self.rng.random() < self.spec.tagged_ratio:
            name, first, second = (
                "MSET tagged",
                self.tagged((self.user_id,), i, "a"),
                self.tagged((self.user_id,), i, "b"),
            )
        else:
            name, first, second = "MSET", self.key(self.user_id, i, "a"), self.key(self.user_id, i, "b")
            if key_slot(first) == key_slot(second):  # 1 in 16384: make it a pair across slots
                second = self.key(self.user_id, i, "c")
        payload = encode("MSET", first, "v", second, "v")
        self.op(name, lambda: self.session.one(payload, first))
