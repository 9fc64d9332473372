"""The drill's proxy: started as its own process, its links created and changed through toxiproxy-python."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import requests
from toxiproxy import Toxiproxy
from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists
from toxiproxy.proxy import Proxy

from harness.backends.reaper import register_pid
from harness.core.errors import BackendError, FaultError
from harness.core.run_context import RunContext
from harness.core.topology import Link, Node, Topology
from harness.scenario.model import NetworkSpec
from harness.scenario.plan import Plan

HOST = "127.0.0.1"


def start_proxy(
    run: RunContext, log: Path, seed: int, allow_upstream: str | None = None
) -> tuple[subprocess.Popen[str], int]:
    """`python -m harness.proxy` on a free port, tagged with the run; returns it and its API port.

    allow_upstream: a network (CIDR) it may forward into besides loopback: the run's own Docker network."""
    extra = ["--allow-upstream", allow_upstream] if allow_upstream else []
    process = subprocess.Popen(
        [sys.executable, "-m", "harness.proxy", "--listen", f"{HOST}:0", "--seed", str(seed), *extra],
        stdout=subprocess.PIPE,
        stderr=log.open("ab"),
        text=True,
        env=run.process_env(),
        start_new_session=True,
    )
    register_pid(run.work_dir, "proxy", process.pid)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("listening on "):
        process.kill()
        raise BackendError(f"the proxy did not start ({line.strip() or 'no output'}); see {log}")
    return process, int(line.rsplit(":", 1)[1])


class LinkControl:
    """Creates the topology's links and applies network faults to them, through the Toxiproxy API."""

    def __init__(self, api: tuple[str, int]) -> None:
        self._server = Toxiproxy()
        # toxiproxy-python keeps the API address in class attributes: one proxy per drill process.
        self._server.update_api_consumer(api[0], api[1])
        self._api = api

    def create(self, links: tuple[Link, ...], topology: Topology) -> None:
        try:
            self._server.populate(
                [
                    {
                        "name": link.name,
                        "listen": f"{link.host}:{link.port}",
                        "upstream": "{}:{}".format(*_upstream(link, topology)),
                    }
                    for link in links
                ]
            )
        except (requests.RequestException, ProxyExists, NotFound, InvalidToxic) as exc:
            raise BackendError(f"cannot create the proxy's links: {exc}") from None

    def apply(self, link: str, spec: NetworkSpec) -> list[str]:
        """Apply one network effect; returns the names of the toxics added (none for a partition)."""
        with self._answering(f"{spec.effect} on {link}"):
            proxy = self._proxy(link)
            if spec.effect == "partition":
                proxy.disable()
                return []
            if spec.effect in _REDIS_TOXICS:
                name = f"drill_{spec.effect}"
                try:
                    proxy.add_toxic(
                        name=name,
                        type=_REDIS_TOXICS[spec.effect],
                        stream="upstream",
                        toxicity=spec.rate,
                        attributes=_redis_attributes(spec),
                    )
                except InvalidToxic:
                    raise FaultError(
                        f"{spec.effect} on {link}: the Toxiproxy server at {self._api[0]}:{self._api[1]} "
                        f"refused the toxic type {_REDIS_TOXICS[spec.effect]}. Redis-aware effects need the "
                        "drill's own proxy (Toxiproxy has none): run without proxy.server / --toxiproxy, or "
                        "point them at `drill proxy`"
                    ) from None
                return [name]
            streams = ("upstream", "downstream") if spec.stream == "both" else (spec.stream,)
            names = []
            for stream in streams:
                name = f"drill_{spec.effect}_{stream}"
                attributes = _attributes(spec, stream if spec.stream == "both" else None)
                proxy.add_toxic(
                    name=name, type=_TOXIC_TYPES[spec.effect], stream=stream, attributes=attributes
                )
                names.append(name)
            return names

    def heal(self, link: str | None) -> None:
        """Remove every toxic and enable the link (or every link, for None)."""
        with self._answering(f"heal {link or 'all'}"):
            if link is None:
                self._server.reset()
                return
            proxy = self._proxy(link)
            for name in proxy.toxics():
                proxy.destroy_toxic(name)
            proxy.enable()

    @contextlib.contextmanager
    def _answering(self, what: str) -> Iterator[None]:
        """Turn a proxy that stopped answering into a FaultError that says so."""
        try:
            yield
        except (requests.RequestException, ProxyExists, NotFound, InvalidToxic) as exc:
            raise FaultError(
                f"{what}: the proxy API at {self._api[0]}:{self._api[1]} failed "
                f"({type(exc).__name__}). Hint: is the proxy still running? See logs/proxy.log "
                "in the run directory"
            ) from None

    def remove(self, names: tuple[str, ...]) -> None:
        """Delete links from a server the run does not own; links or a server already gone are fine."""
        with contextlib.suppress(requests.RequestException, NotFound):
            for name in names:
                proxy = self._server.get_proxy(name)
                if proxy is not None:
                    proxy.destroy()

    def _proxy(self, link: str) -> Proxy:
        proxy = self._server.get_proxy(link)
        if proxy is None:
            raise FaultError(f"the proxy has no link named {link}")
        return proxy


_TOXIC_TYPES = {
    "latency": "latency",
    "bandwidth": "bandwidth",
    "timeout": "timeout",
    "reset": "reset_peer",
    "packet-loss": "packet_loss",
}
_REDIS_TOXICS = {"redis-error": "redis_error", "redis-delay": "redis_delay", "redis-drop": "redis_drop"}


def _redis_attributes(spec: NetworkSpec) -> dict[str, int | str]:
    """The embedded proxy's Redis-aware toxic attributes (harness/proxy/toxics.py)."""
    attributes: dict[str, int | str] = {"commands": ",".join(spec.commands), "key_pattern": spec.key_pattern}
    if spec.effect == "redis-delay":
        attributes["latency"] = round(spec.latency * 1000)
    else:
        attributes["first"] = spec.first
    if spec.effect == "redis-error":
        attributes["error"] = spec.error
    return attributes


def _attributes(spec: NetworkSpec, split_for: str | None) -> dict[str, int | float]:
    if spec.effect == "packet-loss":
        rto = round(spec.timeout * 1000)
        return {"loss_rate": spec.loss_rate, "correlation": spec.correlation, "rto": rto}
    if spec.effect == "latency":
        latency, jitter = round(spec.latency * 1000), round(spec.jitter * 1000)
        if split_for is not None:
            # A round trip crosses both streams: split the whole milliseconds (toxics take integers) so both
            # add up to `latency`, the odd one downstream: 1 ms is 0 + 1, 50 ms is 25 + 25.
            latency, jitter = _half(latency, split_for), _half(jitter, split_for)
        return {"latency": latency, "jitter": jitter}
    if spec.effect == "bandwidth":
        return {"rate": spec.rate_kbs}
    return {"timeout": round(spec.timeout * 1000)}


def _half(milliseconds: int, stream: str) -> int:
    return milliseconds // 2 + (milliseconds % 2 if stream == "downstream" else 0)


def _upstream(link: Link, topology: Topology) -> tuple[str, int]:
    node = topology.node(link.node)
    return node.host, node.port


def placed_links(layout: Plan, nodes: list[Node], new_port: Callable[[], int], host: str) -> tuple[Link, ...]:
    """The plan's proxied links where the proxy listens for them (on `host`): a clients link at its node's
    client port, a replication link at a port of its own."""
    client_ports = {n.name: n.client_port for n in nodes}
    return tuple(
        Link(
            link.name,
            link.kind,
            link.node,
            link.replica,
            client_ports[link.node] if link.kind == "clients" else new_port(),
            host,
        )
        for link in layout.links
    )
