"""A user's connection to the current primary: found through Sentinel, dropped on any transport error."""

from __future__ import annotations

import time
from typing import Any, Protocol

from harness.core.access import Credentials
from harness.load.resp import ReplyError, RespConnection, RespError, discover_primary, first_error
from harness.load.watchdog import CallWatchdog


class Session(Protocol):
    """What workloads call: PrimarySession, or ClusterSession (which routes by `key`)."""

    def call(self, payload: bytes, count: int = 1, key: str = "") -> list[Any]: ...

    def one(self, payload: bytes, key: str = "") -> Any: ...

    def drop(self) -> None: ...

    def close(self) -> None: ...

    @property
    def server(self) -> str:
        """host:port of the node the last call went to ("" when that is not one node: a cluster's)."""
        ...


class PrimarySession:
    """Holds one RESP connection. After a transport error the next call asks Sentinel again, so a
    failover is followed; no call is ever retried here (retry policy is the workload's business)."""

    def __init__(
        self,
        sentinels: tuple[tuple[str, int], ...],
        master_name: str,
        timeout: float,
        fixed: tuple[str, int] | None = None,
        watchdog: CallWatchdog | None = None,
        credentials: Credentials | None = None,
        sentinel_credentials: Credentials | None = None,
    ) -> None:
        self._sentinels = sentinels
        self._master_name = master_name
        self._timeout = timeout
        self._fixed = fixed  # a server to use without asking Sentinel (benchmarks)
        self._watchdog = watchdog
        self._credentials = credentials
        self._sentinel_credentials = sentinel_credentials
        self._conn: RespConnection | None = None
        self._since: float | None = None  # when the call in flight started
        self._expired = False
        if watchdog is not None:
            watchdog.watch(self)

    def connection(self) -> RespConnection:
        if self._conn is None:
            host, port = self._fixed or discover_primary(
                self._sentinels, self._master_name, self._timeout, self._sentinel_credentials
            )
            watched = self._watchdog is not None
            self._conn = RespConnection(host, port, self._timeout, watched, self._credentials)
        return self._conn

    def call(self, payload: bytes, count: int = 1, key: str = "") -> list[Any]:
        """Send pre-encoded commands and read their replies; error replies are left in the list. `key`
        routes a cluster's calls (harness/load/cluster_session.py); one primary serves every key."""
        conn = self.connection()
        self._since = time.monotonic()
        try:
            replies = conn.call(payload, count)
            if first_error(replies) is not None and any(
                isinstance(r, ReplyError) and str(r).startswith("READONLY") for r in replies
            ):
                # This node was demoted under us (a switchover keeps client connections open): route the
                # next call to the current primary, as the error's prescribed recovery says. Not a retry.
                self.drop()
            return replies
        except OSError as exc:
            self.drop()
            if self._expired:
                self._expired = False
                raise TimeoutError(f"no reply within {self._timeout:g}s") from exc
            raise
        finally:
            self._since = None

    def expire_if_older(self, now: float, timeout: float) -> None:
        """Called by the watchdog: abort the call in flight if it has run past the timeout."""
        since, conn = self._since, self._conn
        if since is not None and conn is not None and now - since > timeout:
            self._expired = True
            conn.abort()

    def one(self, payload: bytes, key: str = "") -> Any:
        """One command; an error reply is raised as RespError."""
        (reply,) = self.call(payload)
        if isinstance(reply, ReplyError):
            raise RespError(reply)
        return reply

    def drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @property
    def server(self) -> str:
        conn = self._conn
        return f"{conn.address[0]}:{conn.address[1]}" if conn is not None else ""

    def close(self) -> None:
        self.drop()
        if self._watchdog is not None:
            self._watchdog.forget(self)
