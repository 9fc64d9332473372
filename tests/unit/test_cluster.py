"""Cluster pieces that need no running node: hash slots, CLUSTER NODES parsing, the plan, the environment
file's rules, and the cluster checks on hand-made logs (one that passes, one that fails)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.clients.cluster import parse_info, parse_nodes
from harness.core.errors import ConfigError
from harness.core.slots import SLOTS, key_slot, slot_tags
from harness.runbooks.checks.registry import make_step, run_check
from harness.runbooks.history import History
from harness.runbooks.verdict import Verdict
from harness.scenario.durations import Bound
from harness.scenario.loader import load_environment, load_scenario
from harness.scenario.plan import plan
from tests.conftest import ROOT

Record = dict[str, Any]
KILL_AT = 3.0


def test_key_slot_is_the_servers_crc16_of_the_hash_tag() -> None:
    assert key_slot("123456789") == 12739  # CRC16/XMODEM's check value 0x31C3, as the cluster spec gives
    assert key_slot("{user1000}.following") == key_slot("{user1000}.followers") == key_slot("user1000")
    assert key_slot("{}x") != key_slot("x")  # an empty tag is no tag: the whole key counts
    assert key_slot("a{b}c{d}") == key_slot("b")  # only the first tag


def test_cluster_nodes_lines_are_parsed_with_flags_and_served_slots() -> None:
    text = (
        "e7d1 127.1.2.11:30001@40001 myself,master - 0 0 1 connected 0-5460\n"
        "67ed 127.1.2.14:30004@40004,host slave e7d1 0 1426238317239 4 connected\n"
        "292f 127.1.2.12:30002@40002 master,fail? - 0 1426238316232 2 connected 5461-10921 [5462->-67ed]\n"
        "3c3a 127.1.2.13:30003@40003 master,fail - 0 0 3 disconnected 10922 10923-16383\n"
    )
    first, replica, suspected, failed = parse_nodes(text)
    assert first.primary and first.slots == ((0, 5460),) and first.address == ("127.1.2.11", 30001)
    assert not replica.primary and replica.primary_id == "e7d1" and replica.address[1] == 30004
    assert "fail?" in suspected.flags and not suspected.failed and suspected.slot_count == 5461
    assert failed.failed and failed.slot_count == SLOTS - 10922
    assert parse_info("cluster_state:ok\r\ncluster_slots_ok:16384\r\n")["cluster_slots_ok"] == "16384"


def test_plan_deals_replicas_to_shards_and_splits_every_slot_once() -> None:
    layout = plan(load_environment(ROOT / "environments" / "cluster-3.yaml"))
    assert [s.nodes for s in layout.shards] == [
        ("redis-1", "redis-4"),
        ("redis-2", "redis-5"),
        ("redis-3", "redis-6"),
    ]
    spans = [s.slots for s in layout.shards]
    assert spans[0][0] == 0 and spans[-1][1] == SLOTS - 1
    assert all(spans[i][1] + 1 == spans[i + 1][0] for i in range(len(spans) - 1))
    assert layout.primary == "redis-1" and not any(n.kind == "sentinel" for n in layout.nodes)


def problems_of(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        (load_scenario if "environment:" in path.read_text() else load_environment)(path)
    return str(caught.value)


def test_cluster_environment_rules_are_bad_input_with_their_lines(tmp_path: Path) -> None:
    env = tmp_path / "env.yaml"
    env.write_text(
        "name: c\ntopology: cluster\nreplicas: 2\ncluster:\n  shards: 2\n"
        "proxy: {clients: true, replication: true}\n"
        "external: {compose_project: x}\n"
    )
    text = problems_of(env)
    assert f"{env}:3: replicas: is a Sentinel-only field" in text
    assert f"{env}:5: cluster.shards: a cluster needs at least 3 shards" in text
    assert f"{env}:6: proxy.replication: replication links are for Sentinel topologies" in text
    assert f"{env}:7: external.compose_project: an external cluster is found through its nodes" in text
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        f"name: s\nenvironment: {ROOT / 'environments' / 'cluster-3.yaml'}\nload:\n  duration: 5s\n"
        "  workloads: {acked-writes: {users: 1}}\nfaults:\n  - at: 1s\n    kill: sentinel-1\n"
        f"runbooks: [{ROOT / 'runbooks' / 'p1-redis-down.yaml'}]\n"
    )
    text = problems_of(scenario)
    assert f"{scenario}:8: faults[0].kill: 'sentinel-1' is a Sentinel" in text
    # A Sentinel runbook's bound names a setting a cluster does not have.
    assert "p1-redis-down.yaml:11: verify[0].sentinel_event.within: failover-timeout is not a setting" in text
    # Partition groups: a cluster has no Sentinels, a Sentinel topology has no other shards' primaries.
    partition = "faults:\n  - {at: 1s, partition: {between: [primary], and: [GROUP]}}\n"
    for env_file, group, kind in (
        ("cluster-3", "sentinels", "cluster"),
        ("sentinel-3", "primaries", "Sentinel"),
    ):
        scenario.write_text(
            f"name: s\nenvironment: {ROOT / 'environments' / env_file}.yaml\nload:\n  duration: 5s\n"
            "  workloads: {acked-writes: {users: 1}}\n" + partition.replace("GROUP", group)
        )
        text = problems_of(scenario)
        assert f"{scenario}:7: faults[0].partition.and: unknown group {group!r}" in text, text
        assert f"is a {kind}" in text, text


SHARDS = [
    {"primary": "redis-1", "replicas": ["redis-4"], "slots": [0, 5460]},
    {"primary": "redis-2", "replicas": ["redis-5"], "slots": [5461, 10921]},
    {"primary": "redis-3", "replicas": ["redis-6"], "slots": [10922, 16383]},
]


def judge(check: str, log: list[Record], within: float = 6.0, **params: Any) -> Verdict:
    step = make_step(check, Bound(within), **params)
    return run_check(step, History(tuple(sorted(log, key=lambda r: r["t"]))), {}, "rb", "verify")


def view(
    t: float, node: str, peers: dict[str, Any] | None = None, state: str = "ok", slots_ok: int = SLOTS
) -> Record:
    seen = {
        "redis-1": {"role": "primary", "slots": 5461},
        "redis-4": {"role": "replica", "primary": "redis-1"},
    }
    return {
        "t": t,
        "kind": "cluster",
        "node": node,
        "state": state,
        "slots_ok": slots_ok,
        "view": seen | (peers or {}),
    }


def base() -> list[Record]:
    return [
        {"t": 0.0, "kind": "run"},
        {"t": 0.1, "kind": "topology", "primary": "redis-1", "shards": SHARDS},
        view(0.5, "redis-2"),
        {"t": KILL_AT, "kind": "fault", "action": "kill", "node": "redis-1"},
    ]


def failover() -> list[Record]:
    suspected = view(5.5, "redis-2", {"redis-1": {"role": "primary", "suspected": True, "slots": 5461}})
    gone = {"redis-1": {"role": "primary", "failed": True, "slots": 5461}}
    failed = view(6.0, "redis-2", gone, "fail", 10923)
    promoted = view(
        7.0,
        "redis-2",
        {"redis-1": {"role": "primary", "failed": True}, "redis-4": {"role": "primary", "slots": 5461}},
    )
    return [*base(), suspected, failed, promoted]


def write(t: float, key: str) -> Record:
    return {"t": t, "kind": "op", "f": "write", "key": key, "value": "v", "t0": t - 0.001, "type": "ok"}


def test_cluster_checks_follow_the_nodes_views() -> None:
    log = failover()
    assert judge("cluster_node_flagged", log, flag="suspected").measured == 2.5
    assert judge("cluster_node_flagged", log, flag="failed").measured == 3.0
    promoted = judge("cluster_failover", log)
    assert promoted.passed and promoted.measured == 4.0 and "redis-4 serves 5461 slots" in promoted.evidence
    state = judge("cluster_state", log)
    assert state.passed and state.measured == 4.0, state.evidence
    assert judge("slots_covered", log).measured == 4.0
    # Nothing flagged, nobody promoted, the state never back: each fails.
    assert not judge("cluster_node_flagged", base(), flag="failed").passed
    assert not judge("cluster_failover", log[:-1]).passed
    assert not judge("cluster_state", log[:-1]).passed
    assert not judge("cluster_failover", failover(), within=3.0).passed  # too late for the bound


def test_writable_on_a_cluster_wants_a_write_to_the_incidents_shard_after_the_promotion() -> None:
    other_shard = next(f"k{i}" for i in range(100) if key_slot(f"k{i}") > 5460)
    own_shard = next(f"k{i}" for i in range(100) if key_slot(f"k{i}") <= 5460)
    log = [*failover(), write(4.0, other_shard), write(6.5, own_shard)]
    assert not judge(
        "writable", log
    ).passed  # other shards' writes, or one before the promotion, prove nothing
    verdict = judge("writable", [*log, write(7.5, own_shard)])
    assert verdict.passed and verdict.measured == 4.5 and "redis-1's shard" in verdict.evidence


def test_slot_tags_land_keys_in_the_slots_asked_for() -> None:
    tags = slot_tags((0, 1, 5460, 16383))
    assert {key_slot(f"drill:x:reshard:{{{tag}}}:7") for tag in tags.values()} == {0, 1, 5460, 16383}
    assert all(key_slot(f"a{{{tag}}}") == slot for slot, tag in tags.items())


def test_reshard_is_refused_on_a_sentinel_topology_and_to_an_unknown_node(tmp_path: Path) -> None:
    def scenario(env: str, reshard: str) -> Path:
        path = tmp_path / f"{env}.yaml"
        path.write_text(
            f"name: s\nenvironment: {ROOT / 'environments' / env}.yaml\nload:\n  duration: 5s\n"
            "  workloads: {acked-writes: {users: 1}}\nfaults:\n  - at: 1s\n"
            f"    reshard: {reshard}\nruns: 1\n".replace("runs: 1\n", "")
            + f"runbooks: [{ROOT / 'runbooks' / 'cluster-reshard.yaml'}]\n"
        )
        return path

    sentinel = scenario("sentinel-3", "{slots: 10}")
    assert f"{sentinel}:8: faults[0].reshard: reshard moves cluster slots" in problems_of(sentinel)
    unknown = scenario("cluster-3", "{to: redis-9}")
    assert f"{unknown}:8: faults[0].reshard.to: unknown node 'redis-9'" in problems_of(unknown)


def stats(t: float, ok: int, redirects: dict[str, int] | None = None) -> Record:
    record: Record = {"t": t, "kind": "stats", "workload": "kv", "ok": ok, "fail": 0, "info": 0}
    return record | ({"redirects": redirects} if redirects else {})


def test_reshard_checks_read_the_fault_end_the_views_and_the_clients_counts() -> None:
    reshard = {"t": 3.0, "kind": "fault", "action": "reshard", "index": 0, "node": "redis-1"}
    reshard["details"] = {"to": "redis-2", "slots": 100}
    load = [{"t": 0.0, "kind": "load", "phase": "start"}, {"t": 9.0, "kind": "load", "phase": "stop"}]
    seconds = [stats(t / 2, 100 if not 9 <= t <= 10 else 20) for t in range(1, 19)]  # a dip in (4 s, 5 s]
    moved = stats(3.5, 100, {"MOVED": 4})
    ended = {"t": 5.0, "kind": "fault_end", "index": 0, "action": "reshard", "node": "redis-2", "slots": 100}
    ended["outcome"] = "moved 100 slots"
    agreed = [
        view(t, node, {"redis-2": {"role": "primary", "slots": 5561}})
        for t, node in ((5.2, "redis-2"), (5.4, "redis-3"))
    ]
    log = [*base()[:3], view(0.6, "redis-3"), reshard, *load, *seconds, moved, ended, *agreed]
    redirected = judge("clients_redirected", log, reply="MOVED")
    assert redirected.passed and redirected.measured == 0.5 and "4 in all" in redirected.evidence
    assert not judge("clients_redirected", log, reply="ASK").passed
    done = judge("reshard_done", log)
    assert done.passed and done.measured == pytest.approx(2.4), done.evidence
    short = {**ended, "slots": 60}
    assert not judge("reshard_done", [r for r in log if r is not ended] + [short]).passed
    dip = judge("throughput_dip", log, at_most=0.5)
    assert not dip.passed and dip.measured == 0.8, dip.evidence  # 40 ops in a 1 s window against 200
    assert judge("throughput_dip", log, at_most=0.9).passed


def test_which_keys_a_lost_shard_takes_down_is_judged_per_shard() -> None:
    own = [f"k{i}" for i in range(200) if key_slot(f"k{i}") <= 5460][:3]
    other = [f"k{i}" for i in range(200) if key_slot(f"k{i}") > 5460][:3]

    def op(t: float, key: str, error: str = "") -> Record:
        record = write(t, key)
        return record | {"type": "fail", "error": error} if error else record

    log = [
        *base(),
        op(3.2, own[0], "connection-refused"),
        op(3.3, other[0]),
        op(5.5, other[1], "CLUSTERDOWN"),
    ]
    cluster = judge("keys_refused", log, keys="other-shards", error="CLUSTERDOWN")
    assert cluster.passed and cluster.measured == 2.5, cluster.evidence
    shard = judge("keys_refused", log, keys="incident-shard")
    assert shard.passed and shard.measured == pytest.approx(0.2)
    served = judge("other_shards_served", log, at_most=0)
    assert not served.passed and served.measured == 1 and "CLUSTERDOWN" in served.evidence
    # An operation in flight when the load stopped is no failure of the cluster's.
    partial = [*log[:-1], op(3.4, other[1]), op(9.0, other[2], "interrupted")]
    assert judge("other_shards_served", partial, at_most=0).passed
    assert not judge("keys_refused", partial, keys="other-shards", error="CLUSTERDOWN").passed


def test_a_proxied_cluster_takes_per_peer_partitions_and_links_per_data_node(tmp_path: Path) -> None:
    """Its links carry the load only (the nodes meet and replicate on their own addresses), so a partition
    still tells the peers apart; a Sentinel topology's proxy carries replicas and Sentinels too: on the
    local backend the proxy keeps each peer's own address, elsewhere they share the proxy's: refused."""
    scenario = tmp_path / "s.yaml"
    body = (
        "name: s\nenvironment: {env}\nload:\n  duration: 5s\n  workloads: {{acked-writes: {{users: 1}}}}\n"
        "faults:\n  - {{at: 1s, partition: {{between: [primary], and: [replicas]}}}}\nrunbooks: []\n"
    )
    scenario.write_text(body.format(env=ROOT / "environments" / "cluster-3-proxied.yaml"))
    loaded = load_scenario(scenario)
    assert loaded.environment.proxy is not None and loaded.environment.cluster is not None
    layout = plan(loaded.environment)
    assert [(link.name, link.kind) for link in layout.links] == [
        (f"redis-{i}", "clients") for i in range(1, 7)
    ]
    local = ROOT / "environments" / "sentinel-3-proxied.yaml"
    scenario.write_text(body.format(env=local))
    assert load_scenario(scenario).faults  # local: the proxy connects upstream from each peer's address
    docker = tmp_path / "docker.yaml"
    docker.write_text(local.read_text().replace("backend: local", "backend: docker"))
    scenario.write_text(body.format(env=docker))
    assert "per-peer partitions tell peers apart by address" in problems_of(scenario)
