"""A drill whose load runs on a remote Locust worker: `drill worker` in a network namespace of its own (made
here: its own address, a veth pair whose host end joins the run's Docker bridge), against the Docker
backend's topology, which it reaches as another machine on that network would."""

from __future__ import annotations

import json
import secrets
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from harness.backends.docker_network import LABEL_SCENARIO
from tests.conftest import ROOT, docker_unavailable, only_run_dir, start_drill, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.docker]
if why := docker_unavailable():
    pytest.skip(why, allow_module_level=True)


def ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"ip {' '.join(args)}: {done.stderr}"


@pytest.fixture
def namespace() -> Iterator[str]:
    """A network namespace with a loopback and one end of a veth pair (wired to a bridge by the test)."""
    name = f"dw{secrets.token_hex(3)}"
    ip("netns", "add", name)
    try:
        ip("netns", "exec", name, "ip", "link", "set", "lo", "up")
        ip("link", "add", f"{name}h", "type", "veth", "peer", "name", f"{name}n", "netns", name)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)  # takes the veth pair with it
        subprocess.run(["ip", "link", "del", f"{name}h"], capture_output=True, check=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("0.0.0.0", 0))
        return int(probe.getsockname()[1])


def test_a_drill_with_a_remote_worker_in_its_own_namespace_passes(tmp_path: Path, namespace: str) -> None:
    name = f"remote-worker-{secrets.token_hex(3)}"
    scenario = tmp_path / "remote.yaml"
    text = (ROOT / "scenarios" / "primary-failover.yaml").read_text()
    text = text.replace("name: primary-failover", f"name: {name}").replace("../", f"{ROOT}/")
    scenario.write_text(text)
    port = free_port()
    runs = tmp_path / "runs"
    drill_proc = start_drill(
        "run", str(scenario), "--backend", "docker", "--runs-dir", str(runs),
        "--workers", "1", "--master-bind", f"0.0.0.0:{port}",
    )  # fmt: skip
    worker: subprocess.Popen[str] | None = None
    client = docker.from_env()
    try:
        networks: list[object] = []

        def network_made() -> bool:
            assert drill_proc.poll() is None, drill_proc.communicate()
            networks[:] = client.networks.list(filters={"label": f"{LABEL_SCENARIO}={name}"})
            return bool(networks)

        wait_until(network_made, 60, "the run's Docker network")
        (network,) = client.networks.list(filters={"label": f"{LABEL_SCENARIO}={name}"})
        (pool,) = network.attrs["IPAM"]["Config"]
        gateway, prefix = pool["Gateway"], pool["Subnet"].split("/")[1]
        address = ".".join([*gateway.split(".")[:3], "250"])  # Docker gives containers the low addresses
        ip("link", "set", f"{namespace}h", "master", f"br-{network.id[:12]}", "up")
        inside = ("ip", "netns", "exec", namespace)
        ip(*inside[1:], "ip", "addr", "add", f"{address}/{prefix}", "dev", f"{namespace}n")
        ip(*inside[1:], "ip", "link", "set", f"{namespace}n", "up")
        worker = subprocess.Popen(
            [*inside, sys.executable, "-m", "harness", "worker", "--master", f"{gateway}:{port}"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        out, err = drill_proc.communicate(timeout=240)
        worker_out, _ = worker.communicate(timeout=30)
    finally:
        for proc in (drill_proc, worker):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                proc.communicate(timeout=60)
    assert drill_proc.returncode == 0, out + err + worker_out
    assert worker.returncode == 0 and f"joined from {address}" in worker_out, worker_out
    run_dir = only_run_dir(runs)
    report = json.loads((run_dir / "report.json").read_text())
    assert report["lost_writes"] == 0 and report["checks"], report
    records = [json.loads(line) for line in (run_dir / "observations.jsonl").open()]
    start, stop = (r for r in records if r["kind"] == "load")
    (joined,) = start["remote_workers"]
    assert joined["address"] == address and joined["index"] == 1 and joined["clock_uncertainty"] < 0.05
    assert "unfinished_workers" not in stop
    # The worker's operations and stats are in the drill's log, on the drill's clock, inside the load.
    ops = [r for r in records if r["kind"] == "op"]
    users = {int(r["value"].split(":")[0]) for r in ops}  # acked-writes writes "user:seq"
    assert len(ops) > 500 and {u // 1_000_000 for u in users} == {1}, ops[:3]  # worker 1's user ids
    assert all(start["t"] <= r["t0"] <= r["t"] <= stop["t"] for r in ops)
    stats = [r for r in records if r["kind"] == "stats"]
    assert stats and {r["worker"] for r in stats} == {1}
    assert sum(r["ok"] for r in stats) >= len([r for r in ops if r["type"] == "ok"])
