"""Load scenario, environment, runbook and sweep files into models, collecting every problem first.

One module per file kind (environment_file, scenario_file, runbook_file, sweep_file, fault_entries);
this one is their entry point."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

from harness.core.errors import ConfigError, Problem
from harness.scenario.environment_file import environment_file
from harness.scenario.model import (
    Environment,
    Runbook,
    Scenario,
    Sweep,
)
from harness.scenario.runbook_file import runbook_file
from harness.scenario.scenario_file import scenario_file
from harness.scenario.sweep_file import sweep_file
from harness.scenario.yamlsource import load_yaml

T = TypeVar("T")


def _checked(parse: Callable[[Path, list[Problem]], T | None], path: Path) -> T:
    """Run a file parser that collects problems; raise them all at once."""
    problems: list[Problem] = []
    result = parse(path, problems)
    if problems or result is None:
        raise ConfigError(problems)
    return result


def load_scenario(path: Path, engine: str | None = None) -> Scenario:
    """engine: check the environment's config against this engine instead of its own (`--engine`)."""
    return _checked(partial(scenario_file, engine=engine), path)


def load_environment(path: Path) -> Environment:
    return _checked(environment_file, path)


def load_runbook(path: Path) -> Runbook:
    return _checked(runbook_file, path)


def load_sweep(path: Path, engine: str | None = None) -> Sweep:
    return _checked(partial(sweep_file, engine=engine), path)


def load_drill(path: Path, engine: str | None = None) -> Scenario | Sweep:
    """What `drill run` takes: a scenario, or a sweep (a file with a `sweep:` section); engine: run it on
    this engine instead of its environment's, checked against it like the environment's own."""
    data = load_yaml(path).data
    if isinstance(data, dict) and "sweep" in data:
        return load_sweep(path, engine)
    return load_scenario(path, engine)


def load_any(path: Path) -> object:
    """Validate a file of any kind, guessing the kind from its keys."""
    source = load_yaml(path)
    data = source.data
    if isinstance(data, dict) and "sweep" in data:
        return load_sweep(path)
    if isinstance(data, dict) and ("sentinels" in data or "topology" in data):
        return load_environment(path)
    if isinstance(data, dict) and ("detect" in data or "verify" in data):
        return load_runbook(path)
    return load_scenario(path)
