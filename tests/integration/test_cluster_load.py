"""The cluster load client on a real 3-primary cluster (the bench's scratch cluster): redirects followed and
counted; the crossslot workload's untagged MSETs refused with CROSSSLOT in a drill."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import redis

from harness.bench.processes import scratch_cluster
from harness.core.slots import key_slot
from harness.load.cluster_session import ClusterSession
from harness.load.resp import encode
from tests.conftest import ROOT, drill

pytestmark = pytest.mark.integration


def node_id(client: redis.Redis) -> str:
    return str(client.execute_command("CLUSTER", "MYID"))


def test_ask_while_a_slot_migrates_and_moved_after_are_followed_and_counted() -> None:
    with scratch_cluster() as nodes:
        source_addr, target_addr = nodes[0], nodes[1]  # redis-1 serves slots 0-5460
        key = next(f"k{i}" for i in range(1000) if key_slot(f"k{i}") < 5461)
        slot = key_slot(key)
        counted: Counter[str] = Counter()
        session = ClusterSession(tuple((n, n) for n in nodes), 2.0, redirects=counted)
        assert session.one(encode("SET", key, "before"), key) == b"OK"
        source = redis.Redis(*source_addr, decode_responses=True)
        target = redis.Redis(*target_addr, decode_responses=True)
        target.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", node_id(source))
        source.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", node_id(target))
        source.execute_command("MIGRATE", *target_addr, "", 0, 5000, "KEYS", key)
        # The key left the source mid-migration: the source answers ASK, the session asks the target.
        assert session.one(encode("GET", key), key) == b"before" and counted == {"ASK": 1}
        for client in (target, source, redis.Redis(*nodes[2])):
            client.execute_command("CLUSTER", "SETSLOT", slot, "NODE", node_id(target))
        assert session.one(encode("GET", key), key) == b"before"
        assert counted == {"ASK": 1, "MOVED": 1}
        assert session.one(encode("GET", key), key) == b"before" and counted["MOVED"] == 1  # map refreshed
        session.close()


SCENARIO = """
name: crossslot
environment: {root}/environments/cluster-3.yaml
load:
  duration: 2s
  timeout: 500ms
  retry: none
  workloads:
    crossslot: {{users: 2, wait: 5ms, tagged_ratio: 0.5}}
"""


def test_crossslot_workload_is_refused_on_a_cluster_without_a_hash_tag_only(tmp_path: Path) -> None:
    scenario = tmp_path / "crossslot.yaml"
    scenario.write_text(SCENARIO.format(root=ROOT))
    result = drill("run", str(scenario), "--runs-dir", str(tmp_path / "runs"), "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    (report_file,) = (tmp_path / "runs").glob("*/report.json")
    load = json.loads(report_file.read_text())["load"]
    # About half the MSETs had no hash tag: each one CROSSSLOT and nothing else; the tagged half acknowledged.
    total = load["ok"] + load["fail"]
    assert total > 100 and load["errors"] == {"CROSSSLOT": load["fail"]}, load
    assert 0.3 < load["fail"] / total < 0.7, load
