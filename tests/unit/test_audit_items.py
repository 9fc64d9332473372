"""The debug checklist's verdicts from hand-made snapshots (the audit's judging part is pure)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.audit.checklist import Snapshot, _passed_failover_drills, audit, debug_checklist
from harness.audit.cluster import ClusterState
from harness.clients.cluster import parse_nodes


def items(info: dict[str, Any], config: dict[str, str], **extra: Any) -> dict[str, str]:
    snapshot = Snapshot(config, info, (), None, (), **extra)
    return {i.key: i.verdict for i in debug_checklist(snapshot)}


def test_memory_and_connections_follow_the_key_metric_bands() -> None:
    config = {"maxmemory": "1000", "maxclients": "100"}
    assert items({"used_memory": 700, "connected_clients": 79}, config)["D1"] == "pass"
    assert items({"used_memory": 800, "connected_clients": 90}, config)["D4"] == "warn"
    seen = items({"used_memory": 950, "connected_clients": 96}, config)
    assert (seen["D1"], seen["D4"]) == ("fail", "fail")


def test_replication_lag_and_links() -> None:
    def primary(lag: int, state: str = "online") -> dict[str, Any]:
        return {"role": "master", "slave0": {"ip": "10.0.0.2", "state": state, "lag": lag}}

    assert items(primary(0), {})["D5"] == "pass"
    assert items(primary(1), {})["D5"] == "pass"  # acks come every second: a 1 is a healthy replica
    assert items(primary(3), {})["D5"] == "warn"
    assert items(primary(11), {})["D5"] == "fail"
    assert items(primary(0, "wait_bgsave"), {})["D5"] == "fail"
    assert items({"role": "slave", "master_link_status": "down"}, {})["D5"] == "fail"


def test_slowlog_latency_and_saves() -> None:
    quiet = items(
        {"rdb_last_bgsave_status": "ok"}, {"latency-monitor-threshold": "20"}, slowlog=(), latency=()
    )
    assert (quiet["D2"], quiet["D3"], quiet["D8"]) == ("pass", "pass", "pass")
    noisy = items(
        {"rdb_last_bgsave_status": "err", "blocked_clients": 2},
        {"latency-monitor-threshold": "20"},
        slowlog=((56_000, "KEYS *"),),
        latency=(("command", 71),),
    )
    assert (noisy["D2"], noisy["D3"], noisy["D7"], noisy["D8"]) == ("warn", "warn", "warn", "fail")


def test_failover_tested_only_by_a_drill_run_with_this_configuration() -> None:
    drill = ("primary-failover", (("maxmemory", "64mb"), ("maxmemory-policy", "noeviction"), ("save", '""')))
    ran_like_this = {"maxmemory": "67108864", "maxmemory-policy": "noeviction", "save": ""}

    def r3(config: dict[str, str], drills: tuple[Any, ...]) -> tuple[str, str]:
        item = next(i for i in audit(Snapshot(config, {"role": "master"}, (), None, drills)) if i.key == "R3")
        return item.verdict, item.seen

    assert r3(ran_like_this, (drill,)) == ("pass", "primary-failover")
    verdict, seen = r3({**ran_like_this, "maxmemory": "0"}, (drill,))
    assert verdict == "warn" and "none run with this configuration" in seen and "maxmemory 64mb" in seen
    assert r3(ran_like_this, ()) == ("warn", "none found")


def cluster_verdicts(nodes: str, **info: str) -> dict[str, str]:
    fields = {"cluster_state": "ok", "cluster_slots_assigned": "16384", "cluster_slots_fail": "0", **info}
    state = ClusterState(True, fields, parse_nodes(nodes))
    snapshot = Snapshot({}, {}, (), None, (), cluster=state)
    return {i.key: i.verdict for i in audit(snapshot) if i.key in ("R2", "C1", "C2", "C3", "C4")}


# Three shards over three hosts; each replica on another host than its primary.
SPREAD = """\
a1 10.0.0.1:6379@16379 myself,master - 0 0 1 connected 0-5460
b1 10.0.0.2:6379@16379 master - 0 0 2 connected 5461-10922
c1 10.0.0.3:6379@16379 master - 0 0 3 connected 10923-16383
a2 10.0.0.2:6380@16380 slave a1 0 0 1 connected
b2 10.0.0.3:6380@16380 slave b1 0 0 2 connected
c2 10.0.0.1:6380@16380 slave c1 0 0 3 connected
"""


def test_cluster_items_from_what_a_node_says_of_its_cluster() -> None:
    assert cluster_verdicts(SPREAD) == {"R2": "pass", "C1": "pass", "C2": "pass", "C3": "pass", "C4": "pass"}
    # c1's replica moved onto c1's own host: a host failure would take the shard.
    together = SPREAD.replace("c2 10.0.0.1:6380", "c2 10.0.0.3:6380")
    assert cluster_verdicts(together)["C4"] == "fail"
    # b1's replica failed: b1 serves alone.
    alone = SPREAD.replace("slave b1", "slave,fail b1")
    assert cluster_verdicts(alone)["C3"] == "fail"
    # All on loopback: one machine, the hosts cannot spread anything.
    loopback = SPREAD.replace("10.0.0.", "127.0.0.")
    assert cluster_verdicts(loopback)["C4"] == "warn"
    down = cluster_verdicts(SPREAD, cluster_state="fail", cluster_slots_fail="5461")
    assert (down["R2"], down["C1"], down["C2"]) == ("fail", "fail", "fail")
    assert cluster_verdicts(SPREAD, cluster_slots_pfail="5461")["C2"] == "warn"


def test_cluster_items_on_a_server_without_cluster_mode() -> None:
    snapshot = Snapshot({}, {}, (), None, (), cluster=ClusterState(False, {}, ()))
    seen = {i.key: i.verdict for i in audit(snapshot)}
    assert seen["C1"] == "fail" and "C3" not in seen and seen["R2"] == "warn"


def test_a_passed_cluster_failover_drill_counts_as_failover_tested(tmp_path: Path) -> None:
    run = tmp_path / "cluster-primary-kill-1"
    (run / "config").mkdir(parents=True)
    checks = [{"name": "verify: cluster_failover", "status": "pass"}]
    (run / "report.json").write_text(
        json.dumps({"passed": True, "scenario": "cluster-primary-kill", "checks": checks})
    )
    # The node's files are the harness's choice: cluster-enabled and the timeout describe the deployment.
    (run / "config" / "redis-1.conf").write_text(
        "port 7000\ncluster-enabled yes\ncluster-config-file nodes.conf\ncluster-node-timeout 2000\n"
    )
    drills = _passed_failover_drills(tmp_path)
    config = {"cluster-enabled": "yes", "cluster-config-file": "/data/nodes-7000.conf"}
    r3 = {
        i.key: i for i in audit(Snapshot({**config, "cluster-node-timeout": "2000"}, {}, (), None, drills))
    }["R3"]
    assert r3.verdict == "pass" and r3.seen == "cluster-primary-kill"
    r3 = {
        i.key: i for i in audit(Snapshot({**config, "cluster-node-timeout": "15000"}, {}, (), None, drills))
    }["R3"]
    assert r3.verdict == "warn" and "cluster-node-timeout 2000" in r3.seen
