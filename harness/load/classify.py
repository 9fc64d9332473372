"""Classify a failed Redis call by the reply's first word or by transport, and decide its outcome.

Outcomes follow Jepsen: "fail" means the operation certainly did not take effect; "info" means it may have
(a timeout or a connection lost after the command was sent) and is never counted as success or failure.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Literal

import redis
from redis.sentinel import MasterNotFoundError

from harness.clients.replies import reply_code, reply_word
from harness.load.resp import ConnectError, NoPrimaryError, RespError

Outcome = Literal["fail", "info"]


@dataclass(frozen=True, slots=True)
class Classified:
    error: str  # e.g. "READONLY", "OOM", "timeout", "connection-refused"
    outcome: Outcome


def classify(exc: BaseException) -> Classified:
    """Classify an exception from redis-py or from the lean RESP client (harness.load.resp)."""
    if isinstance(exc, RespError):
        return Classified(reply_word(str(exc)), "fail")
    if isinstance(exc, NoPrimaryError):
        return Classified("no-primary", "fail")
    if isinstance(exc, ConnectError):  # raised before anything was sent
        refused = isinstance(exc.__cause__, ConnectionRefusedError)
        return Classified("connection-refused" if refused else "connect-timeout", "fail")
    if isinstance(exc, TimeoutError | socket.timeout):
        return Classified("timeout", "info")
    if isinstance(exc, ConnectionRefusedError):
        return Classified("connection-refused", "fail")
    if isinstance(exc, OSError) and not isinstance(exc, redis.RedisError):
        return Classified("connection", "info")  # reset or closed after sending: may have been applied
    if isinstance(exc, redis.TimeoutError):
        return Classified("timeout", "info")
    if isinstance(exc, MasterNotFoundError):
        return Classified("no-primary", "fail")  # no Sentinel named a primary: nothing was sent
    if isinstance(exc, redis.BusyLoadingError):  # a ConnectionError subclass in redis-py, but a reply
        return Classified("LOADING", "fail")
    if isinstance(exc, redis.ConnectionError):
        message = str(exc)
        if "max number of clients" in message:
            return Classified("MAXCLIENTS", "fail")
        if "connecting to" in message or "Connection refused" in message:
            return Classified("connection-refused", "fail")
        return Classified("connection", "info")  # lost after sending: may have been applied
    if isinstance(exc, redis.ResponseError):
        return Classified(reply_code(exc), "fail")
    return Classified(type(exc).__name__, "info")


def retry_groups(error: str) -> frozenset[str]:
    """The names a retry policy uses for an error class: "connection" covers every transport failure,
    and a connect timeout is both a timeout and a connection failure."""
    if error == "connect-timeout":
        return frozenset({"timeout", "connection"})
    if error in ("connection", "connection-refused", "no-primary"):
        return frozenset({"connection"})
    return frozenset({error})
