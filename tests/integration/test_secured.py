"""Secured topologies: ACL users per role with the default user off and TLS on every link. Shipped drills
pass on them unchanged, the security probes are refused, and no secret reaches any artifact."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

import pytest

from harness.backends.local import LocalBackend
from harness.backends.secured import DATA_RULES, SENTINEL_RULES, derive_password
from harness.core.run_context import RunContext
from harness.core.secrets import Secret
from harness.scenario.loader import load_environment
from tests.conftest import ROOT, drill, live_redis_processes, only_run_dir, run_ports
from tests.integration.test_audit import verdicts as audit_verdicts

pytestmark = pytest.mark.integration

SECURITY_CHECKS = (
    "security: client without credentials refused",
    "security: client without TLS refused",
    "security: load user refused an operator's command",
)


def report_of(run_dir: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((run_dir / "report.json").read_text())
    return report


def test_primary_failover_passes_unchanged_secured_and_no_secret_reaches_any_artifact(
    runs: Path, tmp_path: Path
) -> None:
    """primary-failover with --secure, on environments/sentinel-3-secured.yaml, whose passwords derive from a
    named secret: the drill passes unchanged, every security probe is refused, and neither the secret, a
    password derived from it nor a private key reaches a file of the run or its output."""
    master = f"drill-{secrets.token_urlsafe(16)}"
    text = (ROOT / "scenarios" / "primary-failover.yaml").read_text()
    scenario = tmp_path / "primary-failover-secured.yaml"
    scenario.write_text(
        text.replace(
            "../environments/sentinel-3.yaml", str(ROOT / "environments" / "sentinel-3-secured.yaml")
        ).replace("../runbooks/", f"{ROOT}/runbooks/")
    )
    assert "sentinel-3-secured" in scenario.read_text()
    result = drill(
        "run", str(scenario), "--secure", "--runs-dir", str(runs),
        env={**os.environ, "REDIS_DRILL_SECRET": master},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    run_dir = only_run_dir(runs)
    report = report_of(run_dir)
    checks = {c["name"]: c for c in report["checks"]}
    for name in SECURITY_CHECKS:
        assert checks[name]["status"] == "pass", checks[name]
    # Every node, Sentinels included, was asked: none answered.
    assert "sentinel-3" in checks["security: client without TLS refused"]["evidence"]
    assert "NOPERM" in checks["security: load user refused an operator's command"]["evidence"]
    assert report["lost_writes"] == 0 and report["acknowledged_writes"] > 1000
    assert any("ACL users per role" in note and "Sentinel links" in note for note in report["notes"])
    conf = (run_dir / "config" / "redis-2.conf").read_text()
    assert "port 0" in conf and "tls-replication yes" in conf and "user default off" in conf
    assert "masteruser drill-replication" in conf and "masterauth <secret>" in conf
    assert live_redis_processes(run_ports(run_dir)) == []
    passwords = [
        derive_password(Secret(master), f"{where}:{role}").reveal()
        for where, rules in (("redis", DATA_RULES), ("sentinel", SENTINEL_RULES))
        for role in rules
    ]
    # The configurations held them (blanked in the run dir's copies): one per user and login line.
    blanked = (run_dir / "config" / "sentinel-1.conf").read_text().count("<secret>")
    assert blanked == len(SENTINEL_RULES) + 2, blanked
    needles = [master.encode(), *(p.encode() for p in passwords), b"PRIVATE KEY"]
    files = [f for f in run_dir.rglob("*") if f.is_file()]
    assert len(files) > 10
    leaks = [(str(f), n) for f in files for n in needles if n in f.read_bytes()]
    assert leaks == []
    output = (result.stdout + result.stderr).encode()
    assert [n for n in needles if n in output] == []


def test_audit_of_a_secured_topology_passes_acl_and_tls(runs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`drill audit` logs in as an ACL user over TLS with a client certificate, and judges R6/R7 pass;
    without a client certificate the server refuses it."""
    monkeypatch.setenv("REDIS_DRILL_SECRET", f"audit-{secrets.token_urlsafe(12)}")
    env = load_environment(ROOT / "environments" / "sentinel-3-secured.yaml")
    run = RunContext.create(runs, "audit-secured")
    backend = LocalBackend(env, run)
    try:
        topology = backend.up()
        primary = topology.node(topology.initial_primary)
        login = topology.credentials("operator", primary)
        assert login.tls is not None and login.username == "drill-operator" and login.password is not None
        tls = [
            "--tls-ca-cert",
            login.tls.ca,
            "--tls-cert",
            str(login.tls.cert),
            "--tls-key",
            str(login.tls.key),
        ]
        args = [
            "audit",
            "--host",
            primary.host,  # every node has its own loopback address
            "--port",
            str(primary.port),
            "--user",
            "drill-operator",
            "--password-env",
            "AUDIT_PW",
        ]
        secret_env = {**os.environ, "AUDIT_PW": login.password.reveal()}
        result = drill(*args, *tls, env=secret_env)
        seen = audit_verdicts(result.stdout)
        assert seen["R6"] == "pass" and seen["R7"] == "pass", result.stdout + result.stderr
        # Both replicas online over TLS with masteruser; the lag band is the machine's business.
        assert seen["D5"] != "FAIL" and "2 replica(s), 0 not online" in result.stdout, result.stdout
        assert "default off" in result.stdout and "port 0" in result.stdout
        assert login.password.reveal() not in result.stdout + result.stderr
        no_cert = drill(*args, "--tls-ca-cert", login.tls.ca, env=secret_env)
        assert no_cert.returncode == 3 and "Traceback" not in no_cert.stderr, no_cert.stderr
    finally:
        backend.down()
