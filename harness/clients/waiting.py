"""Waiting with a deadline: one helper, with an error that ends with a hint and the node's last log lines."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from harness.core.errors import BackendError


def tail(path: Path | None, lines: int = 8) -> str:
    if path is None or not path.exists():
        return ""
    with path.open(encoding="utf-8", errors="replace") as handle:
        return "".join(handle.readlines()[-lines:])


def wait_for(
    condition: Callable[[], str | None],
    *,
    timeout: float,
    what: str,
    hint: str,
    log: Path | None = None,
    interval: float = 0.05,
    not_yet: tuple[type[BaseException], ...] = (),
) -> None:
    """Poll condition() until it returns None (ready). A returned string says why it is not ready yet.

    Exceptions in not_yet count as "not yet"; anything else propagates at once.
    """
    deadline = time.monotonic() + timeout
    reason = "not checked yet"
    while True:
        try:
            outcome = condition()
        except not_yet as exc:
            outcome = f"{type(exc).__name__}: {exc}"
        if outcome is None:
            return
        reason = outcome
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    last = tail(log)
    message = f"{what} not ready after {timeout:g}s: {reason}. Hint: {hint}"
    if last:
        message += f"\nLast lines of {log}:\n{last.rstrip()}"
    raise BackendError(message)
