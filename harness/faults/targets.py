"""Which node a fault's `primary` / `replica` names, resolved the same way for every fault kind when the fault
fires, and the role the log records for it, read from the node itself.

On a Sentinel topology `primary` is the node the Sentinels name and `replica` a running data node other than
it. On a cluster both mean the incident shard's (the shard redis-1 was created in): its current primary, or
one of its running replicas; another shard's primary is never a replica. The choice among replicas is seeded
by the fault, so a seed picks the same node on every run with the same roles."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from harness.backends.base import Backend
from harness.clients.cluster import shard_primary
from harness.clients.primary import current_primary
from harness.clients.probe import reported_role
from harness.core.errors import FaultError
from harness.core.topology import Topology

ROLE_PROBE_TIMEOUT_S = 0.3


@dataclass(frozen=True, slots=True)
class RoleView:
    """The data nodes' roles as observed when a fault fires."""

    primary: str  # the incident shard's primary (a Sentinel topology's one primary)
    primaries: frozenset[str]  # every shard's primary now (Sentinel: just `primary`)
    shard: frozenset[str]  # the incident shard's data nodes (Sentinel: every data node)
    running: frozenset[str]  # data nodes whose process or container runs

    @property
    def replicas(self) -> tuple[str, ...]:
        """The incident shard's running replicas, sorted (the seeded choice picks from this order)."""
        return tuple(sorted(n for n in self.shard & self.running if n not in self.primaries))

    @property
    def all_replicas(self) -> tuple[str, ...]:
        """Every shard's running replicas (a partition's `replicas` group)."""
        return tuple(sorted(n for n in self.running if n not in self.primaries))

    @property
    def other_primaries(self) -> frozenset[str]:
        return self.primaries - {self.primary}


def observe(topology: Topology, backend: Backend) -> RoleView:
    """Ask the Sentinels (or every shard's nodes) who is primary now, and the backend what runs."""
    running = frozenset(n.name for n in topology.data_nodes if backend.is_running(n.name))
    if not topology.cluster:
        primary = current_primary(topology)
        everyone = frozenset(n.name for n in topology.data_nodes)
        return RoleView(primary, frozenset({primary}), everyone, running)
    # Each shard's primary read once; the incident's is among them (current_primary would read it again).
    incident = topology.shard_of(topology.initial_primary)
    assert incident is not None
    by_shard = {shard: shard_primary(topology, shard) for shard in topology.shards}
    return RoleView(by_shard[incident], frozenset(by_shard.values()), frozenset(incident.nodes), running)


def pick(selector: str, view: RoleView, seed: int, what: str = "fault") -> str:
    """The node `primary`, `replica` or a node's name stands for; pure, so it is tested without servers."""
    if selector == "primary":
        return view.primary
    if selector == "replica":
        replicas = view.replicas
        if not replicas:
            scope = f" in {view.primary}'s shard" if view.other_primaries else ""
            raise FaultError(f"{what}: no running replica{scope}")
        return draw_one(replicas, seed)
    return selector


def draw_one(candidates: Sequence[str], seed: int) -> str:
    """The seeded choice among candidates (sorted first, so the same seed draws the same one)."""
    return random.Random(seed).choice(sorted(candidates))


def resolve(selector: str, topology: Topology, backend: Backend, seed: int, what: str = "fault") -> str:
    """A target as it stands now: names need no look-up; `primary` and `replica` observe the roles first."""
    if selector not in ("primary", "replica"):
        return selector
    return pick(selector, observe(topology, backend), seed, what)


def observed_role(topology: Topology, name: str, backend: Backend) -> str:
    """The node's own word on its role (INFO replication), for the log: never inferred from the choice."""
    node = topology.node(name)
    if node.kind == "sentinel":
        return "sentinel"
    if not backend.is_running(name):
        return "down"
    role = reported_role(node, topology.credentials("operator", node), ROLE_PROBE_TIMEOUT_S)
    return role or "unknown"  # running, but not answering
