"""Where one run keeps its files, and the run id every resource it starts is tagged with."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from harness.core.log_records import RunRecord
from harness.core.observation_log import INFO_INTERVAL_S, SCHEMA_VERSION, STATS_INTERVAL_S, ObservationLog

RUN_ID_ENV = "REDIS_DRILL_RUN_ID"
RUN_ID_TIME = "%Y%m%d-%H%M%S"  # a run id starts with the local time its run began


def started_at(run_id: str) -> float | None:
    """When the run began (epoch seconds, to the second), read from its id; None for an id not of ours."""
    try:
        return time.mktime(time.strptime(run_id[: len("YYYYmmdd-HHMMSS")], RUN_ID_TIME))
    except ValueError:
        return None


def work_root() -> Path:
    """Scratch space of all runs (data dirs, owner files); `drill cleanup` looks here."""
    return Path(tempfile.gettempdir()) / "redis-drill"


@dataclass(frozen=True, slots=True)
class RunContext:
    run_id: str
    run_dir: Path  # artifacts kept after the run: log, node logs, reports
    work_dir: Path  # scratch removed at teardown: data directories, owner pid
    prefix: str = "drill"  # every key of the run starts with PREFIX:<run id> (an environment may set it)

    @staticmethod
    def create(runs_dir: Path, scenario_name: str, prefix: str = "drill") -> RunContext:
        run_id = f"{time.strftime(RUN_ID_TIME)}-{secrets.token_hex(3)}"
        run_dir = runs_dir / f"{scenario_name}-{run_id}"
        (run_dir / "logs").mkdir(parents=True)
        work_dir = work_root() / run_id
        work_dir.mkdir(parents=True)
        (work_dir / "owner.pid").write_text(str(os.getpid()))
        (work_dir / "run_dir").write_text(str(run_dir.resolve()))
        return RunContext(run_id, run_dir, work_dir, prefix)

    def open_log(
        self,
        scenario: str,
        seed: int,
        backend: str,
        scenario_file: Path | None = None,
        engine: str | None = None,
        engine_notes: tuple[str, ...] = (),
    ) -> ObservationLog:
        """The run's observation log, opened with its first record: which run this is."""
        log = ObservationLog(self.run_dir / "observations.jsonl")
        record = RunRecord(
            t=log.now(),
            kind="run",
            schema=SCHEMA_VERSION,
            scenario=scenario,
            scenario_file=str(scenario_file.resolve()) if scenario_file else None,  # for drill evaluate
            run_id=self.run_id,
            seed=seed,
            backend=backend,
            wall_clock=time.time(),
            stats_interval=STATS_INTERVAL_S,
            info_interval=INFO_INTERVAL_S,
        )
        if engine is not None:
            record["engine"] = engine
        if engine_notes:
            record["engine_notes"] = list(engine_notes)
        log.write(record)
        return log

    @property
    def key_prefix(self) -> str:
        """Every key the run writes starts with it (or with `{` and it, under a hash tag)."""
        return f"{self.prefix}:{self.run_id}"

    def process_env(self) -> dict[str, str]:
        """Environment for child processes: the run id tag lets `drill cleanup` find them from /proc."""
        return {**os.environ, RUN_ID_ENV: self.run_id}

    def remove_work_dir(self) -> None:
        shutil.rmtree(self.work_dir, ignore_errors=True)
