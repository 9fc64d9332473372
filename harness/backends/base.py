"""The small interface every backend implements. Scenarios never know which backend runs them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from harness.access import Access, Credentials, Role
from harness.errors import BackendError

NodeKind = Literal["redis", "sentinel"]


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
    access: Access = field(default_factory=Access)  # who connects how (harness/access.py)

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
        return None

    def link(self, name: str) -> Link:
        for link in self.links:
            if link.name == name:
                return link
        raise KeyError(name)


class Backend(ABC):
    """Starts, controls and tears down one run's topology. Every resource carries the run id."""

    @abstractmethod
    def up(self) -> Topology:
        """Start every node and return once the topology is ready (or raise BackendError)."""

    @abstractmethod
    def down(self) -> None:
        """Stop and remove everything this run started. Safe to call twice and after a failed up()."""

    @abstractmethod
    def kill(self, name: str) -> float:
        """SIGKILL a node; returns time.monotonic() when the signal was sent (the fault's invoke time:
        on Docker the API call takes 40-120 ms here, so its start would misdate the death)."""

    @abstractmethod
    def restart(self, name: str) -> None:
        """Start a stopped or killed node again with its own configuration and data."""

    @abstractmethod
    def is_running(self, name: str) -> bool: ...

    @abstractmethod
    def log_path(self, name: str) -> Path: ...

    def export_data(self, name: str, relative: str, dest: Path) -> None:
        """Copy a directory of the node's data directory (e.g. its AOF directory) into dest; the node may be
        stopped. For repairs done with the host's tools."""
        raise BackendError(f"this backend cannot read {name}'s data files")

    def import_data(self, name: str, src: Path, relative: str) -> None:
        """Replace that directory of the node's data with the files in src."""
        raise BackendError(f"this backend cannot write {name}'s data files")

    def start_extra_node(self, name: str, files: Path) -> Node:
        """Start a standalone data node outside the topology (no replication, no Sentinel) from the files in
        `files` (a snapshot to restore); it goes with the run."""
        raise BackendError(f"this backend cannot start an extra node ({name})")

    def disconnect(self, name: str) -> bool:
        """Cut a node off the network for real. False: this backend cannot, and the proxy does it instead."""
        return False

    def reconnect(self, name: str) -> None:
        """Undo disconnect(); nothing for a node that is connected."""
        return None

    def disconnected(self) -> tuple[str, ...]:
        """Nodes cut off by disconnect() and not reconnected yet."""
        return ()
