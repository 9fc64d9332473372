"""A remote load worker's stand-in for the observation log: lines go to the drill over Locust's messages.

The worker has no access to the drill's file (it runs on another machine). Its users write records here
exactly as they would to the log; the lines, stamped on the drill's clock once `align` has been told where
that clock's zero lies on this machine's, are sent in batches and appended by the drill as they are.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from harness.core.log_records import LogRecord
from harness.core.observation_log import LineBuffer, log_line


class ForwardedLog:
    def __init__(self, send: Callable[[list[str]], None]) -> None:
        self._buffer = LineBuffer(send)  # one message per batch, as the log makes one write
        self._origin = time.monotonic()  # until aligned: this worker's own zero
        self._closed = False

    def align(self, origin: float) -> None:
        """The drill's clock reads 0 at `origin` on this machine's monotonic clock."""
        self._origin = origin

    def now(self) -> float:
        return time.monotonic() - self._origin

    def write(self, record: LogRecord, flush: bool = False) -> None:
        if self._closed:  # a late greenlet after the drill said finish: dropped, as the log does
            return
        self._buffer.add(log_line(record), flush)

    def flush(self) -> None:
        self._buffer.flush()

    def close(self) -> None:
        self.flush()
        self._closed = True
