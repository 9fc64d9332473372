"""An environment's topology as names and roles, before any backend gives it addresses and ports: the one
place that says which nodes and proxied links a topology has, for the backends and for the loader (which
checks the names faults use against it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from harness.core.slots import SLOTS
from harness.core.topology import Shard
from harness.scenario.model import Environment

PlannedKind = Literal["redis", "sentinel"]


@dataclass(frozen=True, slots=True)
class PlannedNode:
    name: str
    kind: PlannedKind
    index: int  # 0-based within its kind: backends derive its address from it


@dataclass(frozen=True, slots=True)
class PlannedLink:
    """A proxied path: "clients" to `node` for clients, Sentinels and replicas; "replication" from
    `replica` to the initial primary `node`."""

    name: str  # the proxy's name for it
    kind: Literal["clients", "replication"]
    node: str
    replica: str = ""


@dataclass(frozen=True, slots=True)
class Plan:
    nodes: tuple[PlannedNode, ...]
    links: tuple[PlannedLink, ...]
    primary: str  # the initial primary (on a cluster: the first shard's)
    shards: tuple[Shard, ...] = ()  # a cluster's; empty for Sentinel topologies

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n.name for n in self.nodes)

    @property
    def data_names(self) -> tuple[str, ...]:
        return tuple(n.name for n in self.nodes if n.kind == "redis")

    def link_selectors(self) -> tuple[str, ...]:
        """What a network fault may name: roles resolved when it fires, nodes, replication links."""
        clients = tuple(link.node for link in self.links if link.kind == "clients")
        replication = tuple(
            f"replication:{link.replica}" for link in self.links if link.kind == "replication"
        )
        roles = (("primary", "replica") if len(self.data_names) > 1 else ("primary",)) if clients else ()
        return (*roles, *clients, *(("replication:replica",) if replication else ()), *replication)


def link_name(selector: str) -> str:
    """The proxy's name for a link selector: "redis-2" or "replication:redis-2" -> "redis-2-replication"."""
    kind, _, node = selector.partition(":")
    return f"{node}-replication" if node else kind


def plan(env: Environment) -> Plan:
    if env.cluster is not None:
        clients = env.proxy is not None and env.proxy.clients
        return _cluster_plan(env.cluster.shards, env.cluster.replicas_per_shard, clients)
    data = [PlannedNode(f"redis-{i + 1}", "redis", i) for i in range(env.replicas + 1)]
    sentinels = [PlannedNode(f"sentinel-{i + 1}", "sentinel", i) for i in range(env.sentinels.count)]
    proxy = env.proxy
    links: list[PlannedLink] = []
    for node in data:
        if proxy is not None and proxy.clients:
            links.append(PlannedLink(node.name, "clients", node.name))
        if proxy is not None and proxy.replication and node.index > 0:
            links.append(
                PlannedLink(link_name(f"replication:{node.name}"), "replication", "redis-1", node.name)
            )
    return Plan(tuple(data + sentinels), tuple(links), data[0].name)


def _cluster_plan(shards: int, replicas_per_shard: int, clients: bool) -> Plan:
    """redis-1..redis-S are the primaries, in slot order; the replicas follow, dealt out to the shards in
    turn, as `redis-cli --cluster create --cluster-replicas N` pairs them. With `clients`, a clients link
    per data node (replicas too: one becomes its shard's primary after a failover): the load reaches each
    node through it, while the nodes meet, replicate and announce themselves on their own addresses."""
    total = shards * (1 + replicas_per_shard)
    data = tuple(PlannedNode(f"redis-{i + 1}", "redis", i) for i in range(total))
    layout = tuple(
        Shard(
            data[i].name,
            tuple(data[j].name for j in range(shards, total) if (j - shards) % shards == i),
            (i * SLOTS // shards, (i + 1) * SLOTS // shards - 1),
        )
        for i in range(shards)
    )
    links = tuple(PlannedLink(node.name, "clients", node.name) for node in data) if clients else ()
    return Plan(data, links, data[0].name, layout)
