"""Redis Cluster drills on real nodes: a 3-shard cluster created as operators do, loaded on every shard."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from harness.backends.secured import DATA_RULES, derive_password
from harness.core.secrets import Secret
from harness.core.slots import key_slot
from harness.runbooks.history import History
from harness.runbooks.lost_writes import lost_writes
from tests.conftest import ROOT, drill
from tests.integration.test_drills import run_and_read
from tests.integration.test_secured import SECURITY_CHECKS

pytestmark = pytest.mark.integration

NODE_TIMEOUT_S = 2.0  # environments/cluster-3.yaml


def on_environment(scenario: str, environment: str, tmp_path: Path) -> Path:
    """A copy of a shipped scenario that runs on another shipped environment file."""
    text = (ROOT / "scenarios" / scenario).read_text()
    copy = tmp_path / scenario
    copy.write_text(
        text.replace("../environments/cluster-3.yaml", str(ROOT / "environments" / environment)).replace(
            "../runbooks/", f"{ROOT}/runbooks/"
        )
    )
    assert environment in copy.read_text()
    return copy


def test_cluster_primary_kill_fails_over_within_node_timeout_and_loses_nothing(
    runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On cluster-3-secured: ACL users, TLS on client links, replication and the bus; no secret leaks."""
    master = f"drill-{secrets.token_urlsafe(16)}"
    monkeypatch.setenv("REDIS_DRILL_SECRET", master)
    scenario = on_environment("cluster-primary-kill.yaml", "cluster-3-secured.yaml", tmp_path)
    code, report, run_dir, stdout = run_and_read(scenario, runs, quiet=False)
    failed = [c["name"] for c in report["checks"] if c["status"] != "pass"]
    assert code == 0, (failed, stdout)
    checks = {c["name"]: c for c in report["checks"]}
    for name in (*SECURITY_CHECKS, "security: cluster bus without TLS refused"):
        assert checks[name]["status"] == "pass" and "redis-6" in checks[name]["evidence"], checks[name]
    assert any("TLS on client, replication and cluster bus links" in n for n in report["notes"])
    conf = (run_dir / "config" / "redis-4.conf").read_text()
    assert "tls-cluster yes" in conf and "user default off" in conf and "drill-sentinel" not in conf
    passwords = [derive_password(Secret(master), f"redis:{role}").reveal() for role in DATA_RULES]
    needles = [master.encode(), *(p.encode() for p in passwords), b"PRIVATE KEY"]
    files = [f for f in run_dir.rglob("*") if f.is_file()]
    assert len(files) > 10
    assert [(str(f), n) for f in files for n in needles if n in f.read_bytes()] == []
    assert [n for n in needles if n in stdout.encode()] == []
    # Suspected no sooner than node-timeout (nothing else can tell the node is gone), failed over after it.
    assert NODE_TIMEOUT_S <= report["mttd_s"] < NODE_TIMEOUT_S + 1.5, report["mttd_s"]
    assert report["mttr_s"] is not None and NODE_TIMEOUT_S < report["mttr_s"] < NODE_TIMEOUT_S + 4.5
    assert report["lost_writes"] == 0 and report["acknowledged_writes"] > 2000
    # Counted per shard: every acknowledged write on one of the three, none lost on any.
    shards = report["lost_by_shard"]
    assert [s["shard"] for s in shards] == ["redis-1", "redis-2", "redis-3"] and not any(
        s["lost"] for s in shards
    )
    assert sum(s["acknowledged"] for s in shards) == report["acknowledged_writes"]
    records = [json.loads(line) for line in (run_dir / "observations.jsonl").read_text().splitlines()]
    # The load reached every shard, and the fault was visible to it.
    (topology,) = [r for r in records if r["kind"] == "topology"]
    acked = [r["key"] for r in records if r["kind"] == "op" and r["type"] == "ok" and r.get("f") == "write"]
    for shard in topology["shards"]:
        first, last = shard["slots"]
        assert any(first <= key_slot(key) <= last for key in acked), shard
    assert report["load"]["fail"] > 0, report["load"]
    # redis-1's replica took its slots, as the surviving nodes saw it.
    promoted = [
        r for r in records if r["kind"] == "cluster" and r.get("view", {}).get("redis-4", {}).get("slots")
    ]
    assert promoted and promoted[-1]["view"]["redis-4"]["role"] == "primary"
    assert "redis-1 failed" in stdout or "cluster_node_flagged failed" in stdout


def test_cluster_reshard_moves_slots_under_load_and_loses_nothing(runs: Path) -> None:
    """With --secure: MIGRATE logs in to the target as the operator (AUTH2) over the bus's TLS."""
    scenario = ROOT / "scenarios" / "cluster-reshard.yaml"
    code, report, run_dir, stdout = run_and_read(scenario, runs, "--secure")
    failed = [c["name"] for c in report["checks"] if c["status"] != "pass"]
    assert code == 0, (failed, stdout)
    assert any("cluster bus" in note for note in report["notes"]), report["notes"]
    assert report["lost_writes"] == 0 and report["acknowledged_writes"] > 2000
    assert report["load"]["fail"] == 0 and report["load"]["redirects"].get("MOVED", 0) > 0, report["load"]
    records = [json.loads(line) for line in (run_dir / "observations.jsonl").read_text().splitlines()]
    (end,) = [r for r in records if r["kind"] == "fault_end" and r["action"] == "reshard"]
    assert end["slots"] == 300 and end["keys"] >= 30_000, end
    # The nodes agree that redis-2 now serves its own third plus the 300 slots.
    last_views = {r["node"]: r for r in records if r["kind"] == "cluster" and "view" in r}
    assert {v["view"]["redis-2"]["slots"] for v in last_views.values()} == {5461 + 300}
    assert "cluster redirects" in stdout


def test_cluster_of_two_shards_is_bad_input_before_anything_starts(tmp_path: Path) -> None:
    env = tmp_path / "env.yaml"
    env.write_text((ROOT / "environments" / "cluster-3.yaml").read_text().replace("shards: 3", "shards: 2"))
    scenario = tmp_path / "s.yaml"
    text = (ROOT / "scenarios" / "cluster-primary-kill.yaml").read_text()
    scenario.write_text(
        text.replace("../environments/cluster-3.yaml", str(env)).replace(
            "../runbooks", str(ROOT / "runbooks")
        )
    )
    result = drill("run", str(scenario), "--runs-dir", str(tmp_path / "runs"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{env}:" in result.stderr and "cluster.shards: a cluster needs at least 3 shards" in result.stderr
    assert not (tmp_path / "runs").exists()


def test_cluster_partition_the_minority_refuses_after_node_timeout_and_loses_only_until_then(
    runs: Path,
) -> None:
    code, report, run_dir, stdout = run_and_read(ROOT / "scenarios" / "cluster-partition.yaml", runs)
    failed = [c["name"] for c in report["checks"] if c["status"] != "pass"]
    assert code == 0, (failed, stdout)
    checks = {c["name"]: c for c in report["checks"]}
    refused = checks["detect: keys_refused incident-shard CLUSTERDOWN"]["measured"]
    # The cut-off primary keeps acknowledging for a whole node-timeout (nothing tells it sooner), then stops;
    # what it lost was acknowledged in that window.
    assert NODE_TIMEOUT_S <= refused < NODE_TIMEOUT_S + 2.0, refused
    assert 0 < report["lost_writes"] < report["acknowledged_writes"] / 5, report["lost_writes"]
    records = [json.loads(line) for line in (run_dir / "observations.jsonl").read_text().splitlines()]
    # Every lost write was sent before redis-1's first refusal of its own keys came back (an ack's own time is
    # when the client read it, which a loaded machine can delay past that refusal; the majority's refusals of
    # every key once it flags redis-1 failed can come before redis-1's own).
    incident = next(float(r["t"]) for r in records if r["kind"] == "fault" and r["action"] == "partition")
    sent = {
        r["key"]: float(r["t0"])
        for r in records
        if r["kind"] == "op" and r["type"] == "ok" and r.get("f") == "write"
    }
    lost = lost_writes(History(tuple(records))).lost
    assert lost and max(sent[key] for key, _ in lost) - incident < refused, lost[-1]
    # The clients found the promoted replica while the cut lasted (it heals at +6 s): a CLUSTERDOWN reply has
    # them read the slot map from another node than the one refusing.
    assert checks["verify: writable"]["measured"] < 6.0, checks["verify: writable"]
    # Only the cut-off primary's shard lost anything.
    by_shard = {s["shard"]: (s["lost"], s["acknowledged"]) for s in report["lost_by_shard"]}
    assert by_shard["redis-1"][0] == report["lost_writes"], by_shard
    assert by_shard["redis-2"][0] == by_shard["redis-3"][0] == 0 and by_shard["redis-2"][1] > 1000, by_shard
    (cut,) = [r for r in records if r["kind"] == "fault" and r["action"] == "partition"]
    assert cut["groups"] == {
        "between": ["redis-1"],
        "and": ["redis-2", "redis-3", "redis-4", "redis-5", "redis-6"],
    }
    # After the heal redis-1 rejoined as redis-4's replica, as every node sees it.
    last_views = {r["node"]: r for r in records if r["kind"] == "cluster" and "view" in r}
    assert {v["view"]["redis-1"]["role"] for v in last_views.values()} == {"replica"}, last_views


def test_a_fault_on_one_shards_link_reaches_that_shards_keys_alone(runs: Path) -> None:
    """cluster-shard-link: 50 ms on redis-2's proxied link, then TRYAGAIN on it. The load reaches every node
    through its link while the slot map names the nodes' own addresses, so only redis-2's keys slow down and
    fail; the report's per-shard latency shows it."""
    code, report, run_dir, stdout = run_and_read(ROOT / "scenarios" / "cluster-shard-link.yaml", runs)
    failed = [c["name"] for c in report["checks"] if c["status"] != "pass"]
    assert code == 0, (failed, stdout)
    shards = {s["shard"]: s for s in report["latency_by_shard"]}
    assert sorted(shards) == ["redis-1", "redis-2", "redis-3"]
    slow = shards["redis-2"]["during"]
    assert slow["p50_us"] >= 50_000 and slow["failed"] > 100, slow  # the link's latency, then TRYAGAIN
    for name in ("redis-1", "redis-3"):
        during = shards[name]["during"]
        assert during["ok"] > 300 and during["failed"] == 0 and during["p99_us"] < 25_000, (name, during)
    assert shards["redis-2"]["after"]["p99_us"] < 25_000, shards["redis-2"]
    errors = report["load"]["errors"]
    assert set(errors) == {"TRYAGAIN"}, errors
    records = [json.loads(line) for line in (run_dir / "observations.jsonl").read_text().splitlines()]
    (topology,) = [r for r in records if r["kind"] == "topology"]
    slots = next(s["slots"] for s in topology["shards"] if s["primary"] == "redis-2")
    refused = [r["key"] for r in records if r["kind"] == "op" and r.get("error") == "TRYAGAIN"]
    assert refused and all(slots[0] <= key_slot(key) <= slots[1] for key in refused)
    assert "latency by shard" in stdout and "redis-2: p99" in stdout
