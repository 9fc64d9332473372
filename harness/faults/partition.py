"""Per-peer partitions: packets dropped between two groups of the topology (the backend cuts them with
nftables), and their heal. Groups are resolved when the fault fires: `primary` is whoever is primary then
(on a cluster: serves the first shard's slots), `primaries` the other shards' primaries, `replicas` the
running data nodes that are neither."""

from __future__ import annotations

import random

from harness.backends.base import Backend
from harness.clients.cluster import shard_primary
from harness.clients.primary import current_primary
from harness.errors import FaultError
from harness.faults.timeline import ScheduledFault
from harness.observation_log import ObservationLog
from harness.topology import CLIENTS, Topology


class PartitionFaults:
    def __init__(self, backend: Backend, topology: Topology, log: ObservationLog) -> None:
        self._backend = backend
        self._topology = topology
        self._log = log

    def apply(self, fault: ScheduledFault) -> str | None:
        """Cut the partition; returns the incident's node: the first data node of the `between` group."""
        spec = fault.spec.partition
        assert spec is not None
        primary = current_primary(self._topology)
        between = self._resolve(spec.between, primary, fault.choice_seed)
        others = self._resolve(spec.others, primary, fault.choice_seed) - between
        if not between or not others:
            raise FaultError(
                f"partition {spec.label}: a side is empty ({sorted(between)} | {sorted(others)})"
            )
        invoked = self._log.now()
        mechanism = self._backend.cut(between, others)
        if not spec.one_way:
            self._backend.cut(others, between)
        data = sorted(n for n in between if n != CLIENTS and self._topology.node(n).kind == "redis")
        node = data[0] if data else None
        self._log.fault(
            invoked,
            fault.index,
            "partition",
            fault.spec.target,
            node,
            role="primary" if node == primary else None,
            groups={"between": sorted(between), "and": sorted(others)},
            one_way=spec.one_way,
            mechanism=mechanism,
            incident=fault.spec.incident,
        )
        return node

    def heal(self, fault: ScheduledFault) -> None:
        invoked = self._log.now()
        self._backend.heal_cuts()
        self._log.fault(invoked, fault.index, "heal", fault.spec.target, None, link="partition")

    def _resolve(self, groups: tuple[str, ...], primary: str, seed: int) -> frozenset[str]:
        primaries = self._other_primaries(primary)
        replicas = [n for n in running_replicas(self._topology, self._backend, primary) if n not in primaries]
        out: set[str] = set()
        for group in groups:
            if group == "primary":
                out.add(primary)
            elif group == "primaries":
                out.update(primaries)
            elif group == "replicas":
                out.update(replicas)
            elif group == "replica":
                if not replicas:
                    raise FaultError("no running replica to partition")
                out.add(random.Random(seed).choice(replicas))
            elif group == "sentinels":
                out.update(n.name for n in self._topology.sentinels)
            else:
                out.add(group)  # clients, or a node's name
        return frozenset(out)

    def _other_primaries(self, primary: str) -> frozenset[str]:
        """A cluster's other shards' primaries now (a Sentinel topology has no other)."""
        topology = self._topology
        return frozenset(shard_primary(topology, s) for s in topology.shards) - {primary}


def running_replicas(topology: Topology, backend: Backend, primary: str) -> list[str]:
    return sorted(n.name for n in topology.data_nodes if n.name != primary and backend.is_running(n.name))
