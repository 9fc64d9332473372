"""Failover under partial failures: per-peer partitions cut with nftables and paused nodes, on real Redis
and Sentinel; the harness's nftables table is gone after the drill; without the rights nothing starts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.backends.netfilter import table_name
from tests.conftest import ROOT, live_redis_processes, log_problems, only_run_dir, run_id_of, run_ports

pytestmark = pytest.mark.integration


def nft_tables() -> str:
    return subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, check=True).stdout


def run_drill(name: str, runs: Path) -> tuple[int, dict[str, Any], Path, str]:
    scenario = str(ROOT / "scenarios" / f"{name}.yaml")
    result = subprocess.run(
        [sys.executable, "-m", "harness", "run", scenario, "--runs-dir", str(runs), "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    run_dir = only_run_dir(runs)
    assert live_redis_processes(run_ports(run_dir)) == [], "the drill left processes running"
    assert table_name(run_id_of(run_dir)) not in nft_tables(), "the drill left its nftables table"
    assert log_problems(run_dir) == []
    return result.returncode, json.loads((run_dir / "report.json").read_text()), run_dir, result.stdout


def checks(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in report["checks"]}


def test_pause_shorter_than_down_after_fails_nothing_over(runs: Path) -> None:
    code, report, run_dir, out = run_drill("pause-blip", runs)
    assert code == 0, out
    assert checks(report)["verify: no_failover"]["status"] == "pass"
    assert report["lost_writes"] == 0
    records = [json.loads(line) for line in (run_dir / "observations.jsonl").open()]
    paused = next(r for r in records if r["kind"] == "fault" and r["action"] == "pause")
    thawed = next(r for r in records if r["kind"] == "fault_end" and r["action"] == "pause")
    assert 0.95 < thawed["t"] - paused["t"] < 2.0  # resumed by its timer, not at the end of the drill


def test_partition_without_the_rights_stops_before_anything_starts(tmp_path: Path) -> None:
    """Without CAP_NET_ADMIN (what a non-root user lacks): one line naming what is needed, exit 3, no run
    directory, nothing left. The process keeps uid 0 so it can still read the venv, which lives under
    root's home on these machines; the capability is what nft is refused for."""
    runs = tmp_path / "runs"
    unprivileged = ["setpriv", "--bounding-set=-net_admin", "--inh-caps=-net_admin", "--"]
    drill = [sys.executable, "-m", "harness", "run", str(ROOT / "scenarios" / "split-brain.yaml")]
    result = subprocess.run(
        [*unprivileged, *drill, "--runs-dir", str(runs)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 3, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "root (CAP_NET_ADMIN)" in lines[0], result.stderr
    assert not runs.exists() or not any(runs.iterdir())
