"""The proxy's state and operations: proxies, their listeners, connections and toxics. One event loop."""

from __future__ import annotations

import asyncio
import ipaddress
import random
import sys
from dataclasses import dataclass, field
from typing import Any

from harness.core.loopback import is_loopback
from harness.proxy.errors import ApiError
from harness.proxy.link import Connection, Side
from harness.proxy.resp_rewrite import RESP_TOXICS
from harness.proxy.toxics import Toxic, parse_toxic, updated

UPSTREAM_CONNECT_TIMEOUT_S = 2.0


def split_address(address: Any, what: str) -> tuple[str, int]:
    if not isinstance(address, str) or ":" not in address:
        raise ApiError(400, f"{what} must be host:port, got {address!r}")
    host, _, port = address.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ApiError(400, f"{what} must be host:port, got {address!r}")
    return host, int(port)


def _own_source(client: Side) -> tuple[str, int] | None:
    """Upstream, a peer on a loopback address of its own keeps it: the node behind the proxy sees (and a
    partition's address rules cut) the replica or Sentinel itself, not the proxy. Elsewhere the kernel
    picks the source, as a plain proxy's would."""
    peer = client.transport.get_extra_info("peername") if client.transport is not None else None
    host = str(peer[0]) if peer else ""
    return (host, 0) if is_loopback(host) and host != "127.0.0.1" else None


@dataclass
class Proxy:
    name: str
    listen: str
    upstream: str
    enabled: bool
    toxics: dict[str, Toxic] = field(default_factory=dict)
    server: asyncio.Server | None = None
    connections: set[Connection] = field(default_factory=set)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    generation: int = 0  # bumped whenever the proxy goes down, so connections accepted before are dropped
    resp: tuple[Toxic, ...] = ()  # the Redis-aware toxics, kept apart: every chunk asks for them

    def to_json(self, with_toxics: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "listen": self.listen,
            "upstream": self.upstream,
            "enabled": self.enabled,
        }
        if with_toxics:
            data["toxics"] = [t.to_json() for t in self.toxics.values()]
        return data

    def toxics_of(self, stream: str) -> tuple[Toxic, ...]:
        return tuple(t for t in self.toxics.values() if t.stream == stream)

    def notify(self) -> None:
        """Wake every connection waiting on a toxic change."""
        self.resp = tuple(t for t in self.toxics.values() if t.type in RESP_TOXICS)
        old, self.changed = self.changed, asyncio.Event()
        old.set()
        for connection in self.connections:
            connection.retune()  # before any further chunk: a new toxic acts on the very next one


class ProxyServer:
    def __init__(
        self,
        allow_any_upstream: bool = False,
        seed: int | None = None,
        allowed_networks: tuple[ipaddress.IPv4Network, ...] = (),
    ) -> None:
        self._proxies: dict[str, Proxy] = {}
        self._allow_any_upstream = allow_any_upstream
        self._allowed_networks = allowed_networks  # besides loopback: e.g. a drill's own Docker network
        self._rng = random.Random(seed)
        self._accepting: set[asyncio.Task[None]] = set()  # accept tasks, kept referenced while they run

    # --- proxies ------------------------------------------------------------------------------------------

    def all(self) -> dict[str, Any]:
        return {name: p.to_json() for name, p in self._proxies.items()}

    def get(self, name: str) -> Proxy:
        proxy = self._proxies.get(name)
        if proxy is None:
            raise ApiError(404, "proxy not found")
        return proxy

    async def create(self, body: Any) -> Proxy:
        if not isinstance(body, dict):
            raise ApiError(400, "bad request body")
        name, upstream = body.get("name"), body.get("upstream")
        if not name or not upstream:  # Toxiproxy 2.12 names the field
            raise ApiError(400, f"missing required field: {'name' if not name else 'upstream'}")
        if not isinstance(name, str):
            raise ApiError(400, "bad request body")
        if name in self._proxies:
            raise ApiError(409, "proxy already exists")
        self._check_upstream(upstream)
        listen = body.get("listen") or "127.0.0.1:0"
        split_address(listen, "listen")
        enabled = body.get("enabled", True)
        proxy = Proxy(name, listen, upstream, bool(enabled))
        if proxy.enabled:
            await self._listen(proxy)
        self._proxies[name] = proxy
        return proxy

    async def update(self, name: str, body: Any) -> Proxy:
        proxy = self.get(name)
        if not isinstance(body, dict):
            raise ApiError(400, "bad request body")
        if "upstream" in body and body["upstream"] != proxy.upstream:
            self._check_upstream(body["upstream"])
        restart = any(k in body and body[k] != getattr(proxy, k) for k in ("listen", "upstream"))
        if restart or ("enabled" in body and not body["enabled"]):
            await self._stop(proxy)
        proxy.listen = body.get("listen", proxy.listen)
        proxy.upstream = body.get("upstream", proxy.upstream)
        proxy.enabled = bool(body.get("enabled", proxy.enabled))
        if proxy.enabled and proxy.server is None:
            await self._listen(proxy)
        return proxy

    async def delete(self, name: str) -> None:
        proxy = self.get(name)
        await self._stop(proxy)
        del self._proxies[name]

    async def reset(self) -> None:
        """Enable every proxy and remove every toxic."""
        for proxy in self._proxies.values():
            proxy.toxics.clear()
            proxy.notify()
            if not proxy.enabled:
                proxy.enabled = True
                await self._listen(proxy)

    async def populate(self, body: Any) -> list[Proxy]:
        if not isinstance(body, list):
            raise ApiError(400, "bad request body")
        for number, item in enumerate(body, 1):  # every entry checked before any proxy is made
            if not isinstance(item, dict):
                raise ApiError(400, "bad request body")
            for field_name in ("name", "upstream"):
                if not item.get(field_name):
                    raise ApiError(400, f"missing required field: {field_name} at proxy {number}")
        out = []
        for item in body:
            existing = self._proxies.get(item.get("name", ""))
            if existing is not None and (
                existing.upstream != item.get("upstream")
                or existing.listen != item.get("listen", existing.listen)
            ):
                await self.delete(existing.name)
                existing = None
            out.append(existing if existing is not None else await self.create(item))
        return out

    async def close(self) -> None:
        for proxy in list(self._proxies.values()):
            await self._stop(proxy)

    # --- toxics -------------------------------------------------------------------------------------------

    def add_toxic(self, name: str, body: Any) -> Toxic:
        proxy = self.get(name)
        toxic = parse_toxic(body)
        if toxic.name in proxy.toxics:
            raise ApiError(409, "toxic already exists")
        proxy.toxics[toxic.name] = toxic
        proxy.notify()
        return toxic

    def get_toxic(self, name: str, toxic: str) -> Toxic:
        found = self.get(name).toxics.get(toxic)
        if found is None:
            raise ApiError(404, "toxic not found")
        return found

    def update_toxic(self, name: str, toxic: str, body: Any) -> Toxic:
        proxy = self.get(name)
        new = updated(self.get_toxic(name, toxic), body)
        proxy.toxics[toxic] = new
        proxy.notify()
        return new

    def remove_toxic(self, name: str, toxic: str) -> None:
        proxy = self.get(name)
        self.get_toxic(name, toxic)
        del proxy.toxics[toxic]
        proxy.notify()

    # --- listening ----------------------------------------------------------------------------------------

    def _check_upstream(self, upstream: Any) -> None:
        host, _ = split_address(upstream, "upstream")
        if self._allow_any_upstream or is_loopback(host) or self._in_allowed_network(host):
            return
        allowed = ", ".join(["127.0.0.0/8", *(str(n) for n in self._allowed_networks)])
        raise ApiError(
            400,
            f"upstream {upstream} is neither loopback nor in an allowed network; this proxy forwards only "
            f"to {allowed} unless started with --allow-any-upstream",
        )

    def _in_allowed_network(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False  # names are not resolved here: only literal addresses inside an allowed network
        return any(address in network for network in self._allowed_networks)

    async def _listen(self, proxy: Proxy) -> None:
        host, port = split_address(proxy.listen, "listen")

        generation = proxy.generation  # connections that reach this listener after it closed are dropped

        def made(client: Side) -> None:
            task = asyncio.create_task(self._accept(proxy, generation, client))
            self._accepting.add(task)
            task.add_done_callback(self._accepting.discard)

        loop = asyncio.get_running_loop()
        try:
            proxy.server = await loop.create_server(lambda: Side(made), host, port, reuse_address=True)
        except OSError as exc:
            raise ApiError(500, f"listen tcp {proxy.listen}: {exc.strerror or exc}") from None
        bound = proxy.server.sockets[0].getsockname()
        proxy.listen = f"{bound[0]}:{bound[1]}"

    async def _accept(self, proxy: Proxy, generation: int, client: Side) -> None:
        if generation != proxy.generation:  # accepted by the kernel before the proxy went down
            client.close()
            return
        host, port = split_address(proxy.upstream, "upstream")
        loop = asyncio.get_running_loop()
        try:
            _, upstream = await asyncio.wait_for(
                loop.create_connection(Side, host, port, local_addr=_own_source(client)),
                UPSTREAM_CONNECT_TIMEOUT_S,
            )
        except (OSError, TimeoutError) as exc:
            # The client sees only its connection closed: say why in the proxy's log.
            print(
                f"{proxy.name}: no upstream {proxy.upstream} for a client: {exc!r}",
                file=sys.stderr,
                flush=True,
            )
            client.close()
            return
        if generation != proxy.generation:  # the proxy went down while we connected upstream
            client.close()
            upstream.close()
            return
        connection = Connection(
            client,
            upstream,
            proxy.toxics_of,
            lambda: proxy.changed,
            self._rng,
            lambda: proxy.resp,
        )
        proxy.connections.add(connection)
        connection.start()
        await connection.closed.wait()
        proxy.connections.discard(connection)

    async def _stop(self, proxy: Proxy) -> None:
        """Close the listener and every connection: the proxy is down (Toxiproxy's disable)."""
        proxy.generation += 1
        if proxy.server is not None:
            proxy.server.close()
            proxy.server = None
        for connection in list(proxy.connections):
            await connection.close()
        proxy.connections.clear()
