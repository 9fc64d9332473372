"""A user's connections to a cluster: the slot map from CLUSTER SLOTS, one connection per primary, each call
sent to the node serving its key's slot.

Redirects are the cluster's protocol, not failures: a MOVED reply updates the map and the call goes to the
node it names, an ASK reply sends it there once behind ASKING, as every cluster client does; each is
counted (`redirects`). Nothing else is retried: a node that cannot be reached fails the call, and the map is
asked for again (at most every REFRESH_GAP_S) until the cluster has failed the node over. A CLUSTERDOWN
reply fails the call too and has the map asked for again, first of the other nodes: a primary cut off from
the majority refuses its slots while the majority has already given them to its replica, and its own map
still names itself (redis-py and Jedis re-read the map on CLUSTERDOWN too).

The map names nodes as the cluster announces them; `routes` says where each is reached instead (its proxied
link, a port-forward), so the session keys everything by the announced address and only connects elsewhere."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from harness.core.access import Credentials
from harness.core.slots import SLOTS, key_slot
from harness.load.resp import (
    ConnectError,
    NoPrimaryError,
    ReplyError,
    RespConnection,
    RespError,
    first_error,
)
from harness.load.watchdog import CallWatchdog

REFRESH_GAP_S = 0.05  # while a failed primary still owns its slots, each failing call would ask again
ASKING = b"*1\r\n$6\r\nASKING\r\n"
Address = tuple[str, int]
Route = tuple[Address, Address]  # a node as the cluster announces it, and where clients reach it


class ClusterSession:
    def __init__(
        self,
        routes: tuple[Route, ...],
        timeout: float,
        watchdog: CallWatchdog | None = None,
        credentials: Credentials | None = None,
        redirects: Counter[str] | None = None,
    ) -> None:
        self._seeds = tuple(announced for announced, _ in routes)
        self._routes = dict(routes)
        self._timeout = timeout
        self._watchdog = watchdog
        self._credentials = credentials
        self._owners: list[Address | None] = []  # per slot; empty until the first refresh
        self._conns: dict[Address, RespConnection] = {}
        self._stale = True
        self._refreshed = 0.0
        self._refused_by: Address | None = None  # the node that last answered CLUSTERDOWN: asked last
        self._since: float | None = None  # when the call in flight started
        self._inflight: RespConnection | None = None
        self._expired = False
        self.redirects: Counter[str] = Counter() if redirects is None else redirects  # MOVED, ASK followed
        if watchdog is not None:
            watchdog.watch(self)

    def call(self, payload: bytes, count: int = 1, key: str = "") -> list[Any]:
        """Send pre-encoded commands, all for `key`'s slot, and read their replies; error replies are left
        in the list (a pipeline's own errors, and redirects that did not apply to every reply)."""
        slot = key_slot(key)
        owner = self._owner(slot)
        replies = self._send(owner, payload, count)
        if first_error(replies) is None:
            return replies
        word, target = _redirect(replies)
        if word == "MOVED":
            self.redirects["MOVED"] += 1
            self._owners[slot] = target
            self._stale = True  # a slot moved: others may have too (a failover moves a whole shard's)
            return self._send(target, payload, count)
        if word == "ASK":
            self.redirects["ASK"] += 1
            return self._send(target, ASKING + payload, count + 1)[1:]
        if isinstance(replies[0], ReplyError) and str(replies[0]).startswith("CLUSTERDOWN"):
            self._stale, self._refused_by = True, owner
        return replies

    @property
    def server(self) -> str:
        """Not one node: each shard has its own primary (one-primary-at-a-time is a Sentinel question)."""
        return ""

    def one(self, payload: bytes, key: str = "") -> Any:
        """One command; an error reply is raised as RespError."""
        (reply,) = self.call(payload, 1, key)
        if isinstance(reply, ReplyError):
            raise RespError(reply)
        return reply

    def _owner(self, slot: int) -> Address:
        if self._stale:
            self._refresh()
        owner = self._owners[slot] if self._owners else None
        if owner is None:
            raise NoPrimaryError(f"no cluster node serves slot {slot}")
        return owner

    def _send(self, address: Address, payload: bytes, count: int) -> list[Any]:
        conn = self._conns.get(address)
        if conn is None:
            try:
                reach = self._routes.get(address, address)
                conn = RespConnection(*reach, self._timeout, self._watchdog is not None, self._credentials)
            except ConnectError:
                self._stale = True
                raise
            self._conns[address] = conn
        self._since, self._inflight = time.monotonic(), conn
        try:
            return conn.call(payload, count)
        except OSError as exc:
            self._drop(address)
            self._stale = True
            if self._expired:
                self._expired = False
                raise TimeoutError(f"no reply within {self._timeout:g}s") from exc
            raise
        finally:
            self._since = self._inflight = None

    def _refresh(self) -> None:
        """The slot map from the first node that gives one: nodes already connected, then the seeds."""
        now = time.monotonic()
        if self._owners and now - self._refreshed < REFRESH_GAP_S:
            return
        self._refreshed = now
        last: Exception | None = None
        known = (*self._conns, *(s for s in self._seeds if s not in self._conns))
        refused = self._refused_by
        self._refused_by = None
        for address in (*(a for a in known if a != refused), *(a for a in known if a == refused)):
            try:
                reply = self._ask_slots(address)
            except (OSError, RespError) as exc:
                last = exc
                continue
            owners: list[Address | None] = [None] * SLOTS
            for entry in reply:
                first, last_slot, primary = int(entry[0]), int(entry[1]), entry[2]
                owner = (primary[0].decode(), int(primary[1]))
                owners[first : last_slot + 1] = [owner] * (last_slot - first + 1)
            self._owners, self._stale = owners, False
            return
        if not self._owners:
            raise NoPrimaryError(f"no cluster node gave a slot map: {last}")

    def _ask_slots(self, address: Address) -> Any:
        conn = self._conns.get(address)
        if conn is not None:
            try:
                return conn.command("CLUSTER", "SLOTS")
            except OSError:
                self._drop(address)
                raise
        reach = self._routes.get(address, address)
        probe = RespConnection(*reach, min(self._timeout, 0.5), credentials=self._credentials)
        try:
            return probe.command("CLUSTER", "SLOTS")
        finally:
            probe.close()

    def expire_if_older(self, now: float, timeout: float) -> None:
        """Called by the watchdog: abort the call in flight if it has run past the timeout."""
        since, conn = self._since, self._inflight
        if since is not None and conn is not None and now - since > timeout:
            self._expired = True
            conn.abort()

    def _drop(self, address: Address) -> None:
        conn = self._conns.pop(address, None)
        if conn is not None:
            conn.close()

    def drop(self) -> None:
        for address in list(self._conns):
            self._drop(address)

    def close(self) -> None:
        self.drop()
        if self._watchdog is not None:
            self._watchdog.forget(self)


def _redirect(replies: list[Any]) -> tuple[str, Address]:
    """("MOVED" or "ASK", the node named) when every reply is that same redirect, else ("", ...)."""
    words = str(replies[0]).split()
    if len(words) != 3 or words[0] not in ("MOVED", "ASK"):
        return "", ("", 0)
    if any(not isinstance(r, ReplyError) or str(r).split()[::2] != words[::2] for r in replies[1:]):
        return "", ("", 0)
    host, _, port = words[2].rpartition(":")
    return words[0], (host, int(port))
