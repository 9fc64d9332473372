"""docker-compose.yml: after `drill image build`, the lab comes up offline with replication and a Sentinel
quorum, and goes away without a trace."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import docker
import pytest
import redis

from tests.conftest import ROOT, docker_unavailable, drill, wait_until
from tests.integration.test_audit import verdicts as audit_verdicts

# One worker of the suite's two runs the lab's projects: each Compose up and down is minutes of Docker
# work that two at once would only slow.
pytestmark = [pytest.mark.integration, pytest.mark.docker, pytest.mark.xdist_group("compose-lab")]

if (why := docker_unavailable()) is not None:
    pytest.skip(why, allow_module_level=True)

SENTINELS = ("sentinel-1", "sentinel-2", "sentinel-3")


def compose(project: str, *args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    assert binary is not None, "docker-compose is not installed (scripts/install-system-packages.sh --test)"
    env = {k: v for k, v in os.environ.items() if k != "REDIS_DRILL_IMAGE"}
    return subprocess.run(
        [binary, "-p", project, *args], cwd=ROOT, capture_output=True, text=True, timeout=180, env=env
    )


@pytest.fixture
def lab() -> Iterator[str]:
    """The lab under a project name of its own; afterwards `down -v` must leave nothing of it."""
    built = drill("image", "build")
    assert built.returncode == 0, built.stderr
    project = f"drilllab{secrets.token_hex(3)}"
    client = docker.from_env()
    label = {"label": f"com.docker.compose.project={project}"}
    try:
        up = compose(project, "--profile", "monitoring", "up", "-d")
        assert up.returncode == 0, up.stderr
        assert len(client.containers.list(filters=label)) == 8
        yield project
    finally:
        down = compose(project, "--profile", "monitoring", "down", "-v", "--remove-orphans")
        assert down.returncode == 0, down.stderr
    assert client.containers.list(all=True, filters=label) == []
    assert client.networks.list(filters=label) == []
    assert client.volumes.list(filters=label) == []


def published(project: str, service: str, port: int) -> redis.Redis:
    out = compose(project, "port", service, str(port)).stdout.strip()
    host, _, mapped = out.rpartition(":")
    assert host == "127.0.0.1", f"{service} published on {out!r}, expected loopback only"
    return redis.Redis(host=host, port=int(mapped), socket_timeout=1, decode_responses=True)


def test_compose_lab_replicates_and_has_a_sentinel_quorum(lab: str) -> None:
    primary = published(lab, "redis-1", 6379)

    def replicas_online() -> bool:
        info = primary.info("replication")
        states = [v.get("state") for k, v in info.items() if k.startswith("slave") and isinstance(v, dict)]
        return states == ["online", "online"]

    wait_until(replicas_online, 30, "two replicas online on redis-1")
    primary.set("lab:probe", "written-on-the-primary")
    for replica in ("redis-2", "redis-3"):
        client = published(lab, replica, 6379)

        def replicated(client: redis.Redis = client) -> bool:
            return bool(client.get("lab:probe") == "written-on-the-primary")

        wait_until(replicated, 10, f"{replica} to replicate")
    networks = docker.from_env().containers.get(f"{lab}_redis-1_1").attrs["NetworkSettings"]["Networks"]
    expected_ip = next(iter(networks.values()))["IPAddress"]

    def quorum_agrees() -> bool:
        for service in SENTINELS:
            state: Any = published(lab, service, 26379).sentinel_master("mymaster")
            if (state["ip"], state["num-slaves"], state["num-other-sentinels"]) != (expected_ip, 2, 2):
                return False
        return True

    wait_until(quorum_agrees, 30, "all three Sentinels to agree on redis-1 with 2 replicas and 2 peers")
    assert (
        published(lab, "sentinel-1", 26379)
        .execute_command("SENTINEL", "CKQUORUM", "mymaster")
        .startswith("OK")
    )
    # The monitoring profile: Prometheus scrapes the three nodes through the exporter, with the rules loaded.
    out = compose(lab, "port", "prometheus", "9090").stdout.strip()
    assert out.startswith("127.0.0.1:"), out
    api = f"http://{out}/api/v1"

    def get(path: str) -> Any:
        with urllib.request.urlopen(f"{api}/{path}", timeout=2) as response:
            return json.load(response)["data"]

    def all_up() -> bool:
        try:
            results = get("query?query=redis_up")["result"]
        except OSError:
            return False
        return sorted((r["metric"]["instance"], r["value"][1]) for r in results) == [
            (f"redis://redis-{i}:6379", "1") for i in (1, 2, 3)
        ]

    wait_until(all_up, 30, "Prometheus to see redis_up 1 for the three nodes")
    rules = {r["name"] for group in get("rules")["groups"] for r in group["rules"]}
    assert rules == {"RedisDown", "RedisMemoryHigh", "RedisReplicationBroken", "RedisTooManyConnections"}


def lab_drill(tmp_path: Path, project: str) -> Path:
    """scenarios/lab/primary-failover.yaml pointed at this test's lab (its own Compose project)."""
    env = (ROOT / "environments" / "compose-lab.yaml").read_text()
    (tmp_path / "lab.yaml").write_text(
        env.replace("compose_project: redis-drill", f"compose_project: {project}")
    )
    scenario = (ROOT / "scenarios" / "lab" / "primary-failover.yaml").read_text()
    scenario = scenario.replace("../../environments/compose-lab.yaml", str(tmp_path / "lab.yaml"))
    scenario = scenario.replace("../../runbooks/", f"{ROOT}/runbooks/")
    (tmp_path / "drill.yaml").write_text(scenario)
    return tmp_path / "drill.yaml"


def started_at(project: str) -> dict[str, str]:
    label = {"label": f"com.docker.compose.project={project}"}
    return {c.name: c.attrs["State"]["StartedAt"] for c in docker.from_env().containers.list(filters=label)}


def test_a_drill_targets_the_running_lab_only_when_allowed(lab: str, tmp_path: Path) -> None:
    scenario = lab_drill(tmp_path, lab)
    runs = tmp_path / "runs"
    before = started_at(lab)
    refused = drill("run", str(scenario), "--runs-dir", str(runs))
    assert refused.returncode == 2, refused.stderr
    assert "--allow-external-faults" in refused.stderr and "nothing was started or changed" in refused.stderr
    assert started_at(lab) == before and not runs.exists()

    result = drill("run", str(scenario), "--allow-external-faults", "--runs-dir", str(runs), "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    (report_file,) = runs.glob("*/report.json")
    report = json.loads(report_file.read_text())
    assert report["backend"] == "external" and report["lost_writes"] == 0
    # The lab is left running: the killed primary was started again, nothing else was touched.
    after = started_at(lab)
    assert sorted(after) == sorted(before)
    assert sum(after[name] != before[name] for name in before) == 1


@contextmanager
def lab_cluster(tmp_path: Path) -> Iterator[str]:
    """`--profile cluster up -d cluster-create`: six nodes made into three shards by redis-cli --cluster
    create, outside the harness, until the audit of one node's published port finds the cluster ok, every
    primary replicated, each replica in another container than its primary; `down -v` leaves nothing."""
    built = drill("image", "build")
    assert built.returncode == 0, built.stderr
    project = f"drillcluster{secrets.token_hex(3)}"
    label = {"label": f"com.docker.compose.project={project}"}
    client = docker.from_env()
    try:
        up = compose(project, "--profile", "cluster", "up", "-d", "cluster-create")
        assert up.returncode == 0, up.stderr
        assert len(client.containers.list(all=True, filters=label)) == 7  # no Sentinel lab with it
        port = published(project, "cluster-2", 6379).connection_pool.connection_kwargs["port"]
        audits: list[str] = []
        items = ("R2", "C1", "C2", "C3", "C4")

        def cluster_items_pass() -> bool:
            # The slots are served before every node has heard of every replica: gossip takes a moment.
            audits.append(
                drill("audit", "--port", str(port), "--cluster", "--runs-dir", str(tmp_path)).stdout
            )
            seen = audit_verdicts(audits[-1])
            return all(seen.get(item) == "pass" for item in items)

        wait_until(cluster_items_pass, 30, "the audit to pass the cluster items")
        assert "6 hosts" in audits[-1]  # every node in its own container, on its own address
        created = client.containers.get(f"{project}_cluster-create_1")
        assert created.attrs["State"]["ExitCode"] == 0, created.logs().decode()[-2000:]
        yield project
    finally:
        down = compose(project, "--profile", "cluster", "down", "-v", "--remove-orphans")
        assert down.returncode == 0, down.stderr
    assert client.containers.list(all=True, filters=label) == []
    assert client.networks.list(filters=label) == []


def test_compose_cluster_profile_makes_a_cluster_the_audit_passes_and_it_is_drilled_by_seeds(
    tmp_path: Path,
) -> None:
    with lab_cluster(tmp_path) as project:  # the audit's items pass, and the lab goes without a trace
        drill_the_cluster_by_seeds(project, tmp_path)


def drill_the_cluster_by_seeds(project: str, tmp_path: Path) -> None:
    """The lab's cluster, started outside the harness, drilled by seeds: its nodes found through CLUSTER
    NODES on their own network (external.networks), a shard's primary killed and started again with
    `docker kill` and `docker start`; cluster-primary-kill passes and every node is ok at the end."""
    client = docker.from_env()
    network = f"{project}_cluster"
    subnet = client.networks.get(network).attrs["IPAM"]["Config"][0]["Subnet"]
    nodes = {}
    for i in range(1, 7):
        container = client.containers.get(f"{project}_cluster-{i}_1")
        nodes[container.attrs["NetworkSettings"]["Networks"][network]["IPAddress"]] = container.name
    env = tmp_path / "lab-cluster.yaml"
    env.write_text(
        "name: lab-cluster\nconfirm: lab-cluster\ntopology: cluster\n"
        "cluster: {shards: 3, replicas_per_shard: 1, cluster-node-timeout: 2000}\nreadiness_timeout: 30s\n"
        f"external:\n  networks: [{subnet}]\n  seeds: [{', '.join(f'{ip}:6379' for ip in list(nodes)[:2])}]\n"
        "  control:\n    timeout: 30s\n"
        '    kill: [docker, kill, "{container}"]\n    start: [docker, start, "{container}"]\n'
        "  nodes:\n" + "".join(f"    {ip}:6379: {{container: {name}}}\n" for ip, name in nodes.items())
    )
    # The shipped drill, aimed at the lab's cluster (node timeout 2 s, as cluster-3's).
    text = (ROOT / "scenarios" / "cluster-primary-kill.yaml").read_text()
    scenario = tmp_path / "cluster-primary-kill.yaml"
    scenario.write_text(
        text.replace("../environments/cluster-3.yaml", str(env)).replace("../runbooks/", f"{ROOT}/runbooks/")
    )
    before = {name: command_calls(client, name) for name in nodes.values()}
    plan = drill("plan", str(scenario))
    assert plan.returncode == 0, plan.stdout + plan.stderr
    for name, calls in before.items():  # the plan read CLUSTER NODES and the node timeout, nothing else
        called = {c for c, n in command_calls(client, name).items() if n > calls.get(c, 0)}
        assert called <= {"info", "ping", "replconf", "cluster|nodes", "config|get", "hello", "command"}, (
            called
        )
    assert (
        "control kill: docker kill" in plan.stdout
        and "then, at the end of the drill: control start" in plan.stdout
    )
    runs = tmp_path / "cluster-runs"
    result = drill(
        "run", str(scenario), "--runs-dir", str(runs), "--allow-external-faults", "--target", "lab-cluster"
    )
    report = json.loads(next(runs.glob("*/report.json")).read_text())
    failed = [c for c in report["checks"] if c["status"] != "pass"]
    assert result.returncode == 0, (failed, result.stdout[-3000:], result.stderr[-3000:])
    done = [(c["action"], c["exit"]) for c in report["controls"]]
    assert done == [("kill", 0), ("start", 0)], done
    left = next(c for c in report["checks"] if c["name"] == "external: deployment left as it was found")
    assert "started redis-1" in left["evidence"], left
    for name in nodes.values():  # every node ok, and none of the run's keys left on any
        node = client.containers.get(name)
        assert node.status == "running", (name, node.status)
        state = node.exec_run(["redis-cli", "cluster", "info"]).output.decode()
        assert "cluster_state:ok" in state, (name, state)
        assert node.exec_run(["redis-cli", "--scan", "--pattern", "*drill*"]).output.strip() == b""


def command_calls(client: docker.DockerClient, container: str) -> dict[str, int]:
    """INFO commandstats of the node in the container: calls per command."""
    out = client.containers.get(container).exec_run(["redis-cli", "info", "commandstats"]).output.decode()
    return {
        line.split(":", 1)[0].removeprefix("cmdstat_"): int(line.split("calls=", 1)[1].split(",", 1)[0])
        for line in out.splitlines()
        if line.startswith("cmdstat_")
    }
