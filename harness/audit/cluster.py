"""`drill audit --cluster`: the readiness items our documents give for Redis Cluster (C1-C4), judged from what
one node says of the whole cluster (CLUSTER INFO, CLUSTER NODES)."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from harness.audit.item import Item, expect
from harness.clients.cluster import Peer, read_info, read_nodes
from harness.core.loopback import is_loopback
from harness.core.slots import SLOTS


@dataclass(frozen=True, slots=True)
class ClusterState:
    enabled: bool
    info: dict[str, str]  # CLUSTER INFO; empty when cluster mode is off
    peers: tuple[Peer, ...]  # CLUSTER NODES, as the audited node sees them


def read_cluster(client: redis.Redis, server_info: dict[str, object]) -> ClusterState:
    if not int(str(server_info.get("cluster_enabled", 0))):
        return ClusterState(False, {}, ())
    return ClusterState(True, read_info(client), read_nodes(client))


def _host(peer: Peer) -> str:
    # Every loopback address is this one machine, however the nodes were spread over 127.0.0.0/8.
    return "this machine (loopback)" if is_loopback(peer.address[0]) else peer.address[0]


def _name(peer: Peer) -> str:
    return "{}:{}".format(*peer.address)


def cluster_items(state: ClusterState) -> list[Item]:
    if not state.enabled:
        return [Item("C1", "cluster state ok", "fail", "cluster_enabled:0", "a node of a Redis Cluster")]
    info = state.info
    assigned, failing = int(info.get("cluster_slots_assigned", 0)), int(info.get("cluster_slots_fail", 0))
    suspected = int(info.get("cluster_slots_pfail", 0))
    covered = expect(
        "C2",
        "all slots covered",
        f"{assigned} of {SLOTS} assigned, {failing} failed, {suspected} suspected",
        f"{SLOTS} assigned, none failed",
        assigned == SLOTS and failing == 0,
    )
    if covered.verdict == "pass" and suspected:
        covered = Item("C2", covered.title, "warn", covered.seen, covered.expected)
    state_ok = info.get("cluster_state") == "ok"
    return [
        expect("C1", "cluster state ok", f"cluster_state:{info.get('cluster_state', '?')}", "ok", state_ok),
        covered,
        _primaries_replicated(state.peers),
        _replicas_apart(state.peers),
    ]


def _serving(peers: tuple[Peer, ...]) -> list[Peer]:
    return [p for p in peers if p.primary and p.slots and not p.failed]


def _replicas_of(primary: Peer, peers: tuple[Peer, ...]) -> list[Peer]:
    return [p for p in peers if p.primary_id == primary.node_id and not p.failed]


def _primaries_replicated(peers: tuple[Peer, ...]) -> Item:
    primaries = _serving(peers)
    alone = [_name(p) for p in primaries if not _replicas_of(p, peers)]
    seen = f"{len(primaries)} primaries serving slots" + (
        f"; without a replica: {', '.join(alone)}" if alone else ""
    )
    return expect(
        "C3",
        "every primary with a replica",
        seen,
        "a replica for every primary",
        bool(primaries) and not alone,
    )


def _replicas_apart(peers: tuple[Peer, ...]) -> Item:
    """A host's failure must not take a primary and all its replicas: judged by address, so only where the
    nodes are on more than one host (on one machine every node shares its address)."""
    title, expected = "replicas on other hosts than their primary", "each primary's replica on another host"
    hosts = {_host(p) for p in peers}
    if len(hosts) < 2:
        only = next(iter(hosts), "?")
        return Item("C4", title, "warn", f"every node on {only}: losing it loses every shard", expected)
    together = [
        _name(p)
        for p in _serving(peers)
        if (replicas := _replicas_of(p, peers)) and all(_host(r) == _host(p) for r in replicas)
    ]
    seen = f"{len(hosts)} hosts" + (
        f"; replicas only on their primary's host: {', '.join(together)}" if together else ""
    )
    return expect("C4", title, seen, expected, not together)
