"""A cluster made the way operators make one by hand (what `redis-cli --cluster create` does): distinct
config epochs, slots assigned to the shards' primaries, every node met, replicas attached; then ready when
every node says cluster_state:ok, all 16384 slots are served, every node has the same slot map and every
replica is linked."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path

import redis

from harness.backends.topology_ready import NOT_YET, alive, ping, wait_node
from harness.clients.cluster import Peer, read_info, read_nodes
from harness.clients.probe import parse_replica_lines, probe_client
from harness.clients.waiting import wait_for
from harness.core.slots import SLOTS
from harness.core.topology import Node, Topology
from harness.scenario.model import Environment


def start_cluster(
    topology: Topology,
    env: Environment,
    start: Callable[[str], None],
    log_path: Callable[[str], Path],
    exited: Callable[[str], str | None],
) -> None:
    """Start every data node, then make them one cluster (a cluster has no Sentinels)."""
    for node in topology.data_nodes:
        start(node.name)
    for node in topology.data_nodes:
        check = partial(ping, topology=topology)
        hint = "check the node's configuration in the run's config/ directory"
        wait_node(node, exited, check, env.readiness_timeout, log_path, hint)
    create_cluster(topology, env.readiness_timeout, log_path, exited)


def create_cluster(
    topology: Topology,
    timeout: float,
    log_path: Callable[[str], Path],
    exited: Callable[[str], str | None],
) -> None:
    """The data nodes answer already; make them one cluster and wait until it is ready."""
    nodes = topology.data_nodes
    with _clients(topology) as clients:
        ids = {n.name: str(clients[n.name].execute_command("CLUSTER MYID")) for n in nodes}
        for epoch, node in enumerate(nodes, start=1):
            # Distinct epochs from the start: otherwise the nodes first settle a collision among themselves.
            clients[node.name].execute_command("CLUSTER SET-CONFIG-EPOCH", epoch)
        for shard in topology.shards:
            first, last = shard.slots
            clients[shard.primary].execute_command("CLUSTER ADDSLOTS", *range(first, last + 1))
        seed = clients[nodes[0].name]
        for node in nodes[1:]:
            seed.execute_command("CLUSTER MEET", node.host, node.port)
        expected = set(ids.values())
        for node in nodes:
            _wait(node, exited, log_path, partial(_knows_all, clients=clients, expected=expected), timeout)
        for shard in topology.shards:
            for replica in shard.replicas:
                clients[replica].execute_command("CLUSTER REPLICATE", ids[shard.primary])
        for node in nodes:
            _wait(node, exited, log_path, partial(_ready, clients=clients, topology=topology), timeout)
        _wait(nodes[0], exited, log_path, partial(_agree, clients=clients), timeout)


@contextmanager
def _clients(topology: Topology) -> Iterator[dict[str, redis.Redis]]:
    with ExitStack() as stack:
        yield {
            n.name: stack.enter_context(probe_client(n, 2.0, topology.credentials("operator", n)))
            for n in topology.data_nodes
        }


def _wait(
    node: Node,
    exited: Callable[[str], str | None],
    log_path: Callable[[str], Path],
    check: Callable[[Node], str | None],
    timeout: float,
) -> None:
    wait_for(
        lambda: alive(node, exited, log_path(node.name)) or check(node),
        timeout=timeout,
        what=f"{node.name} ({node.address}) to join the cluster",
        hint="the nodes meet over the cluster bus (port + 10000); look at the node's log",
        log=log_path(node.name),
        not_yet=NOT_YET,
    )


def _knows_all(node: Node, clients: dict[str, redis.Redis], expected: set[str]) -> str | None:
    peers = read_nodes(clients[node.name])
    known = {p.node_id for p in peers if not ({"handshake", "noaddr"} & p.flags)}
    missing = expected - known
    return f"knows {len(expected) - len(missing)} of {len(expected)} nodes" if missing else None


def _ready(node: Node, clients: dict[str, redis.Redis], topology: Topology) -> str | None:
    client = clients[node.name]
    info = read_info(client)
    if info.get("cluster_state") != "ok":
        return f"cluster_state:{info.get('cluster_state')}"
    if int(info.get("cluster_slots_ok", 0)) != SLOTS:
        return f"{info.get('cluster_slots_ok')} of {SLOTS} slots ok"
    shard = topology.shard_of(node.name)
    if shard is not None and shard.primary == node.name:
        online = [r for r in parse_replica_lines(client.info("replication")) if r.get("state") == "online"]
        if len(online) < len(shard.replicas):
            return f"{len(online)} of {len(shard.replicas)} replicas online"
    return None


def _slot_map(peers: tuple[Peer, ...]) -> frozenset[tuple[int, int, str]]:
    return frozenset((first, last, p.node_id) for p in peers if p.primary for first, last in p.slots)


def _agree(_: Node, clients: dict[str, redis.Redis]) -> str | None:
    """Every node has the same slot map, and it covers every slot."""
    maps = {name: _slot_map(read_nodes(client)) for name, client in clients.items()}
    first = next(iter(maps.values()))
    differ = sorted(name for name, slot_map in maps.items() if slot_map != first)
    if differ:
        return f"{', '.join(differ)} see another slot map"
    if sum(last - start + 1 for start, last, _ in first) != SLOTS:
        return "the slot map does not cover every slot"
    return None
