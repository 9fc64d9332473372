"""The two shipped drills, for real: local redis-server and redis-sentinel processes, Locust load."""

from __future__ import annotations

import csv
import json
import os
import re
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from harness.backends.local import free_port
from harness.cli.main import main
from tests.conftest import (
    ROOT,
    drill,
    has_record,
    live_redis_processes,
    log_problems,
    only_run_dir,
    run_ports,
    start_drill,
    wait_until,
)
from tests.integration.independent_mttd import first_sdown_wall, killed_wall

pytestmark = pytest.mark.integration


def run_and_read(
    scenario: Path, runs: Path, *extra: str, quiet: bool = True
) -> tuple[int, dict[str, Any], Path, str]:
    """The drill's exit code, report, run dir and output (stdout, then stderr's progress unless quiet)."""
    result = drill("run", str(scenario), "--runs-dir", str(runs), *(("--quiet",) if quiet else ()), *extra)
    assert "Traceback" not in result.stderr, result.stderr
    run_dir = only_run_dir(runs)
    report = json.loads((run_dir / "report.json").read_text())
    assert live_redis_processes(run_ports(run_dir)) == [], "the drill left processes running"
    assert_evaluate_reproduces(run_dir, report, result.returncode)
    assert log_problems(run_dir) == []  # every record as its kind's definition says
    return result.returncode, report, run_dir, result.stdout + ("" if quiet else result.stderr)


def assert_evaluate_reproduces(run_dir: Path, report: dict[str, Any], code: int) -> None:
    """`drill evaluate` judges the stored run to the same verdicts and exit code as the run itself."""
    assert main(["evaluate", str(run_dir)]) == code
    again = json.loads((run_dir / "evaluated" / "report.json").read_text())
    assert [(c["name"], c["status"]) for c in again["checks"]] == [
        (c["name"], c["status"]) for c in report["checks"]
    ]
    assert (again["mttd_s"], again["mttr_s"]) == (report["mttd_s"], report["mttr_s"])


def test_primary_failover_drill_passes_and_reports_mttd_mttr_and_lost_writes(runs: Path) -> None:
    code, report, run_dir, stdout = run_and_read(ROOT / "scenarios" / "primary-failover.yaml", runs)
    failed = [c["name"] for c in report["checks"] if c["status"] != "pass"]
    assert code == 0, (failed, stdout)
    assert 0.9 < report["mttd_s"] < 2.0
    assert report["mttr_s"] is not None and report["mttr_s"] < 8.0
    assert report["acknowledged_writes"] > 1000
    for line in ("MTTD", "MTTR", "lost acknowledged writes"):
        assert line in stdout
    for artifact in ("observations.jsonl", "junit.xml", "logs/redis-1.log", "logs/sentinel-3.log"):
        assert (run_dir / artifact).is_file(), artifact
    # MTTD counts from when the kill was sent: it agrees with the Sentinels' own logs.
    independent = first_sdown_wall(run_dir) - killed_wall(run_dir)
    assert abs(report["mttd_s"] - independent) < 0.05, (report["mttd_s"], independent)
    # The same run judged against an impossible bound: exactly that check fails, in the table and JUnit.
    assert main(["evaluate", str(run_dir), "--expect", "recovery_within=1ms"]) == 1
    again = json.loads((run_dir / "evaluated" / "report.json").read_text())
    assert [c["name"] for c in again["checks"] if c["status"] != "pass"] == ["expect: recovery_within"]
    junit = ET.parse(run_dir / "evaluated" / "junit.xml").getroot()
    junit_failed = [c.get("name") for c in junit.iter("testcase") if c.find("failure") is not None]
    assert junit_failed == ["expect: recovery_within"]


def test_replication_lag_crosses_the_warning_and_recovers(runs: Path) -> None:
    code, report, run_dir, stdout = run_and_read(ROOT / "scenarios" / "replication-lag.yaml", runs)
    assert code == 0, stdout
    lag = next(c for c in report["checks"] if c["name"] == "detect: replication_lag")
    assert 1.0 <= lag["measured"] < 2.0
    fault = next(
        r
        for r in map(json.loads, (run_dir / "observations.jsonl").read_text().splitlines())
        if r["kind"] == "fault"
    )
    assert fault["link"].endswith("-replication") and fault["replica"] in lag["evidence"]
    assert report["load"]["fail"] == 0  # clients never saw the replication fault


def test_small_wan_sweep_matches_the_latency_bound(tmp_path: Path, runs: Path) -> None:
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(
        f"name: tiny-sweep\nenvironment: {ROOT}/environments/standalone-proxied.yaml\n"
        "sweep: {link: primary, rtt: [0ms, 20ms], batch: [1, 50], connections: [1], cell_duration: 500ms}\n"
    )
    result = drill("run", str(sweep), "--runs-dir", str(runs), "--quiet")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader((only_run_dir(runs) / "sweep.csv").open()))
    assert len(rows) == 4
    latency_bound = {(r["rtt_ms"], r["batch"]): float(r["ratio"]) for r in rows if r["rtt_ms"] == "20"}
    # 20 ms per round trip plus the local one; the proxy and scheduling cost a little on top.
    assert 0.7 <= latency_bound[("20", "1")] <= 1.02
    assert 0.7 <= latency_bound[("20", "50")] <= 1.02
    assert "batch 50" in result.stdout
    chart = (only_run_dir(runs) / "report.html").read_text()
    assert chart.count("<polyline") == 3 and "+20 ms RTT, 1 conn" in chart  # two lines, one dashed bound


def test_every_workload_through_a_failover_keeps_its_invariants(runs: Path) -> None:
    code, report, _, stdout = run_and_read(ROOT / "scenarios" / "mixed-failover.yaml", runs)
    assert code == 0, stdout
    assert set(report["workloads"]) == {
        "acked-writes",
        "kv",
        "pipeline",
        "bank",
        "lua-cas",
        "keyspace",
        "counter",
    }
    for name, summary in report["workloads"].items():
        assert summary["ok"] > 0 and summary["p50_us"] > 0, name
        assert summary["fail"] > 0, f"{name} should have seen the failover"
    checkers = [c for c in report["checks"] if c["source"] == "checker"]
    assert len(checkers) == 3 and all(c["status"] == "pass" for c in checkers)


def test_locust_web_ui_and_the_drill_page_serve_the_running_drill_and_csv_is_written(
    tmp_path: Path, runs: Path
) -> None:
    scenario = tmp_path / "ui.yaml"
    scenario.write_text(
        f"name: ui\nenvironment: {ROOT}/environments/sentinel-3.yaml\nload:\n  duration: 9s\n"
        "  workloads: {acked-writes: {users: 4, wait: 10ms}, counter: {users: 2, wait: 10ms}}\n"
        "faults:\n  - {at: 1s, kill: primary}\n"
    )
    port = free_port()
    proc = start_drill("run", str(scenario), "--runs-dir", str(runs), "--quiet", "--ui", f"127.0.0.1:{port}")

    def read(path: str) -> bytes:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1) as response:
                return bytes(response.read())
        except OSError:
            return b""

    def ui_shows_load() -> bool:
        stats = json.loads(read("/stats/requests") or b"{}")
        return bool(stats.get("state") == "running" and stats["current_rps"] > 0)

    wait_until(ui_shows_load, 30, "Locust's web UI to show the running load")
    # The drill page, read while the drill runs: the kill and the failover as they happen.
    page: list[str] = [""]

    def page_shows_the_failover() -> bool:
        page[0] = read("/drill").decode()
        return "fault: kill primary" in page[0] and "+switch-master" in page[0]

    wait_until(page_shows_the_failover, 20, "the drill page to show the kill and +switch-master")
    assert proc.poll() is None, "the drill ended before its page showed the failover"
    assert "http-equiv='refresh'" in page[0] and "<h2>Key metrics</h2>" in page[0]
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr + stdout
    rows = list(csv.DictReader((only_run_dir(runs) / "locust_stats.csv").open()))
    assert {r["Type"] for r in rows} >= {"acked-writes", "counter"}
    assert all(int(r["Request Count"]) > 0 for r in rows)


def test_load_in_worker_processes_writes_one_history(tmp_path: Path, runs: Path) -> None:
    scenario = tmp_path / "procs.yaml"
    scenario.write_text(
        f"name: procs\nenvironment: {ROOT}/environments/sentinel-3.yaml\n"
        "load:\n  duration: 5s\n  processes: 2\n"
        "  workloads: {acked-writes: {users: 4, wait: 10ms}, counter: {users: 2, wait: 10ms}}\n"
        "faults: [{at: 2s, surge: {users: 5, duration: 2s}}]\n"
    )
    code, report, run_dir, output = run_and_read(scenario, runs, quiet=False)
    assert code == 0, output
    records = [json.loads(line) for line in (run_dir / "observations.jsonl").read_text().splitlines()]
    workers = {r.get("worker") for r in records if r["kind"] == "stats"}
    assert workers == {1, 2}, workers
    # The live progress counts the workers' users (their stats reach the drill as Locust messages).
    assert re.search(r"s  [1-9][\d,]* ops/s; errors", output), output
    # The surge reached both workers through Locust's messages, each spawning its share.
    assert sorted((r["worker"], r["users"]) for r in records if r["kind"] == "surge") == [(1, 3), (2, 2)]
    # Users of both workers wrote tracked ops, with user ids from each worker's own range.
    user_ranges = {
        int(r["key"].split(":")[3]) // 1_000_000
        for r in records
        if r["kind"] == "op" and r.get("f") == "write"
    }
    assert user_ranges == {1, 2}
    assert report["acknowledged_writes"] > 100 and report["lost_writes"] == 0
    checker = next(c for c in report["checks"] if c["source"] == "checker")
    assert checker["status"] == "pass", checker


def test_failover_with_one_sentinel_dead_and_observers_riding_it_out(runs: Path) -> None:
    code, report, run_dir, stdout = run_and_read(ROOT / "scenarios" / "sentinel-loss-failover.yaml", runs)
    assert code == 0, stdout
    assert has_record(run_dir, "observer", sentinel="sentinel-1", state="lost")
    assert has_record(run_dir, "fault", node="redis-1", incident=True)
    assert report["mttr_s"] < 8


def test_password_protected_failover_keeps_the_secret_out_of_every_artifact(runs: Path) -> None:
    secret = "drill-Secret-7f3a!"
    result = drill(
        "run",
        str(ROOT / "scenarios" / "primary-failover-auth.yaml"),
        "--runs-dir",
        str(runs),
        env={**os.environ, "REDIS_DRILL_PASSWORD": secret},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    run_dir = only_run_dir(runs)
    assert "requirepass <secret>" in (run_dir / "config" / "redis-1.conf").read_text()
    report = json.loads((run_dir / "report.json").read_text())
    security = next(
        c for c in report["checks"] if c["name"] == "security: client without credentials refused"
    )
    assert security["status"] == "pass" and "redis-1, redis-2, redis-3 refused" in security["evidence"], (
        security
    )
    leaks = [str(f) for f in run_dir.rglob("*") if f.is_file() and secret.encode() in f.read_bytes()]
    assert leaks == [] and secret not in result.stdout + result.stderr
    assert live_redis_processes(run_ports(run_dir)) == []


def test_missing_secret_is_bad_input_before_anything_starts(runs: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_DRILL_PASSWORD"}
    result = drill(
        "run", str(ROOT / "scenarios" / "primary-failover-auth.yaml"), "--runs-dir", str(runs), env=env
    )
    assert result.returncode == 2
    assert "environments/sentinel-3-auth.yaml:" in result.stderr
    assert "auth.password_env: environment variable REDIS_DRILL_PASSWORD is not set" in result.stderr
    assert not runs.exists()


def test_production_retry_policy_rides_out_a_failover_and_shows_what_it_retried(runs: Path) -> None:
    code, report, _, stdout = run_and_read(ROOT / "scenarios" / "primary-failover-retry.yaml", runs)
    assert code == 0, stdout
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["expect: clients_ride_out"]["status"] == "pass"
    load = report["load"]
    # The failover was absorbed, not hidden: retries happened, and what they retried is named.
    assert load["fail"] == 0 and load["info"] == 0 and load["retries"] > 0, load
    assert set(load["retried_errors"]) <= {
        "connection",
        "connection-refused",
        "timeout",
        "connect-timeout",
        "no-primary",
    }
    assert sum(load["retried_errors"].values()) == load["retries"]
    assert report["lost_writes"] == 0 and report["retry_policy"] == "production"
