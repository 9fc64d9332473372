"""Applies a scheduled fault with the module that owns its kind."""

from __future__ import annotations

from harness.backends.base import Backend, Topology
from harness.faults.network import NetworkFaults
from harness.faults.process import ProcessFaults
from harness.faults.timeline import ScheduledFault
from harness.observe.log import ObservationLog


class FaultInjector:
    def __init__(self, backend: Backend, topology: Topology, log: ObservationLog) -> None:
        self._process = ProcessFaults(backend, topology, log)
        self._network = NetworkFaults(backend, topology, log) if topology.proxy_api else None

    def apply(self, fault: ScheduledFault) -> None:
        if fault.spec.action in ("kill", "restart"):
            self._process.apply(fault)
            return
        if self._network is None:  # validation refuses such scenarios; this guards programmatic use
            raise RuntimeError("network fault in an environment without proxied links")
        self._network.apply(fault)
