"""The checks of failover under partial failures, each on a hand-made log that passes and one that fails."""

from __future__ import annotations

from typing import Any

from harness.runbooks.checks.registry import make_step, run_check
from harness.runbooks.history import History
from harness.runbooks.verdict import Verdict
from harness.scenario.durations import Bound

Record = dict[str, Any]
CUT_AT = 3.0


def judge(
    check: str,
    log: list[Record],
    within: float | None = 20.0,
    settings: dict[str, float] | None = None,
    **params: Any,
) -> Verdict:
    step = make_step(check, Bound(within) if within is not None else None, **params)
    return run_check(step, History(tuple(sorted(log, key=lambda r: r["t"]))), settings or {}, "rb", "verify")


def base() -> list[Record]:
    return [
        {"t": 0.0, "kind": "run"},
        {"t": 0.1, "kind": "topology", "primary": "redis-1"},
        {"t": CUT_AT, "kind": "fault", "action": "partition", "node": "redis-1"},
    ]


def switch(t: float) -> Record:
    return {"t": t, "kind": "sentinel", "sentinel": "sentinel-2", "event": "+switch-master", "new": "redis-2"}


def test_no_failover_passes_without_a_switch_and_fails_with_one() -> None:
    assert judge("no_failover", base(), None).passed
    failed = judge("no_failover", [*base(), switch(5.0)], None)
    assert not failed.passed and "+switch-master to redis-2" in failed.evidence
    assert judge("no_failover", [*base(), switch(9.0)], None, window=5.0).passed  # after the window


def write(t: float, key: str, outcome: str = "ok", error: str | None = None) -> Record:
    record = {"t": t, "kind": "op", "f": "write", "key": key, "value": key, "t0": t - 0.001, "type": outcome}
    return {**record, **({"error": error} if error else {})}


def test_writes_refused_needs_a_write_refused_with_that_class() -> None:
    log = [*base(), write(8.5, "k1", "fail", "NOREPLICAS")]
    verdict = judge("writes_refused", log, 7.0, reply="NOREPLICAS")
    assert verdict.passed and verdict.measured == 5.5, verdict.evidence
    assert not judge("writes_refused", log, 5.0, reply="NOREPLICAS").passed  # too late for the bound
    assert not judge(
        "writes_refused", [*base(), write(8.5, "k1", "fail", "OOM")], 7.0, reply="NOREPLICAS"
    ).passed


def lost_log(lost_at: list[float], read_back: bool = True) -> list[Record]:
    log = [*base(), *(write(1.0 + i, f"kept{i}") for i in range(2))]
    log += [write(t, f"lost{i}") for i, t in enumerate(lost_at)]
    if read_back:
        values = {f"kept{i}": f"kept{i}" for i in range(2)} | {f"lost{i}": None for i in range(len(lost_at))}
        log += [
            {"t": 30.0, "kind": "readback", "node": "redis-2", "values": values},
            {"t": 30.1, "kind": "readback", "node": "redis-2", "done": True, "keys": len(values)},
        ]
    return log


def test_lost_writes_within_bounds_when_the_lost_writes_were_acknowledged() -> None:
    inside = judge("lost_writes_within", lost_log([3.5, 8.9]), None, window=Bound(6.0))
    assert inside.passed and inside.measured == 5.9 and "2 lost" in inside.evidence
    late = judge("lost_writes_within", lost_log([3.5, 9.5]), None, window=Bound(6.0))
    assert not late.passed and late.measured == 6.5 and not late.unknown
    unread = judge("lost_writes_within", lost_log([3.5], read_back=False), None, window=Bound(6.0))
    assert unread.unknown


def test_lost_writes_window_names_the_environment_setting_it_adds_to() -> None:
    window = Bound(2.0, ("min-replicas-max-lag",))
    lag = {"min-replicas-max-lag": 5.0}
    inside = judge("lost_writes_within", lost_log([3.5, 9.5]), None, lag, window=window)
    assert inside.passed and inside.bound == 7.0, inside
    assert "window min-replicas-max-lag + 2.00s = 7.00s" in inside.evidence
    shorter = judge(
        "lost_writes_within", lost_log([3.5, 9.5]), None, {"min-replicas-max-lag": 3.0}, window=window
    )
    assert not shorter.passed and shorter.bound == 5.0


def info(t: float, masters: list[str], views: dict[str, str | None], old_role: str = "slave") -> Record:
    nodes: dict[str, Any] = {name: {"role": "master"} for name in masters}
    for name in ("redis-1", "redis-2", "redis-3"):
        if name not in nodes:
            nodes[name] = {"role": old_role if name == "redis-1" else "slave", "primary": "redis-2"}
    return {"t": t, "kind": "info", "nodes": nodes, "sentinels": views}


AGREED: dict[str, str | None] = {"sentinel-1": "redis-2", "sentinel-2": "redis-2", "sentinel-3": "redis-2"}
SPLIT: dict[str, str | None] = {"sentinel-1": "redis-1", "sentinel-2": "redis-2", "sentinel-3": "redis-2"}


def converging(end_masters: list[str], end_views: dict[str, str | None]) -> list[Record]:
    rounds = [info(CUT_AT + 0.5, ["redis-1"], SPLIT)]
    rounds += [info(CUT_AT + 1 + i, ["redis-1", "redis-2"], SPLIT) for i in range(4)]
    rounds += [info(CUT_AT + 5 + i, ["redis-2"], AGREED) for i in range(3)]
    rounds.append(info(CUT_AT + 8, end_masters, end_views))
    return [*base(), *rounds]


def test_single_primary_holds_from_the_last_split_sample_and_says_how_long_two_answered() -> None:
    verdict = judge("single_primary", converging(["redis-2"], AGREED))
    assert verdict.passed and verdict.measured == 5.0, verdict.evidence
    assert "redis-1 and redis-2 both answered as primary from 4.00s to 7.00s (4 samples)" in verdict.evidence
    still = judge("single_primary", converging(["redis-1", "redis-2"], AGREED))
    assert not still.passed and "2 primaries at the end" in still.evidence


def test_sentinels_agree_needs_one_view_and_the_old_primary_replicating_from_it() -> None:
    verdict = judge("sentinels_agree", converging(["redis-2"], AGREED))
    assert verdict.passed and verdict.measured == 5.0, verdict.evidence
    split = judge("sentinels_agree", converging(["redis-2"], SPLIT))
    assert not split.passed and "sentinel-1: redis-1" in split.evidence
    silent = judge("sentinels_agree", converging(["redis-2"], {**AGREED, "sentinel-3": None}))
    assert not silent.passed and "sentinel-3: no answer" in silent.evidence
    old_still_master = [
        *converging(["redis-2"], AGREED)[:-1],
        info(CUT_AT + 8, ["redis-2"], AGREED, "master"),
    ]
    assert not judge("sentinels_agree", old_still_master).passed
    no_views = [{k: v for k, v in r.items() if k != "sentinels"} for r in converging(["redis-2"], AGREED)]
    assert judge("sentinels_agree", no_views).unknown
