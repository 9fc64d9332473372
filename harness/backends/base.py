"""The small interface every backend implements. Scenarios never know which backend runs them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from harness.core.errors import BackendError
from harness.core.topology import Node, Topology


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

    def terminate(self, name: str) -> float:
        """SIGTERM a node (what systemd or a pod eviction sends: the engine's own shutdown, which may wait
        for its replicas); returns time.monotonic() when the signal was sent, without waiting for the end."""
        raise BackendError(f"this backend cannot terminate {name}")

    def container_name(self, name: str) -> str | None:
        """The node's container, where there is one (runbook programs get it to act on the node)."""
        return None

    def require_partitions(self) -> None:
        """Refuse (BackendError) before anything starts when this backend cannot cut per-peer partitions."""
        raise BackendError("this backend cannot make per-peer partitions")

    def cut(self, senders: frozenset[str], receivers: frozenset[str]) -> str:
        """Drop every packet from the senders to the receivers (node names, or "clients": the harness and
        its load); returns the mechanism, for the fault record."""
        raise BackendError("this backend cannot make per-peer partitions")

    def cut_both(self, one: frozenset[str], other: frozenset[str]) -> str:
        """Both directions of a partition (the mechanism of the first); a backend whose cuts are slow
        commands lands them together."""
        mechanism = self.cut(one, other)
        self.cut(other, one)
        return mechanism

    def cut_landed(self) -> float | None:
        """Log time at which the last cut became whole, where cutting takes commands that run for a while
        (a deployment's own isolate, over SSH); None where a cut is in place as soon as it is invoked."""
        return None

    def undo_for(self, action: str, node: str | None) -> list[tuple[str, dict[str, Any]]]:
        """What undoes the fault just applied, for the run's watchdog (harness/backends/watchdog.py): the
        ops it knows, with their arguments. Empty: nothing of it outlives the harness, or not ours to undo."""
        return []

    def heal_cuts(self) -> None:  # noqa: B027 - a backend without partitions has none to heal
        """Remove every cut; nothing when there is none."""

    def pause(self, name: str) -> float:
        """Freeze a node (SIGSTOP, or the container frozen); returns time.monotonic() when it was frozen."""
        raise BackendError(f"this backend cannot pause {name}")

    def resume(self, name: str) -> float:
        """Thaw a paused node; returns time.monotonic() when it was thawed."""
        raise BackendError(f"this backend cannot resume {name}")

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
