"""Applies a scheduled fault with the module that owns its kind, and remembers the incident's node."""

from __future__ import annotations

import threading

from harness.backends.base import Backend
from harness.core.observation_log import ObservationLog
from harness.core.topology import Topology
from harness.faults.network import NetworkFaults
from harness.faults.partition import PartitionFaults
from harness.faults.pause import PauseFaults
from harness.faults.process import ProcessFaults
from harness.faults.server import ServerFaults
from harness.faults.surge import Surge, SurgeFaults
from harness.faults.timeline import ScheduledFault


class FaultInjector:
    def __init__(
        self,
        backend: Backend,
        topology: Topology,
        log: ObservationLog,
        key_prefix: str,
        incident_index: int,
        surge: Surge | None = None,
    ) -> None:
        """surge: how a surge fault grows the load (LoadRunner.surge)."""
        self._process = ProcessFaults(backend, topology, log)
        self._surge = SurgeFaults(surge, log)
        self._network = NetworkFaults(backend, topology, log) if topology.proxy_api else None
        self.server = ServerFaults(backend, topology, log, key_prefix)
        self._partitions = PartitionFaults(backend, topology, log)
        self._pauses = PauseFaults(backend, topology, log)
        self._incident_index = incident_index
        self.incident_node: str | None = None  # set once the incident fault has been applied

    def apply(self, fault: ScheduledFault) -> None:
        spec = fault.spec
        heals_cuts_only = spec.target == "partition" or (spec.target == "all" and self._network is None)
        if spec.partition is not None:
            node: str | None = self._partitions.apply(fault)
        elif spec.pause is not None:
            node = self._pauses.apply(fault)
        elif spec.action == "heal" and heals_cuts_only:
            self._partitions.heal(fault)
            node = None
        elif spec.server is not None:
            node = self.server.apply(fault)
        elif fault.spec.surge is not None:
            node = self._surge.apply(fault)
        elif fault.spec.action in ("kill", "terminate", "restart"):
            node = self._process.apply(fault)
        elif self._network is None:  # validation refuses such scenarios; this guards programmatic use
            raise RuntimeError("network fault in an environment without proxied links")
        else:
            node = self._network.apply(fault)
        if fault.index == self._incident_index:
            self.incident_node = node

    def await_incident(self, stop: threading.Event, tick: float) -> str | None:
        """The incident's node, once its fault has been applied; None when the drill ends first."""
        while self.incident_node is None:
            if stop.wait(tick):
                return None
        return self.incident_node

    def stop(self) -> None:
        """End faults that keep acting by themselves (a KEYS loop, held connections, a frozen node)."""
        self.server.stop()
        self._pauses.stop()
