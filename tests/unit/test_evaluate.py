"""Runbook evaluation is a pure function of (scenario, log): tested on hand-made logs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from harness.runbooks.checks.registry import make_step, run_check
from harness.runbooks.evaluate import Evaluation, evaluate
from harness.runbooks.history import History
from harness.runbooks.verdict import Verdict
from harness.scenario.durations import Bound
from harness.scenario.loader import load_scenario
from harness.scenario.model import Scenario
from tests.unit.history_builder import KILL_AT, failover_log

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def scenario() -> Scenario:
    return load_scenario(ROOT / "scenarios" / "primary-failover.yaml")


def failed(evaluation: Evaluation) -> list[str]:
    return [v.name for v in evaluation.verdicts if not v.passed]


def verdict(evaluation: Evaluation, name: str) -> Verdict:
    return next(v for v in evaluation.verdicts if v.name == name)


def test_clean_failover_passes_with_measured_mttd_and_mttr(scenario: Scenario) -> None:
    result = evaluate(scenario, failover_log())
    assert failed(result) == []
    assert result.mttd == pytest.approx(6.02 - KILL_AT)
    # Recovery ends with the last verify step to hold: replicas attached and errors at baseline from 7.0 s.
    assert result.mttr == pytest.approx(7.0 - KILL_AT)
    assert verdict(result, "verify: writable").measured == pytest.approx(6.801 - KILL_AT)
    assert result.lost.acknowledged > 0 and result.lost.lost == ()


def test_missing_detection_event_fails_that_step_only(scenario: Scenario) -> None:
    result = evaluate(scenario, failover_log(odown=False))
    assert failed(result) == ["detect: sentinel_event +odown (incident)"]


def test_planted_lost_write_is_counted_and_fails_a_zero_bound(scenario: Scenario) -> None:
    strict = dataclasses.replace(scenario, expect=dataclasses.replace(scenario.expect, max_lost_writes=0))
    result = evaluate(strict, failover_log(lose_key="k20"))
    assert [k for k, _ in result.lost.lost] == ["k20"]
    assert failed(result) == ["expect: lost_acknowledged_writes"]
    # In "report" mode the same loss is reported but does not fail the drill.
    reported = evaluate(scenario, failover_log(lose_key="k20"))
    assert verdict(reported, "expect: lost_acknowledged_writes").measured == 1.0
    assert failed(reported) == []


def test_replica_that_never_catches_up_is_not_attached(scenario: Scenario) -> None:
    result = evaluate(scenario, failover_log(replica_stuck=True))
    assert "verify: replicas_attached" in failed(result)
    assert "redis-3 lagged" in verdict(result, "verify: replicas_attached").evidence
    assert "expect: recovery_within" in failed(result)


def test_errors_that_never_stop_fail_error_rate_check(scenario: Scenario) -> None:
    result = evaluate(scenario, failover_log(errors_until=99))
    assert "verify: error_rate_back_to_baseline" in failed(result)


def test_impossible_recovery_bound_fails_exactly_that_check(scenario: Scenario) -> None:
    tight = dataclasses.replace(
        scenario, expect=dataclasses.replace(scenario.expect, recovery_within=Bound(0.001))
    )
    assert failed(evaluate(tight, failover_log())) == ["expect: recovery_within"]


def test_no_fault_means_no_incident(scenario: Scenario) -> None:
    log = [r for r in failover_log() if r["kind"] != "fault"]
    result = evaluate(scenario, log)
    assert "no fault was applied" in verdict(result, "detect: sentinel_event +sdown (incident)").evidence
    assert result.mttd is None and result.mttr is None


def test_missing_readback_fails_lost_write_check(scenario: Scenario) -> None:
    log = [r for r in failover_log() if r["kind"] != "readback"]
    result = evaluate(scenario, log)
    assert failed(result) == ["expect: lost_acknowledged_writes"]
    assert "no read-back" in verdict(result, "expect: lost_acknowledged_writes").evidence


def lag_log(stuck_from: float) -> list[dict[str, object]]:
    """A primary writing steadily; its replica stops advancing at `stuck_from` seconds."""
    log: list[dict[str, object]] = [
        {"t": 1.0, "kind": "fault", "action": "network", "node": "redis-1", "replica": "redis-2"}
    ]
    for i in range(4, 40):
        t = i / 4
        log.append(
            {
                "t": t,
                "kind": "info",
                "nodes": {
                    "redis-1": {
                        "role": "master",
                        "offset": i * 100,
                        "replicas": [{"node": "redis-2", "state": "online"}],
                    },
                    "redis-2": {
                        "role": "slave",
                        "offset": min(i, stuck_from * 4) * 100,
                        "link": "up",
                        "primary": "redis-1",
                    },
                },
            }
        )
    return log


def test_replication_lag_check_sees_a_replica_falling_behind() -> None:
    step = make_step("replication_lag", Bound(5.0), line=1, node="incident", above=1.0)
    stuck = run_check(step, History(tuple(lag_log(stuck_from=3.0))), {}, "rb", "detect")
    assert stuck.passed and stuck.evidence.startswith("redis-2 1.25s behind")
    assert stuck.measured == 3.25  # stuck at 3.0 s, more than 1 s behind from 4.25 s; incident at 1.0 s
    healthy = run_check(step, History(tuple(lag_log(stuck_from=99))), {}, "rb", "detect")
    assert not healthy.passed and "redis-2 never lagged more than 1.00s" in healthy.evidence


def test_writable_accepts_any_tracked_write(scenario: Scenario) -> None:
    log = failover_log()
    first_after_switch = next(
        i for i, r in enumerate(log) if r["kind"] == "op" and r["t0"] >= 6.7 and r["type"] == "ok"
    )
    log.insert(
        first_after_switch,
        {
            "t": 6.75,
            "kind": "op",
            "w": "bank",
            "f": "transfer",
            "from": "a:0",
            "to": "a:1",
            "amount": 3,
            "type": "ok",
            "result": "committed",
            "t0": 6.71,
        },
    )
    result = evaluate(scenario, log)
    assert verdict(result, "verify: writable").evidence.startswith(
        "transfer a:0 -> a:1 acknowledged at 6.750s"
    )


def test_clients_ride_out_only_when_no_operation_failed_after_its_retries(scenario: Scenario) -> None:
    riding = dataclasses.replace(scenario, expect=dataclasses.replace(scenario.expect, clients_ride_out=True))
    # The failover log has connection-refused failures while the primary is down: not ridden out.
    result = evaluate(riding, failover_log())
    refused = verdict(result, "expect: clients_ride_out")
    assert not refused.passed and (refused.measured or 0) > 0
    assert "connection-refused=" in refused.evidence and "retry policy none" in refused.evidence
    # The same drill where the retries absorbed every failure.
    absorbed = [
        {**r, "ok": r["ok"] + r["fail"], "fail": 0, "errors": {}, "retries": r["fail"]}
        if r["kind"] == "stats"
        else r
        for r in failover_log()
    ]
    ridden = verdict(evaluate(riding, absorbed), "expect: clients_ride_out")
    assert ridden.passed and "0 failed or uncertain" in ridden.evidence
