"""The JSON Schemas under schemas/ are what the definitions produce (`drill schema KIND`), every shipped file
names its schema on its first line and validates against it, and on a sample of bad files the schema and
the loader (`drill validate`) reject the same ones."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from harness.cli.schema import SCHEMA_KINDS, render, schema
from harness.core.errors import ConfigError
from harness.scenario.loader import load_environment, load_runbook, load_scenario, load_sweep
from harness.scenario.yamlsource import load_yaml

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(
    [*ROOT.glob("scenarios/**/*.yaml"), *ROOT.glob("environments/*.yaml"), *ROOT.glob("runbooks/*.yaml")]
)


def validator(kind: str) -> Draft202012Validator:
    return Draft202012Validator(schema(kind))


def kind_of(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema="), f"{path}: no schema line first"
    named = (path.parent / first.split("=", 1)[1]).resolve()
    assert named.parent == ROOT / "schemas" and named.is_file(), f"{path}: {named} is not a committed schema"
    return named.stem


@pytest.mark.parametrize("kind", SCHEMA_KINDS)
def test_committed_schema_is_what_the_definitions_produce(kind: str) -> None:
    committed = (ROOT / "schemas" / f"{kind}.json").read_text(encoding="utf-8")
    assert committed == render(kind), f"schemas/{kind}.json is stale: run drill schema {kind} > it"
    Draft202012Validator.check_schema(json.loads(committed))


def test_every_shipped_file_names_its_schema_and_validates() -> None:
    kinds: dict[str, int] = {}
    for path in SHIPPED:
        kind = kind_of(path)
        kinds[kind] = kinds.get(kind, 0) + 1
        data = load_yaml(path).data  # as the loader reads it (YAML 1.2's `on` is a string, as editors say)
        errors = sorted(validator(kind).iter_errors(data), key=lambda e: list(e.absolute_path))
        assert not errors, f"{path}: {'.'.join(map(str, errors[0].absolute_path))}: {errors[0].message}"
    assert set(kinds) == set(SCHEMA_KINDS) and kinds["scenario"] > 40, kinds


LOADERS: dict[str, Callable[[Path], Any]] = {
    "scenario": load_scenario,
    "environment": load_environment,
    "runbook": load_runbook,
    "sweep": load_sweep,
}

# (file, kind, (text to replace, replacement)): each breaks the file one way; both must refuse it.
BAD = [
    ("scenarios/primary-failover.yaml", "scenario", ("seed: 7", "seed: 7\nretries: 3")),  # unknown key
    ("scenarios/primary-failover.yaml", "scenario", ("retry: none", "retry: sometimes")),  # wrong enum
    ("scenarios/primary-failover.yaml", "scenario", ("seed: 7", "seed: seven")),  # wrong type
    ("scenarios/primary-failover.yaml", "scenario", ("  duration: 11s\n", "")),  # missing required
    ("scenarios/primary-failover.yaml", "scenario", ("    kill: primary", "    kil: primary")),
    ("scenarios/primary-failover.yaml", "scenario", ("  - at: 4s", "  - at: soon")),
    ("environments/sentinel-3.yaml", "environment", ("backend: local", "backend: k8s")),  # wrong enum
    ("environments/sentinel-3.yaml", "environment", ("replicas: 2", "replicas: two")),  # wrong type
    ("environments/sentinel-3.yaml", "environment", ("  quorum: 2\n", "")),  # missing required
    ("environments/sentinel-3.yaml", "environment", ("replicas: 2", "replicas: 2\nreplica: 1")),  # unknown
    ("runbooks/p1-redis-down.yaml", "runbook", ("+sdown, node", "+sdown, nod")),  # unknown key
    ("runbooks/p1-redis-down.yaml", "runbook", ("{within: 10s}", "{within: ten seconds}")),  # wrong type
    (
        "runbooks/p1-redis-down.yaml",
        "runbook",
        ("sentinel_event: {event: +sdown", "sentinel: {event: +sdown"),
    ),
    ("runbooks/p1-redis-down.yaml", "runbook", ("name: P1 Redis down\n", "")),  # missing required
    ("runbooks/busy.yaml", "runbook", ("gather: slowlog", "gather: slowlogs")),  # wrong enum
    ("scenarios/wan-pipeline.yaml", "sweep", ("cell_duration:", "cell_length:")),  # unknown key
    ("scenarios/wan-pipeline.yaml", "sweep", ("batch: [", "batch: [0, ")),  # out of range
]


@pytest.mark.parametrize(("file", "kind", "change"), BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_a_bad_file_is_refused_by_the_schema_and_the_loader_alike(
    tmp_path: Path, file: str, kind: str, change: tuple[str, str]
) -> None:
    source = ROOT / file
    text = source.read_text(encoding="utf-8")
    assert change[0] in text, f"{file} no longer holds {change[0]!r}: pick another change"
    bad = tmp_path / source.parent.name / source.name
    bad.parent.mkdir(parents=True)
    bad.write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    for sibling in ("environments", "runbooks", "schemas"):  # what the file names, relative to itself
        if not (tmp_path / sibling).exists():
            (tmp_path / sibling).symlink_to(ROOT / sibling)
    errors = list(validator(kind).iter_errors(load_yaml(bad).data))
    assert errors, f"the schema took {change}"
    with pytest.raises(ConfigError):
        LOADERS[kind](bad)
