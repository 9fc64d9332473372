"""Sample INFO on every data node, a few times a second, one record per round: replication, error counts and
the metrics SEED-FACTS.md puts thresholds on (memory, evictions, clients)."""

from __future__ import annotations

import threading
from typing import Any

import redis

from harness.clients.probe import parse_replica_lines, probe_client
from harness.core.engines import EngineMissing, find_engine
from harness.core.log_records import InfoRecord
from harness.core.observation_log import INFO_INTERVAL_S, ObservationLog
from harness.core.topology import Node, Topology


def summarize(info: dict[str, Any], topology: Topology) -> dict[str, Any]:
    """The parts of INFO the checks use, with addresses turned into node names."""
    out: dict[str, Any] = {"role": info.get("role")}
    if info.get("role") == "master":
        out["offset"] = info.get("master_repl_offset", 0)
        replicas = []
        for line in parse_replica_lines(info):
            node = topology.by_address(str(line.get("ip")), int(str(line.get("port", 0))))
            replicas.append(
                {
                    "node": node.name if node else f"{line.get('ip')}:{line.get('port')}",
                    "state": line.get("state"),
                    "offset": line.get("offset"),
                    "lag": line.get("lag"),
                }
            )
        out["replicas"] = replicas
    else:
        out["offset"] = info.get("slave_repl_offset", info.get("master_repl_offset", 0))
        out["link"] = info.get("master_link_status")
        primary = topology.by_address(str(info.get("master_host")), int(info.get("master_port", 0) or 0))
        out["primary"] = primary.name if primary else f"{info.get('master_host')}:{info.get('master_port')}"
    errors = {
        key[len("errorstat_") :]: value.get("count", 0)
        for key, value in info.items()
        if key.startswith("errorstat_") and isinstance(value, dict)
    }
    if errors:
        out["errors"] = errors
    for field in METRICS:
        if field in info:
            out[field] = info[field]
    return out


METRICS = (
    "used_memory",
    "maxmemory",
    "evicted_keys",
    "connected_clients",
    "maxclients",
    "keyspace_hits",
    "keyspace_misses",
    "total_commands_processed",  # ops/s against its baseline (SEED-FACTS: +50 % warning, +100 % critical)
    "mem_clients_slaves",  # output buffers to replicas: the write stream held during a full sync
    "sync_full",  # full syncs served: a replica copying the whole dataset
    "used_cpu_sys",  # CPU seconds, for the key-metrics dashboard's CPU % (SEED-FACTS: 70 % / 85 %)
    "used_cpu_user",
)


SECTIONS = ("replication", "errorstats", "memory", "stats", "clients", "cpu")


def sample_info(topology: Topology, log: ObservationLog, stop: threading.Event) -> None:
    clients: dict[str, redis.Redis] = {}
    # Several sections in one INFO came with 7.0; before that, the default INFO holds them all.
    sections = SECTIONS if info_sections_at_once(topology.engine) else ()
    while not stop.wait(INFO_INTERVAL_S):
        log.write(
            InfoRecord(
                t=log.now(),
                kind="info",
                nodes={node.name: _sample(node, topology, clients, sections) for node in topology.data_nodes},
                sentinels={node.name: _view(node, topology, clients) for node in topology.sentinels},
            )
        )
    for client in clients.values():
        client.close()


def _view(sentinel: Node, topology: Topology, clients: dict[str, redis.Redis]) -> str | None:
    """Which node this Sentinel names as the primary (None: it does not answer, or names none we know)."""
    try:
        client = clients.get(sentinel.name)
        if client is None:
            credentials = topology.credentials("monitor", sentinel)
            client = clients[sentinel.name] = probe_client(sentinel, 0.2, credentials)
        address = client.sentinel_get_master_addr_by_name(topology.master_name)
    except redis.RedisError:
        dropped = clients.pop(sentinel.name, None)
        if dropped is not None:
            dropped.close()
        return None
    if not isinstance(address, tuple | list):
        return None
    node = topology.by_address(str(address[0]), int(address[1]))
    return node.name if node else None


def info_sections_at_once(engine: str) -> bool:
    """Whether the engine takes INFO with several sections (7.0+); an unknown engine is asked for all."""
    try:
        return find_engine(engine).version_at_least(7, 0) if engine else True
    except EngineMissing:
        return True


def _sample(
    node: Node, topology: Topology, clients: dict[str, redis.Redis], sections: tuple[str, ...]
) -> dict[str, Any]:
    """One node's INFO summary, or the error that stopped us reading it. Never raises a Redis error."""
    try:
        client = clients.get(node.name)
        if client is None:
            client = clients[node.name] = probe_client(node, 0.2, topology.credentials("monitor", node))
        info = client.execute_command("INFO", *sections)
        return summarize(info, topology)
    except redis.RedisError as exc:
        dropped = clients.pop(node.name, None)
        if dropped is not None:
            dropped.close()
        return {"error": type(exc).__name__, "message": str(exc)[:120]}
