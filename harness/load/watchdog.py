"""Timeouts for load calls without a gevent Timeout per recv (which costs about a fifth of a plain SET's
client time): one greenlet checks every session's call in flight and aborts those past the timeout."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Expirable(Protocol):
    def expire_if_older(self, now: float, timeout: float) -> None: ...


class CallWatchdog:
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._sessions: list[Expirable] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="call-watchdog", daemon=True)

    def watch(self, session: Expirable) -> None:
        self._sessions.append(session)

    def forget(self, session: Expirable) -> None:
        if session in self._sessions:
            self._sessions.remove(session)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)

    def _run(self) -> None:
        # Resolution: a tenth of the timeout, at most 50 ms.
        interval = min(0.05, self.timeout / 10)
        while not self._stop.wait(interval):
            now = time.monotonic()
            for session in list(self._sessions):
                session.expire_if_older(now, self.timeout)
