"""Stop conditions (abort_if): judged live over the log as it grows; when one trips the drill stops, its
faults are rolled back newest first, and the run says ABORTED (exit 4) in every report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli.exit_codes import ExitCode
from tests.conftest import ROOT, drill, live_redis_processes, only_run_dir, run_ports

pytestmark = pytest.mark.integration


def test_an_error_rate_guard_aborts_a_primary_kill_and_rolls_it_back(tmp_path: Path) -> None:
    scenario = tmp_path / "guarded.yaml"
    scenario.write_text(
        f"name: guarded-failover\nenvironment: {ROOT / 'environments' / 'sentinel-3.yaml'}\nseed: 7\n"
        "load:\n  duration: 14s\n  timeout: 500ms\n  retry: none\n"
        "  workloads: {acked-writes: {users: 10, wait: 10ms, write_ratio: 0.5}}\n"
        "faults:\n  - {at: 3s, kill: primary}\n"
        f"runbooks: [{ROOT / 'runbooks' / 'p1-redis-down.yaml'}]\n"
        "abort_if:\n  - error_rate: {above: 5%, for: 1s}\n  - max_duration: 60s\n"
    )
    runs = tmp_path / "runs"
    result = drill("run", str(scenario), "--runs-dir", str(runs))
    assert result.returncode == ExitCode.ABORTED, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    run_dir = only_run_dir(runs)
    report = json.loads((run_dir / "report.json").read_text())
    aborted = report["aborted"]
    assert report["outcome"] == "aborted" and aborted["condition"] == "error_rate above 5% for 1s"
    # Tripped once two whole 0.5 s intervals were above 5% (the first holds the kill), and seen at once.
    kill = next(f for f in report["faults"] if f["action"] == "kill")
    assert kill["t"] + 0.9 <= aborted["tripped"] < kill["t"] + 3.0, (kill["t"], aborted)
    assert aborted["seen"] - aborted["tripped"] < 1.0, aborted
    assert [(s["action"], s["node"]) for s in aborted["rollback"]] == [("kill", kill["node"])]
    assert aborted["rollback"][0]["done"] == f"{kill['node']} started again"
    # The load stopped with the drill, not at its planned 14 s.
    assert report["load_window"][1] - report["load_window"][0] < 8.0, report["load_window"]
    checks = {c["name"]: c for c in report["checks"]}
    guard = checks["abort_if: error_rate above 5% for 1s"]
    assert guard["status"] == "FAIL" and "tripped at" in guard["evidence"], guard
    assert checks["abort_if: max_duration after 60s"]["status"] == "pass"
    assert "ABORTED: error_rate above 5% for 1s" in result.stdout and "rolled back" in result.stdout
    junit = (run_dir / "junit.xml").read_text()
    assert "abort_if: error_rate above 5% for 1s" in junit and "<failure" in junit
    # The runbook's checks are judged on what was seen; those not met whose window outlived the abort are
    # marked cut short, the rest stand as judged.
    runbook = [c for c in report["checks"] if c["source"] == "P1 Redis down"]
    unmet = [c for c in runbook if c["status"] == "FAIL" and c["measured"] is None]
    assert unmet and all(
        c["cut_short"] and "(cut short: the drill was aborted" in c["evidence"] for c in unmet
    ), runbook
    html = (run_dir / "report.html").read_text()
    assert "<h2>Aborted</h2>" in html and "verdict aborted" in html
    assert "ABORTED: error_rate above 5% for 1s</text>" in html  # its mark on the timeline
    # drill evaluate finds the same trip in the stored log.
    again = drill("evaluate", str(run_dir))
    assert again.returncode == ExitCode.ABORTED, again.stdout + again.stderr
    assert live_redis_processes(run_ports(run_dir)) == []


def test_bad_stop_conditions_are_bad_input_at_their_lines(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(
        f"name: bad\nenvironment: {ROOT / 'environments' / 'sentinel-3.yaml'}\n"
        "load:\n  duration: 5s\n  workloads: {acked-writes: {users: 1}}\nrunbooks: []\n"
        "abort_if:\n  - error_rate: {above: 5 percent, for: 1s}\n  - no_primary: {}\n  - panic: {}\n"
        "faults:\n  - {at: 1s, max: 40s, kill: replica}\n"
    )
    result = drill("validate", str(scenario))
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert f"{scenario}:8: abort_if[0].error_rate.above: expected a share such as 5% or 0.05" in result.stderr
    assert f"{scenario}:9: abort_if[1].no_primary.for: required field is missing" in result.stderr
    assert f"{scenario}:10: abort_if[2].panic: unknown stop condition" in result.stderr
    # A fault's max may not reach past the drill's end plus the teardown margin (5 s + 30 s here).
    assert f"{scenario}:12: faults[0].max: max 40s would let the fault outlive the drill" in result.stderr
