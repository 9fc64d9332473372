"""The observation log: one append-only JSONL file, one monotonic clock, the single source of truth."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import IO, Any

Record = dict[str, Any]


class ObservationLog:
    """Appends records stamped with seconds since the run started (time.monotonic)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._start = time.monotonic()
        self._file: IO[str] | None = path.open("a", encoding="utf-8")

    def now(self) -> float:
        return time.monotonic() - self._start

    def append(self, kind: str, t: float | None = None, **fields: Any) -> Record:
        record: Record = {"t": round(self.now() if t is None else t, 6), "kind": kind, **fields}
        if self._file is not None:  # records after close (a late greenlet) are dropped, not crashed on
            self._file.write(json.dumps(record, separators=(",", ":"), default=str) + "\n")
        return record

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def read_log(path: Path) -> list[Record]:
    """All records of a log, in the order written. A torn last line (killed writer) is skipped."""
    records: list[Record] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return records
