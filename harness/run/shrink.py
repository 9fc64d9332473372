"""drill shrink RUN_DIR: a nemesis run broke a verdict; find the smallest part of its drawn schedule that
still breaks it. Each trial is a real drill of a subset of the drawn faults (each with its end, at its
drawn time, the same seed for everything else), chosen by delta debugging; the smallest failing schedule
found is written as a plain scenario file the team can keep in CI."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.core.errors import UsageError
from harness.run.ddmin import ddmin
from harness.run.drill import RunOptions, run_drill
from harness.run.progress import make_console
from harness.scenario.loader import load_scenario
from harness.scenario.model import FaultSpec, Scenario
from harness.scenario.nemesis import with_seed

INCIDENT_PREFIX = re.compile(r"^incident \d+ \([^)]*\): ")
QUIET_TAIL_S = 10.0  # after the last kept fault's end, when its runbooks give no longer bound
# A unit of the schedule: one drawn fault and the entries that end it (a restart, a heal).
Unit = tuple[FaultSpec, ...]


@dataclass(frozen=True, slots=True)
class Shrunk:
    verdict: str  # the verdict every trial asked about, without its incident's prefix
    kept: tuple[Unit, ...]
    drawn: int  # how many faults the run drew
    trials: int
    scenario_file: Path


def shrink(
    run_dir: Path, max_trials: int, backend: str | None, progress: Callable[[str], None], verdict: str = ""
) -> Shrunk:
    run, report = _run_record(run_dir), _report(run_dir)
    scenario = with_seed(load_scenario(Path(str(run["scenario_file"]))), int(run["seed"]))
    if scenario.nemesis is None:
        raise UsageError(f"drill shrink: {run['scenario_file']} has no nemesis: there is no drawn schedule")
    failing = [_stable(c["name"]) for c in report["checks"] if c["status"] == "FAIL"]
    target = verdict or (failing[0] if failing else "")
    if target not in failing:
        raise UsageError(
            f"drill shrink: {run_dir} broke no verdict named {target!r}"
            + (f" (it broke: {'; '.join(dict.fromkeys(failing))})" if failing else " (it passed)")
        )
    units = _units(scenario.faults)
    progress(f"shrinking {len(units)} drawn fault(s) of seed {scenario.seed}, keeping: {target}")
    trials_dir = run_dir / "shrink"
    count = [0]

    def still_fails(subset: tuple[Unit, ...]) -> bool:
        count[0] += 1
        trial = _trial(scenario, subset)
        console = make_console(True)
        result = run_drill(
            trial, RunOptions(trials_dir / f"trial-{count[0]}", backend or run["backend"]), console
        )
        broken = {_stable(c.name) for c in result.checks if c.failed}
        labels = ", ".join(f"{u[0].action} {u[0].target} at {u[0].at:g}s" for u in subset)
        verdict_now = "still breaks it" if target in broken else "passes it"
        progress(f"trial {count[0]}: {len(subset)} fault(s) left ({labels}): {verdict_now}")
        return target in broken

    kept, trials = ddmin(units, still_fails, max_trials)
    written = _write(_trial(scenario, kept), kept, trials_dir / "minimal.yaml")
    return Shrunk(target, kept, len(units), trials, written)


def _trial(scenario: Scenario, subset: tuple[Unit, ...]) -> Scenario:
    """The subset's faults at their drawn times, the load cut short once the last of them has had the
    longest time its runbooks give (the rest of a long run would only cost time: nothing else is drawn)."""
    faults = tuple(f for unit in subset for f in unit)
    settings = scenario.environment.bound_settings()
    bounds = [
        step.within.resolve(settings)
        for unit in subset
        if unit[0].starts_incident is not None
        for book in scenario.incidents[unit[0].starts_incident].runbooks
        for step in (*book.detect, *book.verify)
        if step.within is not None
    ]
    last_start = max((unit[0].at for unit in subset), default=0.0)
    last_end = max((f.at for f in faults), default=0.0)
    until = max(last_start + max(bounds, default=0.0), last_end + QUIET_TAIL_S)
    load = dataclasses.replace(scenario.load, duration=min(scenario.load.duration, until))
    return dataclasses.replace(scenario, faults=faults, load=load)


def _stable(name: str) -> str:
    """A verdict's name without its incident's number and time, which change from trial to trial."""
    return INCIDENT_PREFIX.sub("", name)


def _units(faults: tuple[FaultSpec, ...]) -> tuple[Unit, ...]:
    units: list[list[FaultSpec]] = []
    for fault in faults:
        if fault.starts_incident is not None or not units:
            units.append([fault])
        else:
            units[-1].append(fault)
    return tuple(tuple(u) for u in units)


def _run_record(run_dir: Path) -> dict[str, Any]:
    try:
        with (run_dir / "observations.jsonl").open(encoding="utf-8") as log:
            record: dict[str, Any] = json.loads(log.readline())
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"drill shrink: {run_dir} is not a run directory ({exc})") from None
    if record.get("kind") != "run" or not record.get("scenario_file"):
        raise UsageError(f"drill shrink: {run_dir}/observations.jsonl does not start with its run record")
    return record


def _report(run_dir: Path) -> dict[str, Any]:
    try:
        report: dict[str, Any] = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(
            f"drill shrink: {run_dir} has no report.json to read its verdicts from ({exc})"
        ) from None
    return report


def _write(scenario: Scenario, kept: tuple[Unit, ...], path: Path) -> Path:
    """The kept faults as a plain scenario: each as its catalogue entry says it (at its drawn time, with its
    drawn length), then its end; the first marked as the incident its runbooks are judged from."""
    assert scenario.nemesis is not None
    raw = yaml.safe_load(scenario.file.read_text(encoding="utf-8"))
    catalogue = raw["nemesis"]["faults"]
    faults: list[dict[str, Any]] = []
    runbooks: list[str] = []
    for number, unit in enumerate(kept):
        first = unit[0]
        assert first.starts_incident is not None
        entry = {k: v for k, v in catalogue[first.starts_incident].items() if k not in ("weight", "runbooks")}
        entry = {"at": f"{first.at:g}s", **({"incident": True} if number == 0 else {}), **entry}
        if first.pause is not None:
            entry["pause"] = {**entry["pause"], "duration": f"{first.pause.seconds:.3f}s"}
        elif first.server is not None:
            entry[first.action] = {**(entry[first.action] or {}), "duration": f"{first.server.seconds:.3f}s"}
        faults.append(entry)
        faults += [{"at": f"{end.at:g}s", end.action: end.target} for end in unit[1:]]
        runbooks += [str(r.file) for r in scenario.incidents[first.starts_incident].runbooks]
    shrunk = {
        "name": f"{scenario.name}-shrunk",
        "description": f"The smallest schedule drill shrink found (seed {scenario.seed}) that still "
        "breaks the verdict it was run for.",
        "environment": str(scenario.environment.file),
        "seed": scenario.seed,
        "load": {**raw["load"], "duration": f"{scenario.load.duration:g}s"},  # a trial's length
        **{k: raw[k] for k in ("expect", "alerts", "abort_if") if k in raw},
        "faults": faults,
        "runbooks": list(dict.fromkeys(runbooks)),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(shrunk, sort_keys=False), encoding="utf-8")
    return path
