"""`pytest scenarios/` runs each drill file as a test item; a failing drill names its failed checks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, docker_unavailable

pytestmark = pytest.mark.integration

GOOD = f"""name: quiet
environment: {ROOT}/environments/sentinel-3.yaml
load: {{duration: 3s, workloads: {{acked-writes: {{users: 2, wait: 10ms}}}}}}
expect: {{lost_acknowledged_writes: 0}}
"""
# A runbook that waits for an incident, in a drill without faults: its detect step cannot pass.
NO_INCIDENT = f"""name: no-incident
environment: {ROOT}/environments/sentinel-3.yaml
load: {{duration: 3s, workloads: {{acked-writes: {{users: 2, wait: 10ms}}}}}}
runbooks: [{ROOT}/runbooks/replication-broken.yaml]
"""


def test_pytest_collects_and_judges_drills(tmp_path: Path) -> None:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "quiet.yaml").write_text(GOOD)
    (scenarios / "no-incident.yaml").write_text(NO_INCIDENT)
    (scenarios / "broken.yaml").write_text("name: broken\nload: 3\n")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", "scenarios/"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 1, out
    assert "PASSED scenarios/quiet.yaml::quiet" in out
    assert "FAILED scenarios/no-incident.yaml::no-incident" in out
    assert "detect: sentinel_event +sdown (incident): UNKNOWN: no fault was applied" in out
    assert "FAILED scenarios/broken.yaml::broken" in out
    assert f"{scenarios / 'broken.yaml'}:2: load: expected a mapping" in out
    assert len(list((tmp_path / "runs").glob("*/report.json"))) == 2


@pytest.mark.docker
@pytest.mark.skipif(docker_unavailable() is not None, reason=str(docker_unavailable()))
def test_drill_backend_option_runs_drills_on_docker(tmp_path: Path) -> None:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "quiet.yaml").write_text(GOOD)
    options = ["-p", "no:cacheprovider", "-rA", "--drill-backend", "docker", "-m", "backend_docker"]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *options, "scenarios/"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout
    assert "PASSED scenarios/quiet.yaml::quiet" in result.stdout
    (report,) = (tmp_path / "runs").glob("*/report.json")
    assert json.loads(report.read_text())["backend"] == "docker"
