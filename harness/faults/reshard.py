"""reshard: slots moved from one cluster primary to another under load, the way `redis-cli --cluster
reshard` moves them: per slot, the target IMPORTING and the source MIGRATING, the slot's keys sent over in
batches with MIGRATE, then the slot given to the target (SETSLOT NODE) on the target, the source and every
other primary. Meanwhile clients asking the source for a key it no longer has get ASK, and after the hand-over
MOVED. A slot is never left half-moved: a stop request ends the move between two slots."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import redis

from harness.clients.cluster import read_nodes, shard_primary
from harness.clients.probe import probe_client
from harness.core.errors import FaultError
from harness.core.slots import slot_tags
from harness.core.topology import Node, Topology

MIGRATE_TIMEOUT_MS = 5000


@dataclass(frozen=True, slots=True)
class Move:
    source: Node
    target: Node
    slots: tuple[int, ...]
    batch: int  # keys per MIGRATE


@dataclass(frozen=True, slots=True)
class Moved:
    slots: int
    keys: int
    seconds: float


def plan_move(topology: Topology, source: Node, to: str, count: int, batch: int) -> Move:
    """The first `count` slots the source serves, to `to` (default: the next shard's current primary)."""
    if not topology.cluster:
        raise FaultError("reshard: the topology is not a cluster")
    if not to:
        shards = topology.shards
        mine = topology.shard_of(source.name)
        if mine is None:
            raise FaultError(f"reshard: {source.name} is in no shard")
        to = shard_primary(topology, shards[(shards.index(mine) + 1) % len(shards)])
    target = topology.node(to)
    if target.name == source.name:
        raise FaultError(f"reshard: {source.name} would move slots to itself")
    with _failing_as(f"reading {source.name}'s slots"), _client(topology, source) as client:
        myself = next((p for p in read_nodes(client) if "myself" in p.flags), None)
    if myself is None or not myself.primary:
        raise FaultError(f"reshard: {source.name} is not a primary")
    served = [slot for first, last in myself.slots for slot in range(first, last + 1)]
    if len(served) < count:
        raise FaultError(f"reshard: {source.name} serves {len(served)} slots, fewer than {count}")
    return Move(source, target, tuple(served[:count]), batch)


def fill_slots(topology: Topology, move: Move, keys: int, value_bytes: int, prefix: str) -> None:
    """`keys` keys spread evenly over the slots that will move, written to their source first: the data a
    real reshard carries (and what makes MIGRATE block the source for a while)."""
    if not keys:
        return
    tags = slot_tags(move.slots)
    value = b"r" * value_bytes
    per_call = max(1, min(1000, (1 << 20) // value_bytes))
    with _failing_as(f"filling {move.source.name}'s slots"), _client(topology, move.source) as client:
        pipe = client.pipeline(transaction=False)
        queued = 0
        for i in range(keys):
            tag = tags[move.slots[i % len(move.slots)]]
            pipe.set(f"{prefix}:reshard:{{{tag}}}:{i}", value)
            queued += 1
            if queued == per_call:
                pipe.execute()
                queued = 0
        pipe.execute()


def move_slots(topology: Topology, move: Move, stop: threading.Event) -> Moved:
    """Move each slot in turn; returns what moved (fewer slots than planned if asked to stop)."""
    started = time.monotonic()
    keys = slots = 0
    try:
        with ExitStack() as stack:
            source = stack.enter_context(_client(topology, move.source))
            target = stack.enter_context(_client(topology, move.target))
            source_id, target_id = _id(source), _id(target)
            others = [
                stack.enter_context(_client(topology, node))
                for node in _other_primaries(topology, source, {move.source.name, move.target.name})
            ]
            for slot in move.slots:
                if stop.is_set():
                    break
                login = topology.credentials("operator", move.target).auth_args()
                keys += _move_slot(slot, move, source, target, others, source_id, target_id, login)
                slots += 1
    except redis.RedisError as exc:
        where = f"slot {move.slots[slots]}" if slots < len(move.slots) else "the end"
        raise FaultError(
            f"reshard {move.source.name} -> {move.target.name}: {slots} slots moved, then at {where}: "
            f"{type(exc).__name__}: {exc}"
        ) from None
    return Moved(slots, keys, time.monotonic() - started)


def _move_slot(
    slot: int,
    move: Move,
    source: redis.Redis,
    target: redis.Redis,
    others: list[redis.Redis],
    source_id: str,
    target_id: str,
    login: tuple[str | None, ...],
) -> int:
    """One slot, as redis-cli moves it; returns the keys it carried. `login`: the target's AUTH arguments,
    which MIGRATE passes on (AUTH2 with a user), since the source connects to the target as a client."""
    auth: tuple[str | None, ...] = ()
    if len(login) == 3:
        auth = ("AUTH2", *login[1:])
    elif len(login) == 2:
        auth = login
    keys = 0
    target.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", source_id)
    source.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", target_id)
    while batch := source.execute_command("CLUSTER", "GETKEYSINSLOT", slot, move.batch):
        host, port = move.target.host, move.target.port
        source.execute_command("MIGRATE", host, port, "", 0, MIGRATE_TIMEOUT_MS, *auth, "KEYS", *batch)
        keys += len(batch)
    # The target first: once it owns the slot, the source's MOVED replies point at an owner.
    for client in (target, source, *others):
        client.execute_command("CLUSTER", "SETSLOT", slot, "NODE", target_id)
    return keys


def _id(client: redis.Redis) -> str:
    return str(client.execute_command("CLUSTER", "MYID"))


def _other_primaries(topology: Topology, source: redis.Redis, moving: set[str]) -> list[Node]:
    names = {topology.by_address(*p.address) for p in read_nodes(source) if p.primary and not p.failed}
    return [node for node in names if node is not None and node.name not in moving]


def _client(topology: Topology, node: Node) -> redis.Redis:
    return probe_client(node, 5.0, topology.credentials("operator", node))


@contextmanager
def _failing_as(what: str) -> Iterator[None]:
    try:
        yield
    except redis.RedisError as exc:
        raise FaultError(f"reshard: {what}: {type(exc).__name__}: {exc}") from None
