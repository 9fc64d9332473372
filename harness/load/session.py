"""A user's connection to the current primary: found through Sentinel, dropped on any transport error."""

from __future__ import annotations

from typing import Any

from harness.load.resp import ReplyError, RespConnection, RespError, discover_primary


class PrimarySession:
    """Holds one RESP connection. After a transport error the next call asks Sentinel again, so a
    failover is followed; no call is ever retried here (retry policy is the workload's business)."""

    def __init__(self, sentinels: tuple[tuple[str, int], ...], master_name: str, timeout: float) -> None:
        self._sentinels = sentinels
        self._master_name = master_name
        self._timeout = timeout
        self._conn: RespConnection | None = None

    def connection(self) -> RespConnection:
        if self._conn is None:
            host, port = discover_primary(self._sentinels, self._master_name, self._timeout)
            self._conn = RespConnection(host, port, self._timeout)
        return self._conn

    def call(self, payload: bytes, count: int = 1) -> list[Any]:
        """Send pre-encoded commands and read their replies; error replies are left in the list."""
        conn = self.connection()
        try:
            return conn.call(payload, count)
        except OSError:
            self.drop()
            raise

    def one(self, payload: bytes) -> Any:
        """One command; an error reply is raised as RespError."""
        (reply,) = self.call(payload)
        if isinstance(reply, ReplyError):
            raise RespError(reply)
        return reply

    def drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
