"""A lean RESP client for load users: pre-encoded commands, hiredis parsing, one socket, no retries.

redis-py costs more per command than Redis itself does; the load generator must not be the bottleneck, so the
load users speak RESP directly. Error replies come back as values (hiredis.ReplyError), never raised, so a
pipeline's or transaction's individual replies can be judged one by one.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Sequence
from typing import Any

import hiredis

from harness.core.access import Credentials

ReplyError = hiredis.ReplyError


def first_error(replies: list[Any]) -> Any:
    """The first error reply among `replies`, or None: the scan runs in C unless there is one."""
    if ReplyError not in map(type, replies):
        return None
    return next(r for r in replies if isinstance(r, ReplyError))


READ_SIZE = 65536


def encode(*args: str | bytes | int | float) -> bytes:
    """One command as a RESP array of bulk strings."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


class RespError(Exception):
    """An error reply raised where a caller asked for it (see RespConnection.call)."""

    def __init__(self, reply: Any) -> None:
        super().__init__(str(reply))
        self.reply = reply


class RespConnection:
    def __init__(
        self,
        host: str,
        port: int,
        timeout: float,
        watched: bool = False,
        credentials: Credentials | None = None,
    ) -> None:
        """Connect within `timeout` (TLS and AUTH as `credentials` say). Calls then time out after `timeout`
        too, unless `watched`: a CallWatchdog enforces it (see harness.load.watchdog)."""
        self.address = (host, port)
        self._reader = hiredis.Reader()
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if credentials is not None and credentials.tls is not None:
                sock = credentials.tls.client_context().wrap_socket(sock, server_hostname=host)
        except OSError as exc:
            raise ConnectError(f"cannot connect to {host}:{port}: {exc}") from exc
        self._sock = sock
        # Under gevent (Locust), a recv right after a send nearly always finds nothing yet: it fails with
        # EAGAIN (a syscall and an exception) before waiting. Waiting for readability first saves both.
        # Not for TLS, whose buffered bytes readability does not show.
        wait = getattr(sock, "_wait", None)
        event = getattr(sock, "_read_event", None)
        tls = hasattr(sock, "pending")  # an SSL socket: bytes may wait in its buffer, unseen by readability
        self._await_reply = None if wait is None or event is None or tls else wait
        self._read_event = event
        if watched:
            self._sock.settimeout(None)
        auth = credentials.auth_args() if credentials is not None else ()
        if auth:
            try:
                self.command(*auth)
            except (OSError, RespError):
                self._sock.close()
                raise

    def send(self, payload: bytes) -> None:
        self._sock.sendall(payload)

    def read(self, count: int) -> list[Any]:
        """The next `count` replies, in order; error replies are ReplyError values."""
        replies: list[Any] = []
        gets, append = self._reader.gets, replies.append
        waited = False
        while True:
            reply = gets()
            while reply is not False:  # every complete reply already read, without a syscall each
                append(reply)
                if len(replies) == count:
                    return replies
                reply = gets()
            if not waited and self._await_reply is not None:
                self._await_reply(self._read_event)
            waited = True
            data = self._sock.recv(READ_SIZE)
            if not data:
                raise ConnectionResetError("Connection closed by server")
            self._reader.feed(data)

    def call(self, payload: bytes, count: int = 1) -> list[Any]:
        self.send(payload)
        return self.read(count)

    def command(self, *args: str | bytes | int | float) -> Any:
        """One command; an error reply is raised as RespError."""
        (reply,) = self.call(encode(*args))
        if isinstance(reply, ReplyError):
            raise RespError(reply)
        return reply

    def abort(self) -> None:
        """Make a call blocked on this connection fail now (from another greenlet)."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._sock.close()


def discover_primary(
    sentinels: Sequence[tuple[str, int]],
    master_name: str,
    timeout: float,
    credentials: Credentials | None = None,
) -> tuple[str, int]:
    """The primary's address from the first Sentinel that names one (no state check, no retry)."""
    last: Exception | None = None
    for host, port in sentinels:
        try:
            conn = RespConnection(host, port, timeout, credentials=credentials)
        except OSError as exc:
            last = exc
            continue
        try:
            reply = conn.command("SENTINEL", "get-master-addr-by-name", master_name)
        except (OSError, RespError) as exc:
            last = exc
            continue
        finally:
            conn.close()
        if reply:
            return reply[0].decode(), int(reply[1])
    raise NoPrimaryError(f"no Sentinel named a primary for {master_name!r}: {last}")


class NoPrimaryError(ConnectionError):
    """No Sentinel could name the primary: nothing was sent."""


class ConnectError(ConnectionError):
    """The connection could not be made: nothing was sent. The OSError is the cause."""
