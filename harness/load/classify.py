"""Classify a failed Redis call by the reply's first word or by transport, and decide its outcome.

Outcomes follow Jepsen: "fail" means the operation certainly did not take effect; "info" means it may have
(a timeout or a connection lost after the command was sent) and is never counted as success or failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import redis
from redis.sentinel import MasterNotFoundError

Outcome = Literal["fail", "info"]


@dataclass(frozen=True, slots=True)
class Classified:
    error: str  # e.g. "READONLY", "OOM", "timeout", "connection-refused"
    outcome: Outcome


def classify(exc: BaseException) -> Classified:
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


def reply_code(exc: redis.ResponseError) -> str:
    """The error reply's first word. redis-py strips it from some messages but keeps it as status_code."""
    code = getattr(exc, "status_code", None)
    if isinstance(code, str) and code:
        return code
    first = str(exc).split(" ", 1)[0]
    return first if first.isupper() and first.isalpha() else "ERR"


def retry_group(error: str) -> str:
    """The name a retry policy uses for an error class ("connection" covers every transport failure)."""
    if error in ("connection", "connection-refused", "no-primary"):
        return "connection"
    return error
