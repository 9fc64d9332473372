"""Nothing of a run is left: after Ctrl-C, SIGTERM, and after SIGKILL of the harness plus `drill cleanup`."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from harness.run_context import work_root
from tests.conftest import (
    ROOT,
    drill,
    has_record,
    live_redis_processes,
    only_run_dir,
    run_id_of,
    run_ports,
    start_drill,
    wait_until,
)

pytestmark = pytest.mark.integration
SCENARIO = str(ROOT / "scenarios" / "primary-failover.yaml")


def start_and_wait_for_load(runs: Path) -> tuple[subprocess.Popen[str], Path]:
    proc = start_drill("run", SCENARIO, "--runs-dir", str(runs), "--quiet")
    wait_until(lambda: runs.exists() and any(runs.iterdir()), 20, "the run directory")
    run_dir = only_run_dir(runs)
    wait_until(lambda: has_record(run_dir, "load", phase="start"), 30, "the load to start")
    return proc, run_dir


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_tears_everything_down(runs: Path, sig: signal.Signals) -> None:
    proc, run_dir = start_and_wait_for_load(runs)
    ports = run_ports(run_dir)
    assert live_redis_processes(ports), "expected the run's nodes to be up before the interrupt"
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert live_redis_processes(ports) == []
    assert not (work_root() / run_id_of(run_dir)).exists()


def test_cleanup_reaps_a_killed_harness(runs: Path) -> None:
    proc, run_dir = start_and_wait_for_load(runs)
    ports = run_ports(run_dir)
    proc.kill()
    proc.communicate(timeout=10)
    assert live_redis_processes(ports), "SIGKILL of the harness should leave its nodes behind"
    run_id = run_id_of(run_dir)
    result = drill("cleanup", "--run-id", run_id)
    assert result.returncode == 0, result.stderr
    assert live_redis_processes(ports) == []
    assert not (work_root() / run_id).exists()
