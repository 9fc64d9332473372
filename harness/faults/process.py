"""Process faults: kill (SIGKILL) or terminate (SIGTERM) the current primary, a replica or a named node;
restart a node."""

from __future__ import annotations

import threading
import time

from harness.backends.base import Backend
from harness.core.errors import FaultError
from harness.core.observation_log import ObservationLog
from harness.core.topology import Topology
from harness.faults.targets import observed_role, resolve
from harness.faults.timeline import ScheduledFault

EXIT_WAIT_S = 60.0  # a terminated node's own shutdown is watched this long


class ProcessFaults:
    def __init__(self, backend: Backend, topology: Topology, log: ObservationLog) -> None:
        self._backend = backend
        self._topology = topology
        self._log = log
        self._last_killed: str | None = None

    def apply(self, fault: ScheduledFault) -> str:
        """Apply the fault; returns the node it acted on."""
        target = self._resolve(fault)
        role = observed_role(self._topology, target, self._backend)
        invoked = self._log.now()
        if fault.spec.action == "kill":
            invoked = self._backend.kill(target) - self._log.start  # the moment the signal went out
            self._last_killed = target
        elif fault.spec.action == "terminate":
            invoked = self._backend.terminate(target) - self._log.start
            self._last_killed = target
            # The engine ends in its own time (7.0+ waits up to shutdown-timeout for its replicas).
            threading.Thread(
                target=self._await_exit,
                args=(fault.index, target, invoked),
                daemon=True,
                name=f"exit-{target}",
            ).start()
        else:
            self._backend.restart(target)
        self._log.fault(
            invoked,
            fault.index,
            fault.spec.action,
            fault.spec.target,
            target,
            role=role,
            incident=fault.spec.incident,
        )
        return target

    def _await_exit(self, index: int, name: str, invoked: float) -> None:
        deadline = time.monotonic() + EXIT_WAIT_S
        while self._backend.is_running(name):
            if time.monotonic() > deadline:
                self._log.fault_end(
                    index, "terminate", node=name, outcome=f"still running after {EXIT_WAIT_S:g}s"
                )
                return
            time.sleep(0.02)
        self._log.fault_end(
            index, "terminate", node=name, outcome=f"exited {self._log.now() - invoked:.3f}s after SIGTERM"
        )

    def _resolve(self, fault: ScheduledFault) -> str:
        target = fault.spec.target
        if target == "last-killed":
            if self._last_killed is None:
                raise FaultError("restart last-killed: no node was killed before it")
            return self._last_killed
        return resolve(target, self._topology, self._backend, fault.choice_seed, fault.spec.action)
