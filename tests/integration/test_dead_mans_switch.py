"""The dead man's switch: a harness SIGKILLed in the middle of a drill leaves no cut and no frozen process
behind once each fault's `max:` has run out, with no cleanup command run; `drill cleanup` removes the rest."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from harness.backends.netfilter import table_name
from harness.backends.reaper import registered_pid
from harness.core.run_context import work_root
from tests.conftest import ROOT, drill, only_run_dir, run_id_of, start_drill, wait_until

pytestmark = pytest.mark.integration

MAX_S = 3.0


def process_state(pid: int) -> str:
    """The process's state letter (T: stopped), or gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def tables() -> str:
    return subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, check=False).stdout


def faults_of(run_dir: Path) -> list[dict[str, Any]]:
    lines = (run_dir / "observations.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if '"kind":"fault"' in line]


def test_a_killed_harness_leaves_no_cut_and_no_frozen_node_after_max(tmp_path: Path) -> None:
    scenario = tmp_path / "abandoned.yaml"
    scenario.write_text(
        f"name: abandoned\nenvironment: {ROOT / 'environments' / 'sentinel-3.yaml'}\nseed: 7\n"
        "load:\n  duration: 30s\n  timeout: 500ms\n  workloads: {acked-writes: {users: 2, wait: 20ms}}\n"
        f"faults:\n  - {{at: 1s, max: {MAX_S:g}s, partition: {{between: [replica], and: [primary]}}}}\n"
        f"  - {{at: 1s, max: {MAX_S:g}s, pause: {{node: sentinel-1, duration: 25s}}}}\n"
        "runbooks: []\n"
    )
    runs = tmp_path / "runs"
    proc = start_drill("run", str(scenario), "--runs-dir", str(runs))
    try:
        wait_until(lambda: runs.exists() and any(runs.iterdir()), 30, "the run directory")
        run_dir = only_run_dir(runs)
        wait_until(
            lambda: {f["action"] for f in faults_of(run_dir)} >= {"partition", "pause"},
            30,
            "the partition and the pause",
        )
        run_id = run_id_of(run_dir)
        pid = registered_pid(work_root() / run_id, "sentinel-1")
        assert pid is not None and process_state(pid) in ("T", "t")
        assert table_name(run_id) in tables()
        killed_at = time.monotonic()
        os.kill(proc.pid, signal.SIGKILL)  # no teardown, no cleanup: only the watchdog is left to act
        proc.communicate()
        wait_until(lambda: table_name(run_id) not in tables(), MAX_S + 3, "the run's nftables table to go")
        cut_ended = time.monotonic() - killed_at
        wait_until(lambda: process_state(pid) not in ("T", "t"), MAX_S + 3, "sentinel-1 to be thawed")
        thawed = time.monotonic() - killed_at
        print(f"after the harness's death: cut gone in {cut_ended:.2f}s, sentinel-1 thawed in {thawed:.2f}s")
        # The watchdog wrote when it ended each fault into the run's log, on the run's clock.
        lines = (run_dir / "observations.jsonl").read_text().splitlines()
        ends = [json.loads(line) for line in lines if '"kind":"fault_end"' in line]
        assert {e["action"] for e in ends} == {"partition", "pause"}, ends
        assert all(e["outcome"] == "ended by the watchdog: the harness is gone" for e in ends), ends
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        cleaned = drill("cleanup")
        assert cleaned.returncode == 0, cleaned.stderr
