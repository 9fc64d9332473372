"""The drill's stop conditions (`abort_if:`) judged live: the judges of harness/runbooks/stop_conditions.py
run over the observation log as it grows (every writer flushes at least every stats interval), so what trips
a drill is exactly what `drill evaluate` finds again in the stored log."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from harness.core.log_records import AbortRecord
from harness.core.observation_log import ObservationLog
from harness.runbooks.history import History
from harness.runbooks.stop_conditions import Trip, judge
from harness.scenario.model import StopCondition

TICK_S = 0.25
# What the judges read: the rest of the log is not kept (a long drill's op records would only cost memory).
KINDS = frozenset({"run", "topology", "load", "stats", "info", "fault", "cluster"})


class LogTail:
    """The records appended to a log since the last call (whole lines only; a torn one waits)."""

    def __init__(self, path: Path, kinds: frozenset[str]) -> None:
        self._path = path
        self._kinds = kinds  # what the reader keeps
        self._offset = 0
        self._partial = b""

    def new_records(self) -> list[dict[str, Any]]:
        with self._path.open("rb") as handle:
            handle.seek(self._offset)
            data = handle.read()
        self._offset += len(data)
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        out = []
        for line in lines:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if record.get("kind") in self._kinds:
                out.append(record)
        return out


class Guard:
    def __init__(self, conditions: tuple[StopCondition, ...], log: ObservationLog) -> None:
        self._conditions = conditions
        self._log = log
        self._tail = LogTail(log.path, KINDS)
        self._records: list[dict[str, Any]] = []
        self.tripped = threading.Event()
        self.trip: tuple[StopCondition, Trip] | None = None
        self.readings: tuple[str, ...] = ()  # each condition now, for the progress line

    @property
    def needed(self) -> bool:
        return bool(self._conditions)

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(TICK_S) and not self.tripped.is_set():
            self.check()

    def check(self) -> None:
        self._log.flush()  # this process's own records (faults, INFO samples) up to now
        self._records.extend(self._tail.new_records())
        self._records.sort(key=lambda r: float(r.get("t", 0.0)))
        history = History(tuple(self._records))
        now = self._log.now()
        readings = []
        for condition in self._conditions:
            reading = judge(condition, history, now)
            readings.append(f"{reading.now} (abort at {condition.label})")
            if reading.tripped is not None and self.trip is None:
                self.trip = (condition, reading.tripped)
                self._log.write(
                    AbortRecord(
                        t=now,
                        kind="abort",
                        condition=condition.label,
                        tripped=round(reading.tripped.t, 6),
                        evidence=reading.tripped.evidence,
                    ),
                    flush=True,
                )
                self.tripped.set()
        self.readings = tuple(readings)
