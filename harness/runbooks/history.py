"""A read-only index over an observation log's records, for the checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.observation_log import Record


@dataclass(frozen=True, slots=True)
class History:
    records: tuple[Record, ...]

    def of(self, kind: str) -> list[Record]:
        return [r for r in self.records if r["kind"] == kind]

    @property
    def faults(self) -> list[Record]:
        return self.of("fault")

    @property
    def incident(self) -> Record | None:
        """The runbooks' incident, the fault marked `incident` or else the first: times count from it."""
        faults = self.faults
        marked = [f for f in faults if f.get("incident")]
        return marked[0] if marked else faults[0] if faults else None

    @property
    def stats_interval(self) -> float:
        """Seconds each load `stats` record covers, as the log's run record says."""
        return float(self._run.get("stats_interval", 0.5))

    @property
    def info_interval(self) -> float:
        """Seconds between two INFO samples, as the log's run record says."""
        return float(self._run.get("info_interval", 0.25))

    @property
    def _run(self) -> Record:
        return next((r for r in self.records if r["kind"] == "run"), {})

    @property
    def end(self) -> float:
        return float(self.records[-1]["t"]) if self.records else 0.0

    def first(self, kind: str, after: float, **match: Any) -> Record | None:
        for record in self.records:
            if (
                record["kind"] == kind
                and record["t"] >= after
                and all(record.get(k) == v for k, v in match.items())
            ):
                return record
        return None

    def load_window(self) -> tuple[float, float] | None:
        starts = [r["t"] for r in self.of("load") if r.get("phase") == "start"]
        stops = [r["t"] for r in self.of("load") if r.get("phase") == "stop"]
        if not starts:
            return None
        return float(starts[0]), float(stops[-1]) if stops else self.end
