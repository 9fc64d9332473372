"""Nothing of a run is left: after Ctrl-C, SIGTERM, and after SIGKILL of the harness plus `drill cleanup`."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from harness.backends.local import free_port
from harness.core.run_context import work_root
from tests.conftest import (
    ROOT,
    configured_ports,
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


def test_cleanup_finds_a_node_no_registry_knows_by_its_scratch_dir(tmp_path: Path) -> None:
    """What a Ctrl-C between fork and registration leaves: a node in a run's scratch dir, no pid file, its
    run-id tag unreadable (Redis writes its title over its environment). Its working directory names it."""
    run_id = "19990101-000000-c0ffee"
    scratch = work_root() / run_id / "redis-1"
    scratch.mkdir(parents=True)
    port = free_port("127.0.0.1")
    node = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(scratch)],
        cwd=scratch, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    wait_until(lambda: bool(live_redis_processes({port})), 10, "the node to listen")
    result = drill("cleanup")
    assert result.returncode == 0, result.stderr
    assert node.wait(timeout=10) is not None and live_redis_processes({port}) == []
    assert not (work_root() / run_id).exists()


@pytest.mark.parametrize("trial", range(3))
def test_interrupt_at_a_random_moment_leaves_nothing(runs: Path, trial: int) -> None:
    """SIGINT or SIGTERM anywhere from start-up to the end of the load (seeded, so a failure replays)."""
    rng = random.Random(trial)
    sig = rng.choice([signal.SIGINT, signal.SIGTERM])
    delay = rng.uniform(0.2, 6.0)
    proc = start_drill("run", SCENARIO, "--runs-dir", str(runs), "--quiet")
    time.sleep(delay)  # the moment is the point of the test: not waiting on any condition is deliberate
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, f"{sig.name} after {delay:.2f}s: {stderr}"
    assert "Traceback" not in stderr
    for run_dir in runs.iterdir() if runs.exists() else []:
        # Ports from the node configurations: they exist as soon as any node could have started.
        assert live_redis_processes(configured_ports(run_dir)) == [], f"{sig.name} after {delay:.2f}s"
        scratch = [d for d in work_root().glob("*") if run_dir.name.endswith(d.name)]  # <scenario>-<run id>
        assert scratch == [], f"{sig.name} after {delay:.2f}s left {scratch}"


def test_proxy_dying_under_a_drill_is_reported_and_everything_removed(tmp_path: Path, runs: Path) -> None:
    scenario = tmp_path / "proxy-dies.yaml"
    scenario.write_text(
        f"name: proxy-dies\nenvironment: {ROOT}/environments/sentinel-3-proxied.yaml\n"
        "load: {duration: 8s, workloads: {acked-writes: {users: 2, wait: 10ms}}}\n"
        "faults: [{at: 5s, network: {link: primary, latency: 10ms}}]\n"
    )
    proc = start_drill("run", str(scenario), "--runs-dir", str(runs), "--quiet")
    wait_until(lambda: runs.exists() and any(runs.iterdir()), 20, "the run directory")
    run_dir = only_run_dir(runs)
    wait_until(lambda: has_record(run_dir, "load", phase="start"), 30, "the load to start")
    proxy_pid = next((work_root() / run_id_of(run_dir) / "pids").glob("proxy.*")).name.split(".")[1]
    os.kill(int(proxy_pid), signal.SIGKILL)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 3, stderr
    assert "latency on redis-1: the proxy API" in stderr and "is the proxy still running?" in stderr
    assert "Traceback" not in stderr
    assert live_redis_processes(run_ports(run_dir)) == []
    assert not (work_root() / run_id_of(run_dir)).exists()
