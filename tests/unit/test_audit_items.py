"""The debug checklist's verdicts from hand-made snapshots (the audit's judging part is pure)."""

from __future__ import annotations

from typing import Any

from harness.audit import Snapshot, audit, debug_checklist


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
