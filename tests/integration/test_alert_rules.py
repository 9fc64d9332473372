"""The alert rules of SEED-FACTS.md, verbatim in monitoring/redis-alerts.yml, unit-tested by promtool at
their full `for:` durations; the time-scaled copy drills use keeps everything but the durations."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest
import yaml

from harness.alerting.rules import scaled_routing, scaled_rules
from harness.backends.reaper import tagged_processes
from tests.conftest import ROOT, drill, only_run_dir, run_id_of, start_drill, wait_until

pytestmark = pytest.mark.integration
MONITORING = ROOT / "monitoring"


def promtool_test(directory: Path) -> subprocess.CompletedProcess[str]:
    promtool = shutil.which("promtool")
    assert promtool is not None, "promtool is missing: scripts/install-system-packages.sh installs prometheus"
    return subprocess.run(
        [promtool, "test", "rules", "redis-alerts.test.yml"], cwd=directory, capture_output=True, text=True
    )


def test_rules_fire_and_resolve_at_their_full_durations() -> None:
    result = promtool_test(MONITORING)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_rule_tests_pin_the_durations(tmp_path: Path) -> None:
    """Halve every `for:` and the same promtool tests fail: they check the durations, not just the exprs."""
    shutil.copy(MONITORING / "redis-alerts.test.yml", tmp_path)
    (tmp_path / "redis-alerts.yml").write_text(scaled_rules((MONITORING / "redis-alerts.yml").read_text(), 2))
    result = promtool_test(tmp_path)
    assert result.returncode == 1, result.stdout
    for alert in ("RedisDown", "RedisMemoryHigh", "RedisReplicationBroken", "RedisTooManyConnections"):
        assert f"alertname: {alert}" in result.stdout + result.stderr, alert


def test_scaled_copy_changes_only_the_durations() -> None:
    original = yaml.safe_load((MONITORING / "redis-alerts.yml").read_text())
    scaled = yaml.safe_load(scaled_rules((MONITORING / "redis-alerts.yml").read_text(), 30))
    before = original["groups"][0]["rules"]
    after = scaled["groups"][0]["rules"]
    assert [r["for"] for r in after] == ["2s", "10s", "10s", "10s"]
    assert [{k: v for k, v in r.items() if k != "for"} for r in after] == [
        {k: v for k, v in r.items() if k != "for"} for r in before
    ]


@pytest.mark.parametrize(
    ("scenario", "alert", "node"),
    [
        # RedisDown's pending, firing and resolved are checked by the paged drill below (same fault).
        ("alert-replication-broken.yaml", "RedisReplicationBroken", "redis-1"),
    ],
)
def test_alert_goes_pending_fires_and_resolves_in_a_live_prometheus(
    runs: Path, scenario: str, alert: str, node: str
) -> None:
    proc = start_drill("run", str(ROOT / "scenarios" / scenario), "--runs-dir", str(runs), "--quiet")
    try:
        panels = key_metrics_console_while_running(runs, proc)
    finally:
        stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stdout + stderr
    assert panels == {"memory", "cpu", "connections", "hit_rate", "replication_lag", "ops"}, panels
    run_dir = only_run_dir(runs)
    report = json.loads((run_dir / "report.json").read_text())
    checks = {c["name"]: c for c in report["checks"]}
    for section, state in (("detect", "pending"), ("detect", "firing"), ("verify", "resolved")):
        check = checks[f"{section}: alert {alert} {state}"]
        assert check["status"] == "pass" and f"{alert} for {node} {state}" in check["evidence"], check
    assert any("divided by" in note for note in report["notes"])
    # The exporter and Prometheus went with the run.
    assert [p for p in tagged_processes() if p.run_id == run_id_of(run_dir)] == []


PANEL = re.compile(r'<div class="panel" id="([a-z_]+)">(.*?)</table>', re.S)
VALUE = re.compile(r'<td class="value">-?[0-9.]+[%s]</td><td class="(healthy|warning|critical)">')


def key_metrics_console_while_running(runs: Path, proc: subprocess.Popen[str]) -> set[str]:
    """The key-metrics console on the drill's Prometheus, read while the drill runs: the panels that have
    shown a value with its band (every panel, within the drill)."""
    shown: set[str] = set()

    def console_url() -> str:
        records = [json.loads(line) for line in (only_run_dir(runs) / "observations.jsonl").open()]
        return next((r["console"] for r in records if r["kind"] == "alerting"), "")

    wait_until(lambda: runs.exists() and any(runs.iterdir()) and bool(console_url()), 60, "the console")
    url = console_url()

    def every_panel_shown() -> bool:
        assert proc.poll() is None, "the drill ended before its console showed every panel"
        with urllib.request.urlopen(url, timeout=2) as response:
            page = response.read().decode()
        shown.update(name for name, body in PANEL.findall(page) if VALUE.search(body))
        return len(shown) == 6

    wait_until(every_panel_shown, 30, "every key-metric panel of the console to show a value")
    return shown


def test_routing_passes_amtool_and_its_scaled_copy_too(tmp_path: Path) -> None:
    amtool = shutil.which("amtool")
    assert amtool, "amtool comes with prometheus-alertmanager (make test installs it)"
    shipped = MONITORING / "alertmanager.yml"
    checked = subprocess.run(
        [amtool, "check-config", str(shipped)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    scaled = tmp_path / "alertmanager.yml"
    scaled.write_text(scaled_routing(shipped.read_text(), 30, "http://127.0.0.1:1/page"))
    again = subprocess.run([amtool, "check-config", str(scaled)], capture_output=True, text=True, check=False)
    assert again.returncode == 0, again.stdout + again.stderr
    route = yaml.safe_load(scaled.read_text())["route"]
    assert (route["group_wait"], route["group_interval"], route["repeat_interval"]) == ("1s", "10s", "480s")


def test_a_page_starts_the_team_script_and_the_resolved_notification_arrives(runs: Path) -> None:
    """Fault -> RedisDown fires -> Alertmanager -> the drill's receiver -> the restart script runs on the page
    -> the alert resolves -> the resolved notification arrives: the four times are rows of the report."""
    result = drill("run", str(ROOT / "scenarios" / "alert-redis-down-paged.yaml"), "--runs-dir", str(runs))
    run_dir = only_run_dir(runs)
    report = json.loads((run_dir / "report.json").read_text())
    assert result.returncode == 0, result.stdout + result.stderr
    found = {c["name"]: c for c in report["checks"]}
    for section, state in (("detect", "pending"), ("detect", "firing"), ("verify", "resolved")):
        check = found[f"{section}: alert RedisDown {state}"]
        assert check["status"] == "pass" and f"RedisDown for redis-3 {state}" in check["evidence"], check
    assert any("divided by" in note for note in report["notes"])
    paged = found["detect: page RedisDown firing"]["measured"]
    started = found["respond: when a page: RedisDown firing"]["measured"]
    restarted = found["respond: run restart-node.sh"]["measured"]
    resolved = found["verify: page RedisDown resolved"]["measured"]
    assert paged <= started < restarted < resolved, (paged, started, restarted, resolved)
    # The team's script asked `drill node` as it would ask systemctl, found the replica down and started it;
    # the node it started is the run's and goes with it (tests/integration/test_runbook_programs.py had
    # this on node-down-script, the same script on an unreachable trigger).
    script = found["respond: run restart-node.sh"]["evidence"]
    assert "not running" in script and "started (pid" in script, script
    assert [p for p in tagged_processes() if p.run_id == run_id_of(run_dir)] == []
