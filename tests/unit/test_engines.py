"""Engines: what an older one leaves out, version comparison; the matrix's comparison from reports."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from harness.core.engines import Engine, EngineMissing, find_engine
from harness.report.matrix_report import MatrixRun, render_matrix_html, render_matrix_table, summary
from tests.unit.history_builder import failover_report


def engine(version: str, directives: frozenset[str] = frozenset()) -> Engine:
    return Engine(
        "redis-x", "redis", version, Path("/x"), None, "no client installed", False, directives, "t"
    )


def test_an_older_engine_leaves_out_only_what_it_lacks_without_loss() -> None:
    config = (("maxmemory", "64mb"), ("enable-debug-command", "local"), ("latency-tracking", "yes"))
    kept, notes = engine("6.2.14").adapted(config)
    assert kept == (("maxmemory", "64mb"), ("latency-tracking", "yes"))  # the engine refuses the rest
    assert notes == (
        "redis-x has no enable-debug-command: left out (DEBUG is always enabled before Redis 7.0)",
    )
    assert engine("7.0.15", frozenset({"enable-debug-command"})).adapted(config) == (config, ())


def test_versions_compare_as_numbers() -> None:
    assert engine("10.0.1").version_at_least(7, 0)
    assert engine("7.0.15").version_at_least(7, 0) and not engine("6.2.14").version_at_least(7, 0)
    assert set(engine("6.2.14").lacks) >= {"TLS (built without it)", "bind-source-addr"}


def test_unknown_engine_names_the_known_ones() -> None:
    with pytest.raises(
        EngineMissing, match=re.escape("unknown engine 'redis-5.0'; the engines are redis-7.0, redis-6.2")
    ):
        find_engine("redis-5.0")


def test_matrix_compares_engines_side_by_side_with_spreads_over_repeats() -> None:
    built = failover_report()
    slower = dataclasses.replace(built.report, mttd_s=1.4)
    runs = [
        MatrixRun("redis-7.0", "7.0.15", 1, built.report, tuple(built.records)),
        MatrixRun("redis-7.0", "7.0.15", 2, slower, tuple(built.records)),
        MatrixRun("valkey-9.1", "9.1.2", 1, slower, tuple(built.records)),
    ]
    data = summary(runs)
    assert list(data) == ["redis-7.0", "valkey-9.1"]
    mttd = data["redis-7.0"]["measures"]["MTTD"]
    assert mttd["min"] == built.report.mttd_s and mttd["max"] == 1.4 and len(mttd["values"]) == 2
    table = render_matrix_table("primary-failover", runs)
    assert "redis-7.0 (7.0.15)" in table and "valkey-9.1 (9.1.2)" in table
    assert f"{built.report.mttd_s:.3f} / " in table  # min / median / max over 2 runs, 3 places each
    assert "1.400" in table and " 1.4 " not in table  # one precision per row: 1.400 beside 1.020
    assert "pass ×2" in table
    skipped = [("valkey-8.1 8.1.8", "valkey-8.1 8.1.8 was built without TLS, which ... needs")]
    assert "not run on valkey-8.1 8.1.8: valkey-8.1 8.1.8 was built without TLS" in render_matrix_table(
        "primary-failover", runs, skipped
    )
    html = render_matrix_html("primary-failover", runs)
    assert html.count("<svg") == 2 * len(runs) and "valkey-9.1 9.1.2, run 1" in html
