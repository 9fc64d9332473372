"""Network faults: toxics on proxied links, partitions (a disabled link), and heal."""

from __future__ import annotations

from typing import Any

from harness.backends.base import Backend
from harness.backends.links import LinkControl
from harness.clients.probe import replicating_from
from harness.core.errors import FaultError
from harness.core.observation_log import ObservationLog
from harness.core.topology import Link, Topology
from harness.faults.targets import ROLE_PROBE_TIMEOUT_S, draw_one, resolve
from harness.faults.timeline import ScheduledFault
from harness.scenario.plan import link_name


class NetworkFaults:
    def __init__(self, backend: Backend, topology: Topology, log: ObservationLog) -> None:
        if topology.proxy_api is None:
            raise FaultError("network faults need an environment with proxied links (proxy: in its file)")
        self._backend = backend
        self._topology = topology
        self._log = log
        self._links = LinkControl(topology.proxy_api)
        self._api = "{}:{}".format(*topology.proxy_api)
        self._touched = ""  # the link the fault just applied acted on ("all": every link)
        self._undos: list[tuple[str, dict[str, Any]]] = []  # what undoes it through the proxy's API

    def take_undos(self) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
        """The link the fault just applied acted on, and what undoes it (the watchdog's part), once."""
        touched, undos = self._touched, self._undos
        self._touched, self._undos = "", []
        return touched, undos

    def apply(self, fault: ScheduledFault) -> str | None:
        """Apply the fault; returns the node whose link it acted on (None for heal all)."""
        spec = fault.spec
        invoked = self._log.now()
        if spec.action == "heal" and spec.target == "all":
            self._backend.heal_cuts()  # per-peer partitions too
            for node in self._backend.disconnected():
                self._backend.reconnect(node)
            self._links.heal(None)
            self._touched = "all"
            self._log.fault(invoked, fault.index, "heal", "all", None, link="all")
            return None
        name = self.resolve(spec.target, fault.choice_seed)
        link = self._topology.link(name)
        mechanism = "proxy"
        self._touched = name
        invoked = self._log.now()
        if spec.action == "heal":
            self._backend.reconnect(link.node)
            self._links.heal(name)
            toxics: list[str] = []
        elif spec.network is not None and spec.network.effect == "partition" and link.kind == "clients":
            # A backend with real networks (Docker) cuts the node off for real; else the proxy drops the link.
            toxics = []
            if self._backend.disconnect(link.node):
                mechanism = "network disconnect"
                self._undos = self._backend.undo_for("disconnect", link.node)
            else:
                self._links.apply(name, spec.network)
                self._undos = [("proxy-enable", {"api": self._api, "link": name})]
        else:
            assert spec.network is not None
            toxics = self._links.apply(name, spec.network)
            if spec.network.effect == "partition":
                self._undos = [("proxy-enable", {"api": self._api, "link": name})]
            self._undos += [
                ("proxy-toxic-delete", {"api": self._api, "link": name, "toxic": t}) for t in toxics
            ]
        effect = spec.network.effect if spec.network else "heal"
        self._log.fault(
            invoked,
            fault.index,
            spec.action,
            spec.target,
            link.node,
            link=name,
            replica=link.replica or None,
            effect=effect,
            toxics=toxics,
            mechanism=mechanism,
            incident=spec.incident,
        )
        return link.replica or link.node  # a replication link's incident is its replica

    def heal_all(self) -> None:
        """Every toxic off and every link back (a rollback: no fault record, the rollback logs itself)."""
        for node in self._backend.disconnected():
            self._backend.reconnect(node)
        self._links.heal(None)

    def resolve(self, selector: str, seed: int) -> str:
        """The proxy link a selector names, choosing "primary"/"replica" from the topology as it is now."""
        kind, _, which = selector.partition(":")
        if kind == "replication":
            return self._replication_link(which, seed, selector)
        return link_name(resolve(kind, self._topology, self._backend, seed, f"network {selector}"))

    def _replication_link(self, which: str, seed: int, selector: str) -> str:
        """A replica's replication link that carries its stream now. Links lead to the first primary: after
        a failover Sentinel points replicas at the new primary's own address, and their links carry
        nothing, so a fault on one would act on nothing (refused, saying why)."""
        streaming = [
            link
            for link in self._topology.links
            if link.kind == "replication" and (which == "replica" or link.replica == which)
            if self._streams_through(link)
        ]
        if not streaming:
            whose = "no replica" if which == "replica" else which
            raise FaultError(
                f"network {selector}: {whose} streams through its proxied replication link now (the links "
                f"lead to {self._topology.initial_primary}; after a failover replicas follow the new primary "
                "directly)"
            )
        return draw_one([link.name for link in streaming], seed)

    def _streams_through(self, link: Link) -> bool:
        node = self._topology.node(link.replica)
        source = replicating_from(node, self._topology.credentials("operator", node), ROLE_PROBE_TIMEOUT_S)
        return source == (link.host, link.port)
