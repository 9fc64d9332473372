"""After the load: read every acknowledged or uncertain write back from the current primary, into the log."""

from __future__ import annotations

from bisect import bisect_right

import redis

from harness.clients.cluster import named, read_nodes
from harness.clients.primary import current_primary
from harness.clients.probe import probe_client
from harness.clients.waiting import wait_for
from harness.core.errors import BackendError, FaultError
from harness.core.log_records import ReadbackRecord
from harness.core.observation_log import ObservationLog, Record
from harness.core.slots import SLOTS, key_slot
from harness.core.topology import Topology

CHUNK = 500


def keys_to_read(records: list[Record]) -> list[str]:
    """Keys the checkers judge: writes that were acknowledged or may have been applied, in order, then the
    state the workloads set up before the load (bank accounts, counters, CAS registers)."""
    written = [
        r["key"] for r in records if r["kind"] == "op" and r.get("f") == "write" and r["type"] != "fail"
    ]
    state = [key for r in records if r["kind"] == "init" for key in r["values"]]
    return written + state


def sets_to_read(records: list[Record]) -> list[str]:
    """The set workload's sets: each one some SADD may have reached."""
    return sorted({r["key"] for r in records if r["kind"] == "op" and r.get("f") == "sadd"})


def read_back(
    topology: Topology,
    log: ObservationLog,
    keys: list[str],
    timeout: float = 10.0,
    sets: list[str] | None = None,
) -> None:
    """Append readback records holding what the current primary has for each key (on a cluster: the
    primary serving the key's slot), and the members of each of `sets`."""
    if topology.cluster:
        _read_back_cluster(topology, log, keys, timeout, sets or [])
        return
    primary_name: list[str] = []

    def primary_answers() -> str | None:
        name = current_primary(topology)
        node = topology.node(name)
        with probe_client(node, 0.5, topology.credentials("monitor", node)) as client:
            client.ping()
        primary_name[:] = [name]
        return None

    try:
        wait_for(
            primary_answers,
            timeout=timeout,
            what="current primary for the read-back",
            hint="the topology did not recover after the faults",
            not_yet=(FaultError, redis.RedisError),
        )
    except BackendError as exc:
        log.write(
            ReadbackRecord(t=log.now(), kind="readback", error=str(exc).splitlines()[0], keys=len(keys))
        )
        return
    node = topology.node(primary_name[0])
    try:
        with probe_client(node, 2.0, topology.credentials("monitor", node)) as client:
            for start in range(0, len(keys), CHUNK):
                chunk = keys[start : start + CHUNK]
                values = client.mget(chunk)
                log.write(
                    ReadbackRecord(
                        t=log.now(),
                        kind="readback",
                        node=node.name,
                        values=dict(zip(chunk, values, strict=True)),
                    )
                )
            _read_sets(client, sets or [], node.name, log)
    except redis.RedisError as exc:
        error = f"{type(exc).__name__}: {exc}"
        log.write(ReadbackRecord(t=log.now(), kind="readback", node=node.name, error=error, keys=len(keys)))
        return
    log.write(ReadbackRecord(t=log.now(), kind="readback", node=node.name, done=True, keys=len(keys)))


def _read_sets(client: redis.Redis, sets: list[str], node: str, log: ObservationLog) -> None:
    for start in range(0, len(sets), CHUNK):
        chunk = sets[start : start + CHUNK]
        pipe = client.pipeline(transaction=False)
        for key in chunk:
            pipe.smembers(key)
        members = {
            key: sorted(str(m) for m in found) for key, found in zip(chunk, pipe.execute(), strict=True)
        }
        log.write(ReadbackRecord(t=log.now(), kind="readback", node=node, sets=members))


def _read_back_cluster(
    topology: Topology, log: ObservationLog, keys: list[str], timeout: float, sets: list[str]
) -> None:
    owners: dict[tuple[int, int], str] = {}

    def every_slot_served() -> str | None:
        owners.clear()
        for node in topology.data_nodes:
            try:
                with probe_client(node, 0.5, topology.credentials("monitor", node)) as client:
                    peers = read_nodes(client)
            except redis.RedisError:
                continue
            served = [p for p in peers if p.primary and not p.failed]
            owners.update({span: named(p, topology) for p in served for span in p.slots})
            count = sum(last - first + 1 for first, last in owners)
            return None if count == SLOTS else f"{count} of {SLOTS} slots served, as {node.name} sees them"
        return "no cluster node answers"

    try:
        wait_for(
            every_slot_served,
            timeout=timeout,
            what="every slot served for the read-back",
            hint="the cluster did not recover after the faults",
        )
    except BackendError as exc:
        log.write(
            ReadbackRecord(t=log.now(), kind="readback", error=str(exc).splitlines()[0], keys=len(keys))
        )
        return
    spans = sorted(owners)
    starts = [first for first, _ in spans]
    by_owner: dict[str, list[str]] = {}
    sets_by_owner: dict[str, list[str]] = {}
    for key in keys:
        span = spans[bisect_right(starts, key_slot(key.encode())) - 1]
        by_owner.setdefault(owners[span], []).append(key)
    for key in sets:
        span = spans[bisect_right(starts, key_slot(key.encode())) - 1]
        sets_by_owner.setdefault(owners[span], []).append(key)
        by_owner.setdefault(owners[span], [])
    for name, owned in by_owner.items():
        node = topology.node(name)
        try:
            with probe_client(node, 2.0, topology.credentials("monitor", node)) as client:
                for start in range(0, len(owned), CHUNK):
                    chunk = owned[start : start + CHUNK]
                    pipe = client.pipeline(transaction=False)
                    for key in chunk:
                        pipe.get(key)
                    values = pipe.execute()
                    log.write(
                        ReadbackRecord(
                            t=log.now(),
                            kind="readback",
                            node=name,
                            values=dict(zip(chunk, values, strict=True)),
                        )
                    )
                _read_sets(client, sets_by_owner.get(name, []), name, log)
        except redis.RedisError as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.write(ReadbackRecord(t=log.now(), kind="readback", node=name, error=error, keys=len(keys)))
            return
    log.write(ReadbackRecord(t=log.now(), kind="readback", node="cluster", done=True, keys=len(keys)))
