"""`drill matrix`: the same drill on several engines, one after the other, compared side by side.

Every engine's drill is loaded (its environment's config checked against that engine) and every engine
found before the first one starts, so a missing engine or a directive one engine refuses stops the matrix
before anything runs. Each run is an ordinary run directory inside the matrix's own."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from harness.core.engines import EngineMissing, find_engine
from harness.core.errors import UsageError
from harness.core.observation_log import read_log
from harness.report.matrix_report import MatrixRun, write_matrix
from harness.report.model import RunReport
from harness.run.drill import RunOptions, engine_problem, run_drill
from harness.run.progress import Console
from harness.scenario.loader import load_drill
from harness.scenario.model import Scenario, secured


@dataclass(frozen=True, slots=True)
class MatrixOptions:
    engines: tuple[str, ...]
    backend: str | None  # None: the environment's
    repeat: int
    runs_dir: Path
    secure: bool = False


@dataclass(frozen=True, slots=True)
class MatrixResult:
    directory: Path
    runs: tuple[MatrixRun, ...]
    skipped: tuple[tuple[str, str], ...]  # (engine, why): engines that cannot run this drill at all
    table: str  # the comparison, as printed and in matrix.txt


def run_matrix(path: Path, options: MatrixOptions, console: Console) -> MatrixResult:
    """Run the drill on every engine `repeat` times. An engine that is missing stops the matrix before
    anything runs; one that cannot run the drill (a secured drill on an engine without TLS) is skipped,
    and the comparison says why."""
    drills: list[Scenario] = []
    for name in options.engines:
        drill = load_drill(path, name)
        if not isinstance(drill, Scenario):
            raise UsageError(f"drill matrix: {path} is a sweep; the matrix compares drills (scenarios)")
        if drill.environment.external:
            raise UsageError(
                f"drill matrix: {drill.environment.file} is an external environment: its engine is its "
                "owner's"
            )
        chosen = secured(drill) if options.secure else drill
        assert isinstance(chosen, Scenario)
        drills.append(chosen)
    engines, skipped = {}, []
    for drill in drills:  # every engine found before any run: a missing one stops the matrix here
        engine = find_engine(drill.environment.engine)
        why = engine_problem(drill.environment, engine)
        if why is None:
            engines[drill.environment.engine] = engine
        else:
            skipped.append((engine.label, why))
    drills = [d for d in drills if d.environment.engine in engines]
    if not drills:
        raise EngineMissing("drill matrix: no engine can run this drill: " + "; ".join(w for _, w in skipped))
    matrix = options.runs_dir / f"matrix-{drills[0].name}-{time.strftime('%Y%m%d-%H%M%S')}"
    matrix.mkdir(parents=True)
    runs: list[MatrixRun] = []
    started = time.monotonic()
    for drill in drills:
        engine = engines[drill.environment.engine]
        for attempt in range(1, options.repeat + 1):
            console.line(f"matrix: {engine.label}, run {attempt} of {options.repeat}")
            backend = options.backend or drill.environment.backend
            report: RunReport = run_drill(drill, RunOptions(runs_dir=matrix, backend=backend), console)
            records = read_log(Path(report.run_dir) / "observations.jsonl")
            runs.append(MatrixRun(engine.name, engine.version, attempt, report, tuple(records)))
    table = write_matrix(matrix, drills[0].name, tuple(runs), time.monotonic() - started, tuple(skipped))
    return MatrixResult(matrix, tuple(runs), tuple(skipped), table)
