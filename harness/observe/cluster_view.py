"""Each cluster node's view of the cluster (CLUSTER INFO and CLUSTER NODES), polled every info_interval and
logged when it changes: when a node is suspected (PFAIL) and failed (FAIL), which replica was promoted, when
the state is ok again. A cluster publishes no events as Sentinel does: the nodes' views are the record."""

from __future__ import annotations

import threading
from typing import Any

import redis

from harness.clients.cluster import Peer, named, read_info, read_nodes
from harness.clients.probe import probe_client
from harness.core.log_records import ClusterRecord
from harness.core.observation_log import INFO_INTERVAL_S, ObservationLog
from harness.core.topology import Node, Topology


def summarize_view(peers: tuple[Peer, ...], topology: Topology) -> dict[str, dict[str, Any]]:
    """{name: {role, failed, suspected, primary, slots}} with addresses and ids turned into node names."""
    names = {p.node_id: named(p, topology) for p in peers}
    view: dict[str, dict[str, Any]] = {}
    for peer in peers:
        entry: dict[str, Any] = {"role": "primary" if peer.primary else "replica"}
        if peer.failed:
            entry["failed"] = True
        if "fail?" in peer.flags:
            entry["suspected"] = True
        if peer.primary_id:
            entry["primary"] = names.get(peer.primary_id, peer.primary_id)
        if peer.slots:
            entry["slots"] = peer.slot_count
        view[names[peer.node_id]] = entry
    return view


def watch_cluster(topology: Topology, log: ObservationLog, stop: threading.Event) -> None:
    clients: dict[str, redis.Redis] = {}
    last: dict[str, ClusterRecord] = {}
    while not stop.wait(INFO_INTERVAL_S):
        for node in topology.data_nodes:
            record = _look(node, topology, clients, log)
            seen = last.get(node.name)
            if seen is None or {**seen, "t": 0} != {**record, "t": 0}:
                log.write(record)
                last[node.name] = record
    for client in clients.values():
        client.close()


def _look(
    node: Node, topology: Topology, clients: dict[str, redis.Redis], log: ObservationLog
) -> ClusterRecord:
    try:
        client = clients.get(node.name)
        if client is None:
            client = clients[node.name] = probe_client(node, 0.2, topology.credentials("monitor", node))
        info = read_info(client)
        peers = read_nodes(client)
    except redis.RedisError as exc:
        dropped = clients.pop(node.name, None)
        if dropped is not None:
            dropped.close()
        return ClusterRecord(t=log.now(), kind="cluster", node=node.name, error=type(exc).__name__)
    return ClusterRecord(
        t=log.now(),
        kind="cluster",
        node=node.name,
        state=info.get("cluster_state", ""),
        slots_ok=int(info.get("cluster_slots_ok", 0)),
        view=summarize_view(peers, topology),
    )
