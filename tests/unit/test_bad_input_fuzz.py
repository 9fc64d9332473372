"""Generated malformed files never crash the loader: every outcome is a model or a ConfigError whose
problems each name the file and say what is wrong (the CLI turns that into exit 2 without a traceback)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.core.errors import ConfigError
from harness.scenario.loader import load_any

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = yaml.safe_load((ROOT / "scenarios" / "mixed-failover.yaml").read_text())
SCENARIO["environment"] = str(ROOT / "environments" / "sentinel-3-proxied.yaml")
SCENARIO["runbooks"] = [str(ROOT / "runbooks" / "p1-redis-down.yaml")]
ENVIRONMENT = yaml.safe_load((ROOT / "environments" / "sentinel-3-proxied.yaml").read_text())
RUNBOOK = yaml.safe_load((ROOT / "runbooks" / "p1-primary-partitioned.yaml").read_text())

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**6),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(
        ["10s", "10x", "-1s", "500ms", "primary", "+odown", "down-after + 1s", "1KB/s", "yes", "all"]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def paths(document: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(document, dict):
        for key, value in document.items():
            out += paths(value, (*prefix, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            out += paths(value, (*prefix, index))
    return out


def mutate(document: Any, path: tuple[Any, ...], value: Any, drop: bool) -> Any:
    if not path:
        return value
    copy = document.copy() if isinstance(document, dict | list) else document
    head, rest = path[0], path[1:]
    if not rest and drop and isinstance(copy, dict):
        copy.pop(head, None)
    else:
        copy[head] = mutate(copy[head], rest, value, drop)
    return copy


def check(tmp_path: Path, name: str, document: Any) -> None:
    file = tmp_path / name
    file.write_text(yaml.safe_dump(document, sort_keys=False))
    try:
        load_any(file)
    except ConfigError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.file and problem.message, problem
            assert str(problem).startswith(problem.file)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), value=values, drop=st.booleans())
def test_mutated_scenarios_never_crash(tmp_path: Path, data: st.DataObject, value: Any, drop: bool) -> None:
    path = data.draw(st.sampled_from(paths(SCENARIO)))
    check(tmp_path, "scenario.yaml", mutate(SCENARIO, path, value, drop))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), value=values, drop=st.booleans())
def test_mutated_environments_and_runbooks_never_crash(
    tmp_path: Path, data: st.DataObject, value: Any, drop: bool
) -> None:
    for name, document in (("environment.yaml", ENVIRONMENT), ("runbook.yaml", RUNBOOK)):
        path = data.draw(st.sampled_from(paths(document)))
        check(tmp_path, name, mutate(document, path, value, drop))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.sampled_from(list("ab:- \n{}[]'\"#&*!|>%@`\t1")), max_size=60))
def test_arbitrary_text_never_crashes(tmp_path: Path, text: str) -> None:
    file = tmp_path / "x.yaml"
    file.write_text(text)
    try:
        load_any(file)
    except ConfigError as exc:
        assert all(str(p).startswith(str(file)) for p in exc.problems)
