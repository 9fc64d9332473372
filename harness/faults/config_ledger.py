"""Every CONFIG SET the drill makes on a node (a fault's, a remediation's, a rollback's), each logged as a
`config` record with the value before it, and put back at the end of the run: the first value the drill
found for each parameter is the one the node is left with, on a deployment of the team's as on the
harness's own."""

from __future__ import annotations

import threading

import redis

from harness.clients.probe import probe_client
from harness.core.log_records import ConfigRecord
from harness.core.observation_log import ObservationLog
from harness.core.topology import Node, Topology


class ConfigLedger:
    def __init__(self, topology: Topology, log: ObservationLog) -> None:
        self._topology = topology
        self._log = log
        self._found: dict[tuple[str, str], str] = {}  # (node, parameter) -> its value before the drill's
        self._lock = threading.Lock()  # faults and the responder's remediations write from their threads

    def changed(self, node: Node, parameter: str, before: str, value: str, by: str) -> None:
        """A CONFIG SET was made: log it, and remember the value the drill found first."""
        with self._lock:
            self._found.setdefault((node.name, parameter), before)
        self._log.write(
            ConfigRecord(
                t=self._log.now(), kind="config", node=node.name, parameter=parameter, before=before,
                value=value, by=by,
            )
        )  # fmt: skip

    def restore_all(self) -> None:
        """The end of the run: every parameter the drill changed put back to the value it found, where it
        differs now (each a `config` record by "the end of the run", or the reason it could not be)."""
        with self._lock:
            found = dict(self._found)
        for (name, parameter), original in sorted(found.items()):
            node = self._topology.node(name)
            try:
                with probe_client(node, 2.0, self._topology.credentials("operator", node)) as client:
                    now = str(client.config_get(parameter).get(parameter, ""))
                    if now != original:
                        client.config_set(parameter, original)
                        self.changed(node, parameter, now, original, "the end of the run")
            except redis.RedisError as exc:
                self._log.write(
                    ConfigRecord(
                        t=self._log.now(), kind="config", node=name, parameter=parameter, before="",
                        value="", by=f"the end of the run could not restore it: {exc}"[:300],
                    )
                )  # fmt: skip
