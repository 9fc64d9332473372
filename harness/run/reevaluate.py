"""`drill evaluate RUN_DIR`: judge a stored run again, with the same or edited runbooks and bounds.

Evaluation is pure over the observation log, so a run can be judged again without running it: people tune
a runbook's bounds this way. The new reports go to RUN_DIR/evaluated/, beside the original ones."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.core.errors import ConfigError, Problem, UsageError
from harness.core.observation_log import Record, read_log
from harness.report.model import RunReport, build_report
from harness.report.write import write_reports
from harness.runbooks.evaluate import evaluate
from harness.runbooks.history import History
from harness.scenario.loader import load_runbook, load_scenario
from harness.scenario.model import Scenario
from harness.scenario.nemesis import with_seed
from harness.scenario.scenario_file import read_expectations
from harness.scenario.yamlsource import Source

OUT_DIR = "evaluated"


@dataclass(frozen=True, slots=True)
class EvaluateOptions:
    scenario: Path | None = None  # default: the scenario file the run was started from
    runbooks: tuple[Path, ...] = ()  # replace the scenario's runbooks with these
    expect: tuple[str, ...] = ()  # KEY=VALUE overrides of the scenario's expect: section


def reevaluate(run_dir: Path, options: EvaluateOptions) -> RunReport:
    """Judge the run in run_dir again; write the reports to run_dir/evaluated/ and return the report."""
    log_file = run_dir / "observations.jsonl"
    if not log_file.is_file():
        raise UsageError(f"drill evaluate: {log_file} not found; give the directory of a finished run")
    records = read_log(log_file)
    run = next((r for r in records if r.get("kind") == "run"), None)
    if run is None:
        raise UsageError(f"drill evaluate: {log_file} has no run record; is it an observation log?")
    scenario = _with_overrides(load_scenario(_scenario_file(run, options, log_file)), options)
    if scenario.nemesis is not None and "seed" in run:  # the schedule the run drew (drill run --seed)
        scenario = with_seed(scenario, int(run["seed"]))
    original = _original_report(run_dir)
    history = History(tuple(records))
    evaluation = evaluate(scenario, records)
    report = build_report(
        scenario=scenario.name,
        run_id=str(run.get("run_id", "")),
        run_dir=str(run_dir),
        backend=str(run.get("backend", "")),
        retry_policy=scenario.load.retry.name,
        seed=int(run.get("seed", scenario.seed)),
        wall_time_s=float(original.get("wall_time_s", history.end)),
        history=history,
        evaluation=evaluation,
    )
    write_reports(run_dir / OUT_DIR, report, records)
    return report


def _scenario_file(run: Record, options: EvaluateOptions, log_file: Path) -> Path:
    if options.scenario is not None:
        return options.scenario
    recorded = run.get("scenario_file")
    if not recorded or not Path(recorded).is_file():
        where = f"{recorded} is gone" if recorded else "the log does not name its scenario file"
        raise UsageError(f"drill evaluate: {where} ({log_file}); give it with --scenario FILE")
    return Path(recorded)


def _with_overrides(scenario: Scenario, options: EvaluateOptions) -> Scenario:
    if options.runbooks:
        scenario = dataclasses.replace(scenario, runbooks=tuple(load_runbook(f) for f in options.runbooks))
    if options.expect:
        given: dict[str, Any] = {}
        for item in options.expect:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise UsageError(f"drill evaluate: --expect takes KEY=VALUE, got {item!r}")
            given[key.strip()] = yaml.safe_load(value) if value.strip() else value
        source = Source("--expect", given, {})
        problems: list[Problem] = []
        overrides = read_expectations(source, problems)
        if overrides is None or problems:
            raise ConfigError(problems)
        # Only the keys given replace the scenario's own expectations.
        changed = {f.name: getattr(overrides, f.name) for f in dataclasses.fields(overrides)}
        names = {"lost_acknowledged_writes": "max_lost_writes"}
        keep = {names.get(k, k) for k in given}
        scenario = dataclasses.replace(
            scenario,
            expect=dataclasses.replace(scenario.expect, **{k: v for k, v in changed.items() if k in keep}),
        )
    return scenario


def _original_report(run_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}
