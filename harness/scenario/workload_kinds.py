"""The load's workloads, declared once: each one's parameters, defaults and help (read by the scenario
loader and `drill kinds`). What each does lives in harness/load/workloads/<kind>.py, which the loader must
not import (Locust patches the process with gevent on import); a test holds the two lists together."""

from __future__ import annotations

from dataclasses import dataclass

from harness.scenario.params import duration, param, ratio, whole


@dataclass(frozen=True, slots=True)
class Common:
    users: int = param("how many Locust users run it", whole(1, 1000))
    wait: float = param("each user's pause between two steps", duration(), 0.0)


@dataclass(frozen=True, slots=True)
class Writes(Common):
    write_ratio: float = param("share of steps that write (the rest read)", ratio(), 0.5)


@dataclass(frozen=True, slots=True)
class Batched(Common):
    batch: int = param("commands per round trip", whole(1, 100_000), 100)


@dataclass(frozen=True, slots=True)
class Accounts(Common):
    accounts: int = param("accounts the transfers move money between", whole(2, 100_000), 10)


@dataclass(frozen=True, slots=True)
class Shared(Common):
    keys: int = param("counters, registers or sets the users share", whole(1, 100_000), 4)


@dataclass(frozen=True, slots=True)
class Tagged(Common):
    tagged_ratio: float = param(
        "share of MSETs whose two keys share a hash tag (the rest: none)", ratio(), 0.5
    )


WORKLOAD_KINDS: dict[str, tuple[type, str]] = {
    "acked-writes": (Writes, "unique writes, each recorded with its outcome and read back after the drill"),
    "kv": (Writes, "GET/SET with the TTL patterns of SEED-FACTS (SET EX/EXAT/KEEPTTL, GETEX)"),
    "pipeline": (Batched, "non-transactional pipelines: `batch` SETs in one round trip"),
    "bank": (Accounts, "transfers with WATCH/MULTI/EXEC: the total never changes, no balance goes negative"),
    "lua-cas": (Shared, "check-and-set in Lua by EVALSHA on shared registers: no lost update"),
    "keyspace": (Common, "SCAN with MATCH/COUNT/TYPE, UNLINK, EXPIRE/PERSIST on the user's own keys"),
    "counter": (Shared, "INCR on shared counters: final values within acknowledged + uncertain"),
    "set": (
        Shared,
        "SADD of a unique element per operation to shared sets: every acknowledged one present at the end, "
        "none that was never sent (Jepsen's set test)",
    ),
    "crossslot": (Tagged, "MSET of two keys, with a hash tag or without: CROSSSLOT on a cluster without one"),
}
