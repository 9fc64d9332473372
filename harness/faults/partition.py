"""Per-peer partitions: packets dropped between two groups of the topology (the backend cuts them with
nftables), and their heal. Groups are resolved when the fault fires (harness/faults/targets.py): `primary`
is whoever is primary then (on a cluster: the incident shard's), `replica` one of its running replicas,
`primaries` the other shards' primaries, `replicas` every shard's running replicas."""

from __future__ import annotations

from harness.backends.base import Backend
from harness.core.errors import FaultError
from harness.core.observation_log import ObservationLog
from harness.core.topology import CLIENTS, Topology
from harness.faults.targets import RoleView, observe, observed_role, pick
from harness.faults.timeline import ScheduledFault


class PartitionFaults:
    def __init__(self, backend: Backend, topology: Topology, log: ObservationLog) -> None:
        self._backend = backend
        self._topology = topology
        self._log = log

    def apply(self, fault: ScheduledFault) -> str | None:
        """Cut the partition; returns the incident's node: the first data node of the `between` group."""
        spec = fault.spec.partition
        assert spec is not None
        view = observe(self._topology, self._backend)
        between = self._resolve(spec.between, view, fault.choice_seed)
        others = self._resolve(spec.others, view, fault.choice_seed) - between
        if not between or not others:
            raise FaultError(
                f"partition {spec.label}: a side is empty ({sorted(between)} | {sorted(others)})"
            )
        data = sorted(n for n in between if n != CLIENTS and self._topology.node(n).kind == "redis")
        node = data[0] if data else None
        role = observed_role(self._topology, node, self._backend) if node else None  # before the cut hides it
        invoked = self._log.now()
        if spec.one_way:
            mechanism = self._backend.cut(between, others)
        else:
            mechanism = self._backend.cut_both(between, others)
        # Cut by the deployment's own commands (over SSH, say): the incident begins when the cut is whole,
        # not when the first command set out; the mechanism says how long they took.
        invoked = max(invoked, self._backend.cut_landed() or invoked)
        self._log.fault(
            invoked,
            fault.index,
            "partition",
            fault.spec.target,
            node,
            role=role,
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

    def _resolve(self, groups: tuple[str, ...], view: RoleView, seed: int) -> frozenset[str]:
        out: set[str] = set()
        for group in groups:
            if group in ("primary", "replica"):
                out.add(pick(group, view, seed, "partition"))
            elif group == "primaries":
                out.update(view.other_primaries)
            elif group == "replicas":
                out.update(view.all_replicas)
            elif group == "sentinels":
                out.update(n.name for n in self._topology.sentinels)
            else:
                out.add(group)  # clients, or a node's name
        return frozenset(out)
