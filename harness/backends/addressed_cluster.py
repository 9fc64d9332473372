"""A Redis Cluster the harness did not start, found through some of its nodes (environment `external.seeds`).

CLUSTER NODES from the first seed that answers gives the shards (primaries serving slots, in slot order, each
with its replicas); it is compared with the file's `cluster:` section, never guessed, and every difference
stops the run before anything changes. At the end the cluster must be as found again: every node says
cluster_state:ok, as many primaries serve the slots, and each has as many replicas online.
"""

from __future__ import annotations

from typing import Any

import redis

from harness.backends.external_access import external_access
from harness.backends.found_by_address import first_answer, replicas_differ, require_reachable
from harness.clients.cluster import Peer, read_info, read_nodes
from harness.clients.probe import probe_client
from harness.core.access import Access
from harness.core.errors import ConfigError, Problem
from harness.core.topology import Node, Shard, Topology
from harness.scenario.model import AddressedDeployment, Environment
from harness.scenario.yamlsource import load_yaml

UNLINK_BATCH = 500
# Not a member to count: a node still being met, one without an address, one the cluster has failed.
NOT_MEMBERS = frozenset({"handshake", "noaddr", "fail"})


def found_cluster(env: Environment) -> Topology:
    """The cluster as its nodes describe it, checked against the file (ConfigError listing every difference).
    Reads only: CLUSTER NODES and CONFIG GET cluster-node-timeout."""
    deployment = env.external_deployment
    assert deployment is not None and env.cluster is not None
    access = external_access(env)
    peers, node_timeout = _ask_seeds(env, deployment, access)
    members = [p for p in peers if not (NOT_MEMBERS & p.flags)]
    for peer in members:
        require_reachable(deployment, peer.address, "the cluster names {address} as a node")
    primaries = sorted((p for p in members if p.primary and p.slots), key=lambda p: min(p.slots)[0])
    replicas = {
        p.node_id: sorted((r for r in members if r.primary_id == p.node_id), key=lambda r: r.address)
        for p in primaries
    }
    _check_matches(env, peers, primaries, replicas, node_timeout)
    named: list[tuple[str, tuple[str, int]]] = [(f"redis-{i}", p.address) for i, p in enumerate(primaries, 1)]
    shards = []
    for i, primary in enumerate(primaries, 1):
        names = []
        for replica in replicas[primary.node_id]:
            names.append(f"redis-{len(named) + 1}")
            named.append((names[-1], replica.address))
        first, last = max(primary.slots, key=lambda r: r[1] - r[0])  # a range the shard serves whole
        shards.append(Shard(f"redis-{i}", tuple(names), (first, last)))
    nodes = tuple(Node(name, "redis", *deployment.reach(address)) for name, address in named)
    announced = tuple((*a, name) for name, a in named if deployment.reach(a) != a)
    return Topology(
        env.master_name, nodes, "redis-1", access=access, shards=tuple(shards), announced=announced
    )


def _ask_seeds(
    env: Environment, deployment: AddressedDeployment, access: Access
) -> tuple[tuple[Peer, ...], int]:
    def ask(client: redis.Redis) -> tuple[tuple[Peer, ...], int]:
        timeout = client.config_get("cluster-node-timeout")
        return read_nodes(client), int(_value(timeout, "cluster-node-timeout"))

    return first_answer(
        env,
        deployment.seeds,
        "redis",
        access,
        ask,
        what=f"a node of {env.file} to describe its cluster",
        hint="check external.seeds, and that the cluster's nodes answer from this machine",
    )


def _value(reply: Any, name: str) -> str:
    value = reply.get(name, reply.get(name.encode())) if isinstance(reply, dict) else None
    if value is None:
        raise redis.ResponseError(f"CONFIG GET {name} gave nothing")
    return value.decode() if isinstance(value, bytes) else str(value)


def _check_matches(
    env: Environment,
    peers: tuple[Peer, ...],
    primaries: list[Peer],
    replicas: dict[str, list[Peer]],
    node_timeout: int,
) -> None:
    """The drill's time bounds (node-timeout) and targets (each shard's primary and replicas) come from
    the file: it must describe the cluster as it runs."""
    spec = env.cluster
    assert spec is not None
    source = load_yaml(env.file)
    problems: list[Problem] = []

    def differ(path: tuple[str, ...], message: str) -> None:
        why = "(the drill's bounds and targets must come from what runs)"
        problems.append(Problem(str(env.file), source.line(path), ".".join(path), f"{message} {why}"))

    if len(primaries) != spec.shards:
        differ(
            ("cluster", "shards"),
            f"says {spec.shards}, the cluster has {len(primaries)} primaries serving slots",
        )
    counts = sorted({len(r) for r in replicas.values()})
    if counts and counts != [spec.replicas_per_shard]:
        have = ", ".join(f"{len(replicas[p.node_id])} ({p.address[0]}:{p.address[1]})" for p in primaries)
        differ(("cluster", "replicas_per_shard"), f"says {spec.replicas_per_shard}, the shards have {have}")
    if node_timeout != spec.node_timeout_ms:
        differ(
            ("cluster", "cluster-node-timeout"),
            f"says {spec.node_timeout_ms}, the cluster has {node_timeout}",
        )
    unwell = sorted(
        "{}:{} ({})".format(*p.address, ",".join(sorted(NOT_MEMBERS & p.flags)))
        for p in peers
        if NOT_MEMBERS & p.flags
    )
    if unwell:
        differ(
            ("external", "seeds"), f"the cluster is not whole: {', '.join(unwell)}; drill a healthy cluster"
        )
    if problems:
        raise ConfigError(problems)


def remove_cluster_keys(topology: Topology, patterns: tuple[str, ...]) -> int:
    """UNLINK every key of the run on each node serving slots now, as the first node that answers sees the
    cluster (a node just started again is a replica, or not up yet); SCAN MATCH is per node, and one key per
    UNLINK, pipelined: keys of several slots cannot share one in a cluster. Never a FLUSHALL."""
    removed = 0
    for primary in _serving(topology):
        with probe_client(primary, 5.0, topology.credentials("operator", primary)) as client:
            pipe = client.pipeline(transaction=False)
            for pattern in patterns:
                for key in client.scan_iter(match=pattern, count=1000):
                    pipe.unlink(key)
                    if len(pipe) == UNLINK_BATCH:
                        removed += sum(int(n) for n in pipe.execute())
            if len(pipe):
                removed += sum(int(n) for n in pipe.execute())
    return removed


def _serving(topology: Topology) -> list[Node]:
    """The nodes serving slots, as the first node that answers sees them."""
    for node in topology.data_nodes:
        try:
            with probe_client(node, 0.5, topology.credentials("operator", node)) as client:
                peers = read_nodes(client)
        except redis.RedisError:
            continue
        found = (topology.by_address(*p.address) for p in peers if p.primary and p.slots and not p.failed)
        return [n for n in found if n is not None]
    raise redis.ConnectionError("no node of the cluster answers")


def cluster_differences(topology: Topology) -> list[str]:
    """What differs from the cluster as found: a node not ok, another number of primaries serving slots, a
    primary with another number of replicas online. Empty: as found."""
    expected_replicas = len(topology.shards[0].replicas)
    serving: set[tuple[str, int]] = set()
    for node in topology.data_nodes:
        try:
            with probe_client(node, 0.5, topology.credentials("operator", node)) as client:
                state = read_info(client).get("cluster_state")
                if not serving:
                    serving = {
                        p.address for p in read_nodes(client) if p.primary and p.slots and not p.failed
                    }
        except redis.RedisError as exc:
            return [f"{node.name} does not answer ({type(exc).__name__})"]
        if state != "ok":
            return [f"{node.name} says cluster_state:{state}"]
    if len(serving) != len(topology.shards):
        return [f"{len(serving)} primaries serve the slots, {len(topology.shards)} were found"]
    for address in sorted(serving):
        primary = topology.by_address(*address)
        if primary is None:
            return [f"{address[0]}:{address[1]} serves slots and is not one of the nodes found"]
        differs = replicas_differ(topology, primary, expected_replicas)
        if differs:
            return differs
    return []
