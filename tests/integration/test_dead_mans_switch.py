"""The dead man's switch: a harness SIGKILLed in the middle of a drill leaves no cut, no frozen process or
container and no proxy toxic behind once each fault's `max:` has run out, with no cleanup command run;
`drill cleanup` removes the rest."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from harness.backends.netfilter import table_name
from harness.backends.reaper import registered_pid, tagged_processes
from harness.core.run_context import work_root
from tests.conftest import (
    ROOT,
    drill,
    live_redis_processes,
    only_run_dir,
    run_id_of,
    run_ports,
    start_drill,
    wait_until,
)
from tests.integration.test_docker_backend import run_resources

pytestmark = pytest.mark.integration

MAX_S = 3.0
FROZEN = ("T", "t", "paused")
RUNNING = ("S", "R", "D", "running")


def process_state(pid: int) -> str:
    """The process's state letter (T: stopped), or gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def tables(run_id: str = "") -> str:
    """nftables tables of the host's namespace and, given a run id, of each of the run's containers'."""

    def output(*argv: str) -> str:
        return subprocess.run(argv, capture_output=True, text=True, check=False).stdout

    labelled = f"label=redis-drill.run-id={run_id}"
    containers = output("docker", "ps", "-q", "--filter", labelled).split() if run_id else []
    listed = [output("nft", "list", "tables")]
    for container in containers:
        pid = output("docker", "inspect", "-f", "{{.State.Pid}}", container).strip()
        listed.append(output("nsenter", "-t", pid, "-n", "nft", "list", "tables"))
    return "".join(listed)


def faults_of(run_dir: Path) -> list[dict[str, Any]]:
    """The fault records written so far: the log may not exist yet (the run dir comes first), and its last
    line may be half written."""
    log = run_dir / "observations.jsonl"
    written = log.read_text().split("\n")[:-1] if log.exists() else []
    return [r for r in map(json.loads, written) if r["kind"] == "fault"]


def container_state(run_id: str, node: str) -> str:
    """The Docker state (running, paused, ...) of the run's container for one node."""
    found = subprocess.run(
        ["docker", "ps", "-a", "--filter", f"label=redis-drill.run-id={run_id}", "--format",
         "{{.Names}} {{.State}}"],
        capture_output=True, text=True, check=True,
    ).stdout.split("\n")  # fmt: skip
    return next(
        (line.split()[1] for line in found if line.split() and line.split()[0].endswith(node)), "gone"
    )


def toxics(api: str, link: str) -> list[str]:
    return [t["name"] for t in requests.get(f"http://{api}/proxies/{link}/toxics", timeout=2).json()]


# Local processes on sentinel-3; containers on a proxied cluster (per-peer cuts and proxy links in one drill).
CASES = {
    "local": ("sentinel-3", "sentinel-1", None),
    "docker": ("cluster-3-proxied", "redis-4", "redis-2"),
}


@pytest.mark.parametrize("backend", sorted(CASES))
def test_a_killed_harness_leaves_no_cut_no_frozen_node_and_no_toxic(tmp_path: Path, backend: str) -> None:
    environment, frozen_node, slowed_link = CASES[backend]
    latency = f"  - {{at: 1s, max: {MAX_S:g}s, network: {{link: {slowed_link}, latency: 20ms}}}}\n"
    scenario = tmp_path / "abandoned.yaml"
    scenario.write_text(
        f"name: abandoned\nenvironment: {ROOT / 'environments' / environment}.yaml\nseed: 7\n"
        "load:\n  duration: 30s\n  timeout: 500ms\n  workloads: {acked-writes: {users: 2, wait: 20ms}}\n"
        f"faults:\n  - {{at: 1s, max: {MAX_S:g}s, partition: {{between: [replica], and: [primary]}}}}\n"
        f"  - {{at: 1s, max: {MAX_S:g}s, pause: {{node: {frozen_node}, duration: 25s}}}}\n"
        + (latency if slowed_link else "")
        + "runbooks: []\n"
    )
    expected = {"partition", "pause"} | ({"network"} if slowed_link else set())
    runs = tmp_path / "runs"
    proc = start_drill("run", str(scenario), "--runs-dir", str(runs), "--backend", backend)
    try:
        wait_until(lambda: runs.exists() and any(runs.iterdir()), 30, "the run directory")
        run_dir = only_run_dir(runs)
        wait_until(
            lambda: {f["action"] for f in faults_of(run_dir)} >= expected, 90, f"the faults {expected}"
        )
        run_id = run_id_of(run_dir)
        api = next(r.get("proxy_api", "") for r in records(run_dir) if r["kind"] == "topology")
        state = state_of(backend, run_id, frozen_node)
        assert state() in FROZEN, f"{frozen_node} is not frozen: {state()}"
        assert table_name(run_id) in tables(run_id)
        if slowed_link:
            assert toxics(api, slowed_link) == ["drill_latency_upstream", "drill_latency_downstream"]
        killed_at = time.monotonic()
        os.kill(proc.pid, signal.SIGKILL)  # no teardown, no cleanup: only the watchdog is left to act
        proc.communicate()
        ended = {}
        wait_until(
            lambda: table_name(run_id) not in tables(run_id), MAX_S + 3, "the run's nftables tables to go"
        )
        ended["cut"] = time.monotonic() - killed_at
        wait_until(lambda: state() in RUNNING, MAX_S + 3, f"{frozen_node} to be thawed")
        ended["pause"] = time.monotonic() - killed_at
        if slowed_link:
            wait_until(lambda: toxics(api, slowed_link) == [], MAX_S + 3, "the latency toxic to go")
            ended["toxic"] = time.monotonic() - killed_at
        print(
            f"{backend}: after the harness's death, ended in "
            + ", ".join(f"{k} {v:.2f}s" for k, v in ended.items())
        )
        # The watchdog wrote when it ended each fault into the run's log, on the run's clock.
        ends = [r for r in records(run_dir) if r["kind"] == "fault_end"]
        assert {e["action"] for e in ends} == expected, ends
        assert all(e["outcome"] == "ended by the watchdog: the harness is gone" for e in ends), ends
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        cleaned = drill("cleanup")
        assert cleaned.returncode == 0, cleaned.stderr
    # drill cleanup removed the rest: the nodes (processes or containers, and the run's network), the proxy,
    # the watchdog, the scratch dir.
    if backend == "docker":
        assert run_resources(run_id) == []
    else:
        assert live_redis_processes(run_ports(run_dir)) == []
    assert not (work_root() / run_id).exists()
    assert [p for p in tagged_processes() if p.run_id == run_id] == []


def records(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "observations.jsonl").read_text().splitlines()]


def state_of(backend: str, run_id: str, node: str) -> Callable[[], str]:
    """The node's state: its process's (local: T stopped, S/R running), its container's (paused, running)."""
    if backend == "docker":
        return lambda: container_state(run_id, node)
    pid = registered_pid(work_root() / run_id, node)
    assert pid is not None
    return lambda: process_state(pid)
