"""The small interface every backend implements. Scenarios never know which backend runs them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

NodeKind = Literal["redis", "sentinel"]


@dataclass(frozen=True, slots=True)
class Node:
    name: str
    kind: NodeKind
    host: str
    port: int

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Topology:
    """What a started environment looks like to clients, observers and faults."""

    master_name: str
    nodes: tuple[Node, ...]
    initial_primary: str

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
        for node in self.nodes:
            if node.host == host and node.port == port:
                return node
        return None


class Backend(ABC):
    """Starts, controls and tears down one run's topology. Every resource carries the run id."""

    @abstractmethod
    def up(self) -> Topology:
        """Start every node and return once the topology is ready (or raise BackendError)."""

    @abstractmethod
    def down(self) -> None:
        """Stop and remove everything this run started. Safe to call twice and after a failed up()."""

    @abstractmethod
    def kill(self, name: str) -> None:
        """SIGKILL a node."""

    @abstractmethod
    def restart(self, name: str) -> None:
        """Start a stopped or killed node again with its own configuration and data."""

    @abstractmethod
    def is_running(self, name: str) -> bool: ...

    @abstractmethod
    def log_path(self, name: str) -> Path: ...
