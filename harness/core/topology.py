"""What a started environment looks like to clients, observers and faults: nodes, proxied links and the
topology that holds them. Plain frozen data, whichever backend started it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from harness.core.access import Access, Credentials, Role


@dataclass(frozen=True, slots=True)
class Shard:
    """A cluster's shard as created: its primary, its replicas and the slots it serves (first, last)."""

    primary: str
    replicas: tuple[str, ...]
    slots: tuple[int, int]

    @property
    def nodes(self) -> tuple[str, ...]:
        return (self.primary, *self.replicas)


NodeKind = Literal["redis", "sentinel"]
CLIENTS = "clients"  # in partitions: the harness, its load users and probes, as one party


@dataclass(frozen=True, slots=True)
class Node:
    name: str
    kind: NodeKind
    host: str
    port: int  # the node itself: observers and probes use it, so they see the truth through any fault
    client_port: int = 0  # where clients, Sentinels and replicas reach it (its proxy); 0: the node itself
    client_host: str = ""  # the proxy's host when it differs from the node's (Docker: the network's gateway)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def address_tuple(self) -> tuple[str, int]:
        return self.host, self.port

    @property
    def client_address(self) -> tuple[str, int]:
        if self.client_port:
            return self.client_host or self.host, self.client_port
        return self.host, self.port


LinkKind = Literal["clients", "replication"]


@dataclass(frozen=True, slots=True)
class Link:
    """A proxied network path: "clients" carries clients, Sentinels and replicas to `node`; "replication"
    carries one replica's replication stream to the initial primary."""

    name: str
    kind: LinkKind
    node: str  # the node the link leads to
    replica: str  # for replication links: the replica at the other end; "" otherwise
    port: int
    host: str = "127.0.0.1"  # where the proxy listens for this link


@dataclass(frozen=True, slots=True)
class Topology:
    """What a started environment looks like to clients, observers and faults."""

    master_name: str
    nodes: tuple[Node, ...]
    initial_primary: str
    links: tuple[Link, ...] = ()
    proxy_api: tuple[str, int] | None = None  # the Toxiproxy-compatible API controlling the links
    access: Access = field(default_factory=Access)  # who connects how (harness/core/access.py)
    engine: str = ""  # the engine the nodes run (harness/core/engines.py); empty: not ours to know (external)
    shards: tuple[Shard, ...] = ()  # a cluster's shards as created; empty: a Sentinel topology
    # Nodes that announce another address than the one the harness reaches them at (external.address_map):
    # (announced host, port, node name), so what Sentinel or the cluster names is found too.
    announced: tuple[tuple[str, int, str], ...] = ()

    @property
    def cluster(self) -> bool:
        return bool(self.shards)

    @property
    def cluster_routes(self) -> tuple[tuple[tuple[str, int], tuple[str, int]], ...]:
        """A cluster's data nodes as the cluster announces them (their own addresses, in its slot map and
        redirects) and where clients reach each (its proxied link, or itself); () on a Sentinel topology."""
        if not self.cluster:
            return ()
        return tuple((n.address_tuple, n.client_address) for n in self.data_nodes)

    def shard_of(self, name: str) -> Shard | None:
        """The shard a data node was created in (a cluster's nodes change roles, never shards)."""
        return next((s for s in self.shards if name in s.nodes), None)

    def credentials(self, role: Role, node: Node) -> Credentials:
        return self.access.credentials(role, node.kind)

    @property
    def data_nodes(self) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if n.kind == "redis")

    @property
    def sentinels(self) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if n.kind == "sentinel")

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    def by_address(self, host: str, port: int) -> Node | None:
        """The node an address leads to: its own port, its client proxy, or a replication link to it."""
        for node in self.nodes:
            if (host, port) in (node.address_tuple, node.client_address):
                return node
        for link in self.links:
            if (link.host, link.port) == (host, port):
                return self.node(link.node)
        for alias_host, alias_port, name in self.announced:
            if (alias_host, alias_port) == (host, port):
                return self.node(name)
        return None

    def announced_address(self, name: str) -> str:
        """host:port the node announces when it differs from where it is reached, else ""."""
        return next((f"{h}:{p}" for h, p, n in self.announced if n == name), "")

    def link(self, name: str) -> Link:
        for link in self.links:
            if link.name == name:
                return link
        raise KeyError(name)
