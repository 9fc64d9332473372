"""Sweep files: throughput per added RTT, pipeline batch and connection count."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.core.errors import Problem
from harness.scenario.durations import parse_duration
from harness.scenario.environment_file import environment_of
from harness.scenario.fault_entries import link_names
from harness.scenario.fields import Cursor, Invalid, integer, text
from harness.scenario.files import parse_file
from harness.scenario.model import (
    Sweep,
    SweepSpec,
)

# The keys each part of a sweep file takes (the loader's and `drill schema`'s one list).
SWEEP_FILE_KEYS = ("name", "description", "environment", "seed", "sweep")
SWEEP_KEYS = ("link", "rtt", "batch", "connections", "cell_duration")


def sweep_file(path: Path, problems: list[Problem], engine: str | None = None) -> Sweep | None:
    cur = parse_file(path, problems)
    if cur is None:
        return None
    if not cur.mapping(SWEEP_FILE_KEYS, "sweep settings"):
        return None
    name = cur.get("name", text)
    description = cur.get("description", text, "")
    environment = environment_of(cur, problems, engine)
    seed = cur.get("seed", integer(0), 0)
    spec = _sweep(cur.child("sweep"))
    if environment is not None and spec is not None and spec.link not in link_names(environment):
        cur.child("sweep").error(
            f"unknown link {spec.link!r} (the environment offers: "
            f"{', '.join(link_names(environment)) or 'none; set proxy: {clients: true}'})",
            "link",
        )
    if problems or name is None or environment is None or spec is None:
        return None
    return Sweep(path, name, str(description), environment, int(seed or 0), spec)


def _sweep(cur: Cursor) -> SweepSpec | None:
    if not cur.mapping(SWEEP_KEYS, "sweep settings"):
        return None
    link = cur.get("link", text, "primary")
    rtts = cur.get("rtt", _list_of(parse_duration))
    batches = cur.get("batch", _list_of(integer(1, 100_000)))
    connections = cur.get("connections", _list_of(integer(1, 1000)))
    cell = cur.get("cell_duration", parse_duration, 1.0)
    if link is None or rtts is None or batches is None or connections is None or cell is None:
        return None
    return SweepSpec(link, tuple(rtts), tuple(batches), tuple(connections), cell)


def _list_of(parse: Any) -> Any:
    def parse_list(value: Any) -> list[Any]:
        if not isinstance(value, list) or not value:
            raise Invalid("expected a non-empty list")
        return [parse(item) for item in value]

    return parse_list
