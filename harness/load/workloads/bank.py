"""Bank transfers with WATCH/MULTI/EXEC; a WATCH conflict (EXEC returns nil) is retried with a fresh WATCH
up to 3 times, as prescribed. Feeds the bank checker: the total never changes, no balance goes negative."""

from __future__ import annotations

from harness.core.log_records import OpFields
from harness.load.resp import ReplyError, RespError, encode
from harness.load.workloads.base import Workload, tagged_key
from harness.scenario.model import WorkloadSpec

INITIAL_BALANCE = 100
CONFLICT_RETRIES = 3


class Bank(Workload):
    kind = "bank"

    def step(self) -> None:
        a, b = self.rng.sample(range(self.spec.accounts), 2)
        amount = self.rng.randint(1, 10)
        source, target = self.tagged((), a), self.tagged((), b)  # one slot: one transaction
        record: OpFields = {"f": "transfer", "from": source, "to": target, "amount": amount}
        self.op(
            "transfer", lambda: self._transfer(source, target, amount), record=record, value_field="result"
        )

    def _transfer(self, source: str, target: str, amount: int) -> str:
        for _ in range(1 + CONFLICT_RETRIES):
            self.session.one(encode("WATCH", source, target), source)
            balance = int(self.session.one(encode("GET", source), source) or 0)
            if balance < amount:
                self.session.one(encode("UNWATCH"), source)
                return "insufficient"
            replies = self.session.call(
                encode("MULTI")
                + encode("DECRBY", source, amount)
                + encode("INCRBY", target, amount)
                + encode("EXEC"),
                4,
                source,
            )
            for reply in replies:
                if isinstance(reply, ReplyError):  # EXECABORT and friends: the transaction was discarded
                    raise RespError(reply)
            if replies[-1] is not None:
                return "committed"
            # EXEC returned nil: a watched key changed. Not an error: retry with a fresh WATCH.
        return "conflict"

    @classmethod
    def initial_state(cls, spec: WorkloadSpec, prefix: str) -> dict[str, int]:
        return {tagged_key(prefix, cls.kind, (), i): INITIAL_BALANCE for i in range(spec.accounts)}
