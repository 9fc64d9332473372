"""An error reply's class: its first word (BUSY, OOM, READONLY, ...), the name every report uses."""

from __future__ import annotations

import redis


def reply_code(exc: redis.ResponseError) -> str:
    """The error reply's first word. redis-py strips it from some messages but keeps it as status_code."""
    code = getattr(exc, "status_code", None)
    if isinstance(code, str) and code:
        return code
    return reply_word(str(exc))


def reply_word(message: str) -> str:
    first = message.split(" ", 1)[0]
    return first if first.isupper() and first.isalpha() else "ERR"
