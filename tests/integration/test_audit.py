"""`drill audit` against real servers: Debian's default configuration, a hardened one, and bad targets."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from harness.backends.local import LocalBackend, free_port
from harness.core.run_context import RunContext
from harness.scenario.loader import load_environment
from tests.conftest import ROOT, drill, wait_until

pytestmark = pytest.mark.integration
DEBIAN_CONF = Path("/etc/redis/redis.conf")


@contextlib.contextmanager
def start(tmp_path: Path, *args: str) -> Iterator[int]:
    port = free_port()
    server = subprocess.Popen(
        [
            "redis-server",
            *args,
            "--port",
            str(port),
            "--daemonize",
            "no",
            "--pidfile",
            "",
            "--logfile",
            "",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    password = next((args[i + 1] for i, a in enumerate(args) if a == "--requirepass"), None)
    client = redis.Redis(port=port, password=password, socket_timeout=0.5)

    def up() -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    try:
        wait_until(up, 10, "redis-server")
        yield port
    finally:
        server.kill()
        server.wait()


def verdicts(output: str) -> dict[str, str]:
    """item -> verdict, from the audit table."""
    found = {}
    for line in output.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] in ("pass", "WARN", "FAIL"):
            found[words[1]] = words[0]
    return found


@pytest.fixture
def debian_default(tmp_path: Path) -> Iterator[int]:
    assert DEBIAN_CONF.is_file(), "Debian's redis-server package ships /etc/redis/redis.conf"
    with start(tmp_path, str(DEBIAN_CONF)) as port:
        yield port


def test_debian_defaults_get_sensible_verdicts(debian_default: int, tmp_path: Path) -> None:
    result = drill("audit", "--port", str(debian_default), "--runs-dir", str(tmp_path / "no-runs"))
    assert result.returncode == 1, result.stdout + result.stderr
    seen = verdicts(result.stdout)
    assert seen["R1"] == "FAIL"  # standalone: no replica
    assert seen["R4"] == "FAIL"  # appendonly no, save 3600 1 ...
    assert seen["R6"] == "FAIL" and seen["R7"] == "FAIL"  # open default user, no TLS
    assert seen["R8"] == "pass"  # bind 127.0.0.1 -::1, protected-mode yes
    assert seen["R10"] == "FAIL"
    assert seen["R3"] == "WARN" and seen["R9"] == "WARN"
    for setting in (
        "slowlog-log-slower-than",
        "slowlog-max-len",
        "maxclients",
        "timeout",
        "tcp-keepalive",
        "tcp-backlog",
        "client-output-buffer-limit",
    ):
        assert seen[setting] == "pass", setting
    assert seen["lazyfree-lazy-eviction"] == "WARN"
    # The debug checklist: no maxmemory to measure against, latency monitor off, no replica; the rest fine.
    assert (seen["D1"], seen["D3"], seen["D5"]) == ("WARN", "WARN", "WARN"), result.stdout
    assert all(seen[item] == "pass" for item in ("D2", "D4", "D6", "D7", "D8")), result.stdout


def test_hardened_server_passes_persistence_memory_and_acl(tmp_path: Path) -> None:
    secret = "s3cret-audit-pass"
    with start(
        tmp_path,
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--aof-use-rdb-preamble",
        "yes",
        "--save",
        "900 1 300 10 60 10000",
        "--maxmemory",
        "64mb",
        "--maxmemory-policy",
        "allkeys-lru",
        "--lazyfree-lazy-eviction",
        "yes",
        "--lazyfree-lazy-expire",
        "yes",
        "--lazyfree-lazy-server-del",
        "yes",
        "--requirepass",
        secret,
    ) as port:
        client = redis.Redis(port=port, password=secret)
        client.acl_setuser(
            "app", enabled=True, passwords=["+app-pass"], keys=["app:*"], commands=["+get", "+set"]
        )
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "harness",
                "audit",
                "--port",
                str(port),
                "--password-env",
                "AUDIT_PASSWORD",
            ],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "AUDIT_PASSWORD": secret},
            cwd=ROOT,
        )
        seen = verdicts(result.stdout)
        assert seen["R4"] == "pass" and seen["R10"] == "pass" and seen["R11"] == "pass", result.stdout
        assert seen["R6"] == "pass" and seen["lazyfree-lazy-expire"] == "pass"
        assert secret not in result.stdout + result.stderr
        refused = drill("audit", "--port", str(port))
        assert refused.returncode == 3 and "refused the credentials" in refused.stderr
        assert secret not in refused.stdout + refused.stderr


def test_audit_refuses_addresses_off_this_machine() -> None:
    result = drill("audit", "--host", "10.0.0.7")
    assert result.returncode == 2
    assert "not a loopback address" in result.stderr and "Traceback" not in result.stderr


def test_cluster_items_on_a_live_cluster_and_after_a_replica_is_lost(
    runs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`drill audit --cluster` on a node of cluster-3-secured (ACL user, TLS with a client certificate):
    state, slots and replicas pass, and ACL and TLS; every node shares this machine (warn). Once redis-4
    (redis-1's replica) is killed and flagged failed, redis-1 has no replica."""
    monkeypatch.setenv("REDIS_DRILL_SECRET", "audit-cluster-secret")
    env = load_environment(ROOT / "environments" / "cluster-3-secured.yaml")
    backend = LocalBackend(env, RunContext.create(runs, "audit-cluster"))
    try:
        topology = backend.up()
        node = topology.node("redis-2")
        login = topology.credentials("operator", node)
        assert login.tls is not None and login.password is not None and login.tls.cert and login.tls.key
        args = (
            "audit", "--host", node.host, "--port", str(node.port), "--cluster", "--runs-dir", str(runs),
            "--user", "drill-operator", "--password-env", "AUDIT_PW",
            "--tls-ca-cert", login.tls.ca, "--tls-cert", login.tls.cert, "--tls-key", login.tls.key,
        )  # fmt: skip
        secret_env = {**os.environ, "AUDIT_PW": login.password.reveal()}
        first: list[dict[str, str]] = []

        def cluster_items_judged() -> bool:
            # The slots are served before every node has heard of every replica: gossip takes a moment.
            first.append(verdicts(drill(*args, env=secret_env).stdout))
            return first[-1].get("C3") == "pass"

        wait_until(cluster_items_judged, 15, "the audit to see every primary's replica")
        seen = first[-1]
        assert (seen["R2"], seen["C1"], seen["C2"], seen["C4"]) == ("pass", "pass", "pass", "WARN"), seen
        assert (seen["R6"], seen["R7"]) == ("pass", "pass"), seen
        backend.kill("redis-4")
        redis_1 = topology.node("redis-1").host  # as the cluster announces it: its own loopback address
        outputs: list[str] = []

        def redis_1_alone() -> bool:
            outputs.append(drill(*args, env=secret_env).stdout)
            return verdicts(outputs[-1]).get("C3") == "FAIL"

        wait_until(redis_1_alone, 15, "the audit to find redis-1 without a replica")
        assert f"{redis_1}:" in outputs[-1], outputs[-1]  # the only address listed: the primary left alone
    finally:
        backend.down()
