"""Acknowledged-write loss: every write acknowledged OK must be read back after recovery."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.core.log_records import OpRecord
from harness.core.slots import key_slot
from harness.runbooks.history import History

INTERRUPTED = "interrupted"  # harness/load/workloads/base.py: an op in flight when the load stopped


@dataclass(frozen=True, slots=True)
class LostWrites:
    acknowledged: int
    uncertain: int  # "info" writes: may or may not have been applied; never counted either way
    read_back: int
    lost: tuple[tuple[str, float], ...]  # (key, time acknowledged)
    error: str | None  # the read-back could not be done
    unread: frozenset[str] = frozenset()  # acknowledged keys the read-back never reached
    interrupted: int = 0  # of the uncertain: in flight when the load stopped (left out of the load's counts)


def _acknowledged(history: History) -> list[OpRecord]:
    return [r for r in history.ops if r.get("f") == "write" and r["type"] == "ok"]


def lost_writes(history: History) -> LostWrites:
    acked = _acknowledged(history)
    uncertain_ops = [r for r in history.ops if r.get("f") == "write" and r["type"] == "info"]
    interrupted = sum(1 for r in uncertain_ops if r.get("error") == INTERRUPTED)
    values: dict[str, str | None] = {}
    error: str | None = None
    done = False
    for record in history.readbacks:
        values.update(record.get("values", {}))
        error = record.get("error", error)
        done = done or bool(record.get("done"))
    unread = frozenset(r["key"] for r in acked if r["key"] not in values)
    if not done:
        error = error or "no read-back after the load"
    elif unread:
        error = f"{len(unread)} acknowledged writes were not read back"
    lost = tuple(
        (r["key"], float(r["t"])) for r in acked if r["key"] in values and values[r["key"]] != r["value"]
    )
    return LostWrites(len(acked), len(uncertain_ops), len(values), lost, error, unread, interrupted)


@dataclass(frozen=True, slots=True)
class ShardLoss:
    shard: str  # the shard's primary as created, e.g. redis-1
    slots: tuple[int, int]  # first and last, inclusive
    acknowledged: int
    lost: int | None  # None: not every acknowledged write of the shard was read back (unknown says why)
    unknown: str = ""


def shard_index(shards: list[dict[str, Any]], key: str) -> int:
    """Which of the topology record's shards (as created) holds `key`'s slot."""
    slot = key_slot(key)
    return next(i for i, shard in enumerate(shards) if shard["slots"][0] <= slot <= shard["slots"][1])


def lost_by_shard(history: History, lost: LostWrites) -> tuple[ShardLoss, ...]:
    """A cluster's acknowledged and lost writes per shard, by each key's slot; () on a Sentinel topology."""
    shards = history.topologies[0].get("shards", []) if history.topologies else []
    if not shards:
        return ()
    lost_keys = {key for key, _ in lost.lost}
    acked: list[int] = [0] * len(shards)
    lost_n: list[int] = [0] * len(shards)
    unread: list[int] = [0] * len(shards)
    for record in _acknowledged(history):
        i = shard_index(shards, record["key"])
        acked[i] += 1
        lost_n[i] += record["key"] in lost_keys
        unread[i] += record["key"] in lost.unread
    out = []
    for i, shard in enumerate(shards):
        slots = (shard["slots"][0], shard["slots"][1])
        if unread[i]:
            why = f"{unread[i]} of its {acked[i]} acknowledged writes were not read back ({lost.error})"
            out.append(ShardLoss(shard["primary"], slots, acked[i], None, why))
        else:
            out.append(ShardLoss(shard["primary"], slots, acked[i], lost_n[i]))
    return tuple(out)
