"""Drills whose fault is a Redis-aware toxic of the drill's own proxy: errors the servers never sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.integration.test_drills import run_and_read

pytestmark = pytest.mark.integration


def test_readonly_on_30_percent_of_writes_is_ridden_out_by_a_retrying_client(runs: Path) -> None:
    code, report, _, stdout = run_and_read(ROOT / "scenarios" / "client-retry-readonly.yaml", runs)
    assert code == 0, stdout
    load = report["load"]
    assert load["fail"] == 0 and load["retries"] > 0 and set(load["retried_errors"]) == {"READONLY"}, load
    assert report["lost_writes"] == 0 and report["acknowledged_writes"] > 1000


def test_loading_injected_on_every_command_then_gone_leaves_the_node_untouched(runs: Path) -> None:
    code, report, run_dir, stdout = run_and_read(ROOT / "scenarios" / "loading-injected.yaml", runs)
    assert code == 0, stdout
    errors = report["load"]["errors"]
    assert set(errors) == {"LOADING"} and errors["LOADING"] > 100, errors
    # The node never loaded: no LOADING in its own error counts, only in what the clients were told.
    lines = (run_dir / "observations.jsonl").read_text().splitlines()
    records = [line for line in lines if '"kind":"info"' in line]
    assert records and not any('"LOADING"' in line for line in records)
    assert report["lost_writes"] == 0
