"""The stop-condition judges over hand-made logs: when each first holds, and not before."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from harness.report.timeline import build_timeline
from harness.runbooks.history import History
from harness.runbooks.stop_conditions import judge, stop_verdicts
from harness.scenario.model import StopCondition
from harness.scenario.stop_kinds import (
    AlertFiring,
    ClusterState,
    ErrorRate,
    Latency,
    MaxDuration,
    MemoryAbove,
    NodeDown,
    NoPrimary,
    OpsBelow,
    ReplicationBroken,
)
from tests.unit.history_builder import KILL_AT, failover_log

Record = dict[str, Any]


def info(t: float, roles: dict[str, str]) -> Record:
    return {"t": t, "kind": "info", "nodes": {n: {"role": r} for n, r in roles.items()}, "sentinels": {}}


def test_error_rate_holds_only_after_for_seconds_of_intervals_above_the_share() -> None:
    history = History(tuple(failover_log(errors_until=8.0)))  # every 0.5 s interval from the kill fails
    tripped = judge(StopCondition("error_rate", ErrorRate(0.05, 1.0)), history, 12.0).tripped
    assert tripped is not None and tripped.t == KILL_AT + 0.5, tripped  # two intervals: 5.0 and 5.5
    assert "from 4.50s to 5.50s (10 of 10)" in tripped.evidence
    # A guard asking for longer than the errors lasted never trips.
    assert judge(StopCondition("error_rate", ErrorRate(0.05, 5.0)), history, 12.0).tripped is None
    assert (
        judge(StopCondition("error_rate", ErrorRate(1.0, 1.0)), history, 12.0).tripped is None
    )  # all failed: not above


def test_no_primary_counts_from_the_first_sample_without_one() -> None:
    roles = [info(t / 4, {"redis-1": "master", "redis-2": "slave"}) for t in range(0, 20)]
    roles += [info(5 + t / 4, {"redis-2": "slave"}) for t in range(0, 20)]  # from 5.0 s: nobody is primary
    history = History(tuple([{"t": 0.0, "kind": "run"}, *roles]))
    condition = StopCondition("no_primary", NoPrimary(2.0))
    tripped = judge(condition, history, 10.0).tripped
    assert tripped is not None and tripped.t == 7.0 and "from 5.00s to 7.00s" in tripped.evidence, tripped
    assert judge(StopCondition("no_primary", NoPrimary(9.0)), history, 10.0).tripped is None
    assert judge(condition, History(tuple(roles[:20])), 5.0).now == "ok"


def test_stop_verdicts_fail_what_tripped_and_pass_the_rest() -> None:
    history = History(tuple(failover_log(errors_until=8.0)))
    conditions = (
        StopCondition("error_rate", ErrorRate(0.05, 1.0)),
        StopCondition("max_duration", MaxDuration(60.0)),
    )
    tripped, untouched = stop_verdicts(conditions, history)
    assert (tripped.name, tripped.status) == ("abort_if: error_rate above 5% for 1s", "FAIL")
    assert (untouched.name, untouched.status) == ("abort_if: max_duration after 60s", "pass")


def test_a_condition_that_held_back_says_how_close_it_came_and_is_marked_there() -> None:
    roles = [info(t / 4, {"redis-1": "master", "redis-2": "slave"}) for t in range(0, 20)]
    roles += [info(5 + t / 4, {"redis-2": "slave"}) for t in range(0, 7)]  # 5.0 .. 6.5 s: no primary
    roles += [info(7 + t / 4, {"redis-2": "master"}) for t in range(0, 8)]
    history = History(tuple([{"t": 0.0, "kind": "run"}, *roles]))
    reading = judge(StopCondition("no_primary", NoPrimary(5.0)), history, 9.0)
    assert reading.tripped is None and reading.closest is not None
    assert reading.closest.t == 6.5, reading.closest
    assert "no node answered as the primary for 1.50s of 5s" in reading.closest.text
    errors = judge(StopCondition("error_rate", ErrorRate(0.5, 5.0)), History(tuple(failover_log())), 12.0)
    assert (
        errors.tripped is None
        and errors.closest is not None
        and "error_rate above 50% for 2.50s of 5s" in errors.closest.text
    )
    (verdict,) = stop_verdicts((StopCondition("no_primary", NoPrimary(5.0)),), history)
    assert verdict.passed and verdict.at == 6.5 and "closest: no node answered" in verdict.evidence
    timeline = build_timeline(list(history.records), None, None, [{**asdict(verdict), "status": "pass"}])
    assert [(m.t, m.label, m.kind) for m in timeline.markers] == [
        (6.5, "closest to abort_if: no_primary for 5s", "closest")
    ]


def stats(t: float, ok: int, failed: int = 0, p99_us: int = 500) -> Record:
    return {
        "t": t, "kind": "stats", "workload": "w", "ok": ok, "fail": failed, "info": 0, "retries": 0,
        "errors": {}, "retried_errors": {}, "p50_us": 100, "p99_us": p99_us, "max_us": p99_us, "hist": {},
    }  # fmt: skip


def test_latency_and_ops_below_read_the_load_interval_by_interval() -> None:
    records: list[Record] = [{"t": 0.0, "kind": "run"}]
    records += [stats(t / 2, 100) for t in range(1, 7)]  # 0.5 .. 3.0 s: 100 ops, p99 0.5 ms
    records.append({"t": 3.1, "kind": "fault", "action": "kill", "target": "primary", "node": "redis-1"})
    records += [stats(3 + t / 2, 10, p99_us=80_000) for t in range(1, 7)]  # 3.5 .. 6.0 s: 10 ops, 80 ms
    history = History(tuple(records))
    slow = judge(StopCondition("latency", Latency(0.05, 2.0)), history, 6.0).tripped
    assert slow is not None and slow.t == 5.0 and "from 3.00s to 5.00s" in slow.evidence, slow
    assert judge(StopCondition("latency", Latency(0.1, 1.0)), history, 6.0).tripped is None
    starved = judge(StopCondition("ops_below", OpsBelow(0.2, 1.0)), history, 6.0).tripped
    assert starved is not None and starved.t == 4.0 and "(100 per interval" in starved.evidence, starved
    assert judge(StopCondition("ops_below", OpsBelow(0.05, 1.0)), history, 6.0).tripped is None


def test_info_and_cluster_conditions() -> None:
    def sample(t: float, link: str, used: int, answering: bool = True) -> Record:
        replica: dict[str, Any] = {"role": "slave", "link": link, "used_memory": used, "maxmemory": 1000}
        return {
            "t": t,
            "kind": "info",
            "nodes": {"redis-1": {"role": "master"}, "redis-2": replica if answering else {"error": "x"}},
            "sentinels": {},
        }

    records = [sample(t / 4, "up", 500) for t in range(0, 8)]
    records += [sample(2 + t / 4, "down", 960, answering=t < 4) for t in range(0, 16)]
    history = History(tuple(records))
    broken = judge(StopCondition("replication_broken", ReplicationBroken(0.5)), history, 6.0).tripped
    assert broken is not None and broken.t == 2.5 and "redis-2's link" in broken.evidence, broken
    full = judge(StopCondition("memory_above", MemoryAbove(0.95)), history, 6.0).tripped
    assert full is not None and full.t == 2.0 and "redis-2 at 96%" in full.evidence, full
    down = judge(StopCondition("node_down", NodeDown(1.0, "redis-2")), history, 6.0).tripped
    assert down is not None and down.t == 4.0 and "redis-2 not answering" in down.evidence, down
    assert judge(StopCondition("node_down", NodeDown(1.0, "redis-1")), history, 6.0).tripped is None
    views = History(
        (
            {"t": 1.0, "kind": "cluster", "node": "redis-2", "state": "ok"},
            {"t": 2.0, "kind": "cluster", "node": "redis-2", "state": "fail"},
            {"t": 3.5, "kind": "cluster", "node": "redis-3", "state": "ok"},
        )
    )
    failing = judge(StopCondition("cluster_state", ClusterState(1.0)), views, 4.0).tripped
    assert failing is not None and failing.t == 3.5 and "redis-2 reported" in failing.evidence, failing


def test_an_alert_condition_trips_when_prometheus_reports_it_firing() -> None:
    def alert(t: float, name: str, node: str, state: str) -> Record:
        return {"t": t, "kind": "alert", "name": name, "node": node, "state": state}

    history = History(
        (
            {"t": 0.0, "kind": "run"},
            alert(3.0, "RedisDown", "redis-1", "pending"),
            alert(4.5, "RedisReplicationBroken", "redis-2", "firing"),
            alert(6.0, "RedisDown", "redis-1", "firing"),
        )
    )
    down = StopCondition("alert", AlertFiring("RedisDown"))
    assert down.label == "alert RedisDown"
    tripped = judge(down, history, 10.0).tripped
    assert tripped is not None and (tripped.t, tripped.evidence) == (6.0, "RedisDown firing for redis-1")
    assert judge(down, history, 5.9).tripped is None  # pending is not firing; judged up to now only
    elsewhere = StopCondition("alert", AlertFiring("RedisDown", "redis-3"))
    assert elsewhere.label == "alert RedisDown on redis-3" and judge(elsewhere, history, 10.0).tripped is None
