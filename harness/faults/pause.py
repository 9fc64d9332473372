"""pause: a node frozen for a while (SIGSTOP/SIGCONT, or the container frozen and thawed), like a long fork,
a VM stall or a stop-the-world pause. Longer than down-after, Sentinel fails over and the node wakes up
still believing it is the primary."""

from __future__ import annotations

import threading
from collections.abc import Callable

from harness.backends.base import Backend
from harness.core.errors import BackendError
from harness.core.observation_log import ObservationLog
from harness.core.topology import Topology
from harness.faults.targets import observed_role, resolve
from harness.faults.timeline import ScheduledFault


class PauseFaults:
    def __init__(
        self,
        backend: Backend,
        topology: Topology,
        log: ObservationLog,
        ended: Callable[[int], None] = lambda index: None,
    ) -> None:
        """ended: told each pause the harness thawed itself (the watchdog need not)."""
        self._backend = backend
        self._topology = topology
        self._log = log
        self._ended = ended
        self._timers: list[tuple[threading.Timer, int, str]] = []

    def apply(self, fault: ScheduledFault) -> str:
        spec = fault.spec.pause
        assert spec is not None
        target = fault.spec.target
        name = resolve(target, self._topology, self._backend, fault.choice_seed, "pause")
        role = observed_role(self._topology, name, self._backend)
        invoked = self._backend.pause(name) - self._log.start
        self._log.fault(
            invoked,
            fault.index,
            "pause",
            target,
            name,
            role=role,
            seconds=spec.seconds,
            incident=fault.spec.incident,
        )
        timer = threading.Timer(spec.seconds, self._resume, args=(fault.index, name))
        timer.daemon = True
        timer.start()
        self._timers.append((timer, fault.index, name))
        return name

    def _resume(self, index: int, name: str) -> None:
        try:
            resumed = self._backend.resume(name) - self._log.start
        except BackendError as exc:  # the node is gone (killed by a later fault): nothing to thaw
            outcome = f"not resumed: {exc}"
            self._log.fault_end(index, "pause", node=name, outcome=outcome)
            return
        self._log.fault_end(index, "pause", t=resumed, node=name, outcome="resumed")
        self._log.flush()
        self._ended(index)

    def stop(self) -> None:
        """Thaw what is still frozen: the drill is over."""
        for timer, index, name in self._timers:
            if timer.is_alive():
                timer.cancel()
                self._resume(index, name)
        self._timers.clear()
