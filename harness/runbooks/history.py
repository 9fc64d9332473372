"""A read-only index over an observation log's records, for the checks: each kind typed by its definition
in harness/core/log_records.py, so a reader that names a field the writers do not write fails mypy."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from harness.core.log_records import (
    AbortRecord,
    AlertingRecord,
    AlertRecord,
    CleanupRecord,
    ClusterRecord,
    ConfigRecord,
    ControlRecord,
    FaultEndRecord,
    FaultRecord,
    InfoRecord,
    InitRecord,
    LoadRecord,
    OpRecord,
    PageRecord,
    ProbeReplyRecord,
    ProgramProbeRecord,
    ReadbackRecord,
    RespondRecord,
    RollbackRecord,
    RunbookStepRecord,
    RunRecord,
    SecurityRecord,
    SentinelRecord,
    StatsRecord,
    TopologyRecord,
)
from harness.core.observation_log import Record

# Logs before schema 2 did not say how they were sampled; this is how they were.
STATS_INTERVAL_BEFORE_V2_S = 0.5
INFO_INTERVAL_BEFORE_V2_S = 0.25


@dataclass(frozen=True, slots=True)
class History:
    records: tuple[Record, ...]
    _by_kind: dict[str, list[Record]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_kind: dict[str, list[Record]] = {}
        for record in self.records:
            by_kind.setdefault(record["kind"], []).append(record)
        object.__setattr__(self, "_by_kind", by_kind)  # frozen: built once, here

    def _of(self, kind: str) -> list[Any]:
        return self._by_kind.get(kind, [])

    # --- typed views, one per record kind the checks and reports read -------------------------------

    @property
    def run(self) -> RunRecord | None:
        runs = self._of("run")
        return cast(RunRecord, runs[0]) if runs else None

    @property
    def topologies(self) -> list[TopologyRecord]:
        return self._of("topology")

    @property
    def alerting(self) -> list[AlertingRecord]:
        return self._of("alerting")

    @property
    def loads(self) -> list[LoadRecord]:
        return self._of("load")

    @property
    def stats(self) -> list[StatsRecord]:
        return self._of("stats")

    @property
    def ops(self) -> list[OpRecord]:
        return self._of("op")

    @property
    def inits(self) -> list[InitRecord]:
        return self._of("init")

    @property
    def faults(self) -> list[FaultRecord]:
        return self._of("fault")

    @property
    def fault_ends(self) -> list[FaultEndRecord]:
        return self._of("fault_end")

    @property
    def sentinel_events(self) -> list[SentinelRecord]:
        return self._of("sentinel")

    @property
    def cluster_views(self) -> list[ClusterRecord]:
        return self._of("cluster")

    @property
    def infos(self) -> list[InfoRecord]:
        return self._of("info")

    @property
    def alerts(self) -> list[AlertRecord]:
        return self._of("alert")

    @property
    def pages(self) -> list[PageRecord]:
        return self._of("page")

    @property
    def responds(self) -> list[RespondRecord]:
        return self._of("respond")

    @property
    def runbook_steps(self) -> list[RunbookStepRecord]:
        return self._of("runbook_step")

    @property
    def probe_replies(self) -> list[ProbeReplyRecord]:
        return self._of("probe_reply")

    @property
    def program_probes(self) -> list[ProgramProbeRecord]:
        return self._of("program_probe")

    @property
    def security(self) -> list[SecurityRecord]:
        return self._of("security")

    @property
    def controls(self) -> list[ControlRecord]:
        return self._of("control")

    @property
    def configs(self) -> list[ConfigRecord]:
        return self._of("config")

    @property
    def aborts(self) -> list[AbortRecord]:
        return self._of("abort")

    @property
    def rollbacks(self) -> list[RollbackRecord]:
        return self._of("rollback")

    @property
    def cleanups(self) -> list[CleanupRecord]:
        return self._of("cleanup")

    @property
    def readbacks(self) -> list[ReadbackRecord]:
        return self._of("readback")

    # --- derived ------------------------------------------------------------------------------------------

    @property
    def incident(self) -> FaultRecord | None:
        """The runbooks' incident, the fault marked `incident` or else the first: times count from it."""
        faults = self.faults
        marked = [f for f in faults if f.get("incident")]
        return marked[0] if marked else faults[0] if faults else None

    @property
    def stats_interval(self) -> float:
        """Seconds each load `stats` record covers, as the log's run record says."""
        run = self.run
        return float(run["stats_interval"]) if run and "stats_interval" in run else STATS_INTERVAL_BEFORE_V2_S

    @property
    def info_interval(self) -> float:
        """Seconds between two INFO samples, as the log's run record says."""
        run = self.run
        return float(run["info_interval"]) if run and "info_interval" in run else INFO_INTERVAL_BEFORE_V2_S

    @property
    def end(self) -> float:
        return float(self.records[-1]["t"]) if self.records else 0.0

    def first(self, kind: str, after: float, **match: Any) -> Record | None:
        for record in self._of(kind):
            if record["t"] >= after and all(record.get(k) == v for k, v in match.items()):
                return cast(Record, record)
        return None

    def load_window(self) -> tuple[float, float] | None:
        starts = [r["t"] for r in self.loads if r["phase"] == "start"]
        stops = [r["t"] for r in self.loads if r["phase"] == "stop"]
        if not starts:
            return None
        return float(starts[0]), float(stops[-1]) if stops else self.end
