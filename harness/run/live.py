"""The drill page of `drill run --ui`: served by Locust's web UI at /drill, rendered on each request from the
records the log gained since the last one (harness/report/live_page.py)."""

from __future__ import annotations

import threading
from typing import Any

from harness.core.observation_log import ObservationLog
from harness.report.live_page import KINDS, render_live
from harness.run.guard import LogTail

PATH = "/drill"


class LivePage:
    def __init__(self, scenario: str, log: ObservationLog) -> None:
        self._scenario = scenario
        self._log = log
        self._tail = LogTail(log.path, KINDS)
        self._records: list[dict[str, Any]] = []
        self._lock = threading.Lock()  # two browsers asking at once read the tail once each

    def render(self) -> str:
        with self._lock:
            self._records += self._tail.new_records()
            records = list(self._records)
        return render_live(self._scenario, records)
