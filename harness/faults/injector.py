"""Applies a scheduled fault with the module that owns its kind, and remembers the incident's node."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import redis

from harness.backends.base import Backend
from harness.backends.watchdog import DeadMansSwitch
from harness.core.errors import BackendError, FaultError
from harness.core.observation_log import ObservationLog
from harness.core.topology import Node, Topology
from harness.faults.network import NetworkFaults
from harness.faults.partition import PartitionFaults
from harness.faults.pause import PauseFaults
from harness.faults.process import ProcessFaults
from harness.faults.server import ServerFaults
from harness.faults.surge import Surge, SurgeFaults
from harness.faults.timeline import ScheduledFault

# Server faults that keep acting from the harness's side (a loop, held connections, a waiting call).
SERVER_LOOPS = ("slow-command", "client-flood", "oom", "debug-sleep")


@dataclass(frozen=True, slots=True)
class Undone:
    """One step of a rollback: a fault still acting, ended."""

    index: int
    action: str
    node: str | None
    done: str  # what was done: "partitions healed", "redis-1 started again", ...
    seconds: float
    error: str = ""  # it could not be undone, and why


class FaultInjector:
    def __init__(
        self,
        backend: Backend,
        topology: Topology,
        log: ObservationLog,
        key_prefix: str,
        incident_index: int,
        surge: Surge | None = None,
        switch: DeadMansSwitch | None = None,
        planned_end: float = 0.0,
    ) -> None:
        """surge: how a surge fault grows the load (LoadRunner.surge); switch: the run's dead man's switch,
        armed with what undoes each cut or frozen node by its `max:` (default: `planned_end`, wall clock)."""
        self._process = ProcessFaults(backend, topology, log)
        self._surge = SurgeFaults(surge, log)
        self._network = NetworkFaults(backend, topology, log) if topology.proxy_api else None
        self.server = ServerFaults(backend, topology, log, key_prefix, self._arm_config)
        self._partitions = PartitionFaults(backend, topology, log)
        self._switch = switch
        self._planned_end = planned_end
        self._armed_cuts: list[int] = []
        self._faults: dict[int, ScheduledFault] = {}  # applied or being applied, by index
        self._armed_links: list[tuple[str, int]] = []  # (proxy link, fault index) with toxics or disabled
        self._pauses = PauseFaults(backend, topology, log, self._disarm)
        self._incident_index = incident_index
        self.incident_node: str | None = None  # set once the incident fault has been applied
        self._backend = backend
        self._topology = topology
        self._applied: list[tuple[int, str, str | None]] = []  # (index, action, node), in order

    def apply(self, fault: ScheduledFault) -> None:
        spec = fault.spec
        self._faults[fault.index] = fault
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
        action = spec.kind
        self._applied.append((fault.index, action, node))
        if spec.action == "heal" and spec.target in ("partition", "all"):
            for index in self._armed_cuts:  # healed by the harness: nothing left for the watchdog
                self._disarm(index)
            self._armed_cuts.clear()
        self._arm(fault, action, node)

    def _arm(self, fault: ScheduledFault, action: str, node: str | None) -> None:
        """Hand the watchdog what undoes this fault, by its max: (or the drill's planned end)."""
        link, undos = self._network.take_undos() if self._network is not None else ("", [])
        if not link:  # not a fault on a proxied link: the backend knows what undoes it
            undos = self._backend.undo_for(action, node)
        elif fault.spec.action == "heal":  # healed by the harness: nothing left of those links
            for armed in [a for a in self._armed_links if link in ("all", a[0])]:
                self._disarm(armed[1])
                self._armed_links.remove(armed)
        elif undos:
            self._armed_links.append((link, fault.index))
        if self._switch is None or not undos:
            return
        self._switch.arm(fault.index, action, undos, self._deadline(fault.spec.max))
        if action == "partition":
            self._armed_cuts.append(fault.index)

    def _deadline(self, longest: float | None) -> float:
        """When the watchdog ends a fault whatever the harness does: its max:, else the planned end."""
        return time.time() + longest if longest is not None else self._planned_end

    def _arm_config(self, index: int, node: Node, parameter: str, value: str) -> None:
        """Before a fault's CONFIG SET: the watchdog puts `value` back if the harness dies or max runs out."""
        if self._switch is not None:
            config = {"node": node.name, "host": node.host, "port": node.port, "parameter": parameter}
            spec = self._faults[index].spec
            undo = ("config-set", {**config, "value": value})
            self._switch.arm(index, spec.kind, [undo], self._deadline(spec.max))

    def _disarm(self, index: int) -> None:
        if self._switch is not None:
            self._switch.disarm(index)

    def rollback(self) -> Iterator[Undone]:
        """End every fault still acting, the newest first (a stop condition tripped): partitions healed,
        frozen nodes thawed, toxics removed, loops and floods ended, CONFIG put back, killed nodes started.
        Each step is handed out as it is done, so its record carries its own time."""
        seen: set[str] = set()
        for index, action, node in reversed(self._applied):
            started = time.monotonic()
            try:
                done = self._undo(action, node, seen)
            except (BackendError, FaultError, redis.RedisError, OSError) as exc:
                yield Undone(index, action, node, "", time.monotonic() - started, str(exc)[:300])
                continue
            if done:
                yield Undone(index, action, node, done, time.monotonic() - started)

    def _undo(self, action: str, node: str | None, seen: set[str]) -> str:
        """What still acts of one applied fault, ended ("" when nothing does); `seen`: what is ended for
        every fault at once (all partitions, all toxics), done once."""
        if action == "partition" and "partition" not in seen:
            seen.add("partition")
            self._backend.heal_cuts()
            return "partitions healed"
        if action == "network" and self._network is not None and "network" not in seen:
            seen.add("network")
            self._network.heal_all()
            return "toxics removed, links back"
        if action == "pause" and "pause" not in seen:
            seen.add("pause")
            self._pauses.stop()
            return "frozen nodes thawed"
        if action in ("kill", "terminate") and node is not None and not self._backend.is_running(node):
            self._backend.restart(node)
            return f"{node} started again"
        if action == "misconf" and node is not None:
            original = self.server.restore_dir(node)
            return f"{node}'s dir back to {original}" if original else ""
        if action == "long-script" and node is not None:
            return f"{node}'s script killed" if self.server.kill_script(node) else ""
        if action in SERVER_LOOPS and "server" not in seen:
            seen.add("server")
            self.server.stop()
            return "loops and held connections ended"
        return ""

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
