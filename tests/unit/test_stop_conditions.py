"""The stop-condition judges over hand-made logs: when each first holds, and not before."""

from __future__ import annotations

from typing import Any

from harness.runbooks.history import History
from harness.runbooks.stop_conditions import judge, stop_verdicts
from harness.scenario.model import StopCondition
from harness.scenario.stop_kinds import ErrorRate, MaxDuration, NoPrimary
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
    assert judge(condition, History(tuple(roles[:20])), 5.0).now == "a primary answers"


def test_stop_verdicts_fail_what_tripped_and_pass_the_rest() -> None:
    history = History(tuple(failover_log(errors_until=8.0)))
    conditions = (
        StopCondition("error_rate", ErrorRate(0.05, 1.0)),
        StopCondition("max_duration", MaxDuration(60.0)),
    )
    tripped, untouched = stop_verdicts(conditions, history)
    assert (tripped.name, tripped.status) == ("abort_if: error_rate above 5% for 1s", "FAIL")
    assert (untouched.name, untouched.status) == ("abort_if: max_duration after 60s", "pass")
