"""Drills on a deployment the harness did not start, found by address and acted on through the team's own
commands (environment `external`): nothing of theirs lost or left changed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, drill, only_run_dir
from tests.their_deployment import Deployment, their_deployment

pytestmark = pytest.mark.integration

THEIR_KEYS = 1000
# What a failover changes by design (roles), and what the server itself moves: not the harness's doing.
VOLATILE_CONFIG = {"replicaof", "slaveof"}


def their_state(deployment: Deployment) -> tuple[dict[Any, Any], dict[str, dict[Any, Any]]]:
    """DUMP of each of their keys (on the primary), and every data node's CONFIG GET *."""
    client = deployment.primary().client()
    dumps = {key: client.dump(key) for key in client.scan_iter(match="their:*", count=1000)}
    configs = {
        p.name: {k: v for k, v in p.client().config_get("*").items() if str(k) not in VOLATILE_CONFIG}
        for p in deployment.data
    }
    return dumps, configs


def on_their_deployment(deployment: Deployment, tmp_path: Path, scenario: str) -> Path:
    env = tmp_path / "their-staging.yaml"
    env.write_text(deployment.environment_yaml())
    copy = tmp_path / scenario
    text = (ROOT / "scenarios" / scenario).read_text()
    copy.write_text(
        text.replace("../environments/sentinel-3.yaml", str(env)).replace("../runbooks/", f"{ROOT}/runbooks/")
    )
    assert str(env) in copy.read_text()
    return copy


def test_primary_failover_on_their_deployment_leaves_it_as_found(tmp_path: Path) -> None:
    with their_deployment(tmp_path / "theirs") as deployment:
        primary = deployment.primary().client()
        for i in range(THEIR_KEYS):
            primary.set(f"their:{i}", f"value-{i}" * 8)
        primary.hset("their:hash", mapping={"a": 1, "b": 2})
        primary.execute_command("WAIT", 2, 2000)
        before = their_state(deployment)
        assert len(before[0]) == THEIR_KEYS + 1
        scenario = on_their_deployment(deployment, tmp_path, "primary-failover.yaml")
        runs = tmp_path / "runs"
        refused = drill("run", str(scenario), "--runs-dir", str(runs))
        assert refused.returncode == 2 and "--allow-external-faults" in refused.stderr, refused.stderr
        result = drill("run", str(scenario), "--runs-dir", str(runs), "--allow-external-faults")
        run_dir = only_run_dir(runs)
        report = json.loads((run_dir / "report.json").read_text())
        failed = [c for c in report["checks"] if c["status"] != "pass"]
        assert result.returncode == 0, (failed, result.stdout, result.stderr)
        records = [json.loads(line) for line in (run_dir / "observations.jsonl").read_text().splitlines()]
        controls = [
            (r["action"], r["node"], r["exit"])
            for r in records
            if r["kind"] == "control" and r["action"] != "status"  # asked before choosing a target
        ]
        assert controls == [("kill", "redis-1", 0), ("start", "redis-1", 0)], controls
        (cleanup,) = [r for r in records if r["kind"] == "cleanup"]
        assert cleanup["healthy"] and cleanup["keys_removed"] >= report["acknowledged_writes"] > 1000, cleanup
        assert deployment.healthy()
        after = their_state(deployment)
        assert after[0] == before[0]  # every key of theirs, byte for byte
        assert after[1] == before[1]
        leftovers = list(deployment.primary().client().scan_iter(match="drill:*", count=1000))
        assert leftovers == [] and list(deployment.primary().client().scan_iter(match="{drill:*")) == []
