"""The error-reply, memory and eviction checks and the procedure verdicts, on hand-made logs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.core.histograms import bucket_of
from harness.runbooks.checks.latency import LATENCY_WINDOW_S
from harness.runbooks.checks.registry import make_step, run_check
from harness.runbooks.history import History
from harness.runbooks.procedure import procedure_verdicts
from harness.scenario.durations import Bound
from harness.scenario.model import Action, Response, Runbook, Step
from harness.scenario.procedure_kinds import ReplyTrigger

Record = dict[str, Any]
FAULT_AT = 3.0


def stats(t: float, ok: int, errors: dict[str, int] | None = None) -> Record:
    failed = sum((errors or {}).values())
    return {"t": t, "kind": "stats", "ok": ok, "fail": failed, "info": 0, "errors": errors or {}}


def busy_log(killed_at: float | None) -> list[Record]:
    """BUSY from 8.0 s until the kill (or the end at 14 s); the responder's probe sees the same."""
    log: list[Record] = [{"t": 0.0, "kind": "run"}, {"t": FAULT_AT, "kind": "fault", "node": "redis-1"}]
    end = 14.0
    t = 0.5
    while t <= end:
        busy = t >= 8.0 and (killed_at is None or t <= killed_at)
        log.append(stats(t, 0 if busy else 50, {"BUSY": 5} if busy else None))
        t += 0.5
    log.append({"t": 8.02, "kind": "probe_reply", "node": "redis-1", "reply": "BUSY"})
    if killed_at is not None:
        log.append({"t": killed_at + 0.05, "kind": "probe_reply", "node": "redis-1", "reply": "ok"})
    return sorted(log, key=lambda r: r["t"])


def check(step: Step, log: list[Record]) -> Any:
    return run_check(step, History(tuple(log)), {}, "rb", "verify")


def test_error_reply_is_detected_at_its_first_sight() -> None:
    verdict = check(make_step("error_reply", reply="BUSY", within=Bound(6.0)), busy_log(8.4))
    assert verdict.passed and verdict.measured == 8.0 - FAULT_AT


def test_reply_gone_when_writes_succeed_to_the_end() -> None:
    verdict = check(make_step("reply_gone", reply="BUSY", within=Bound(7.0)), busy_log(8.4))
    assert verdict.passed, verdict.evidence
    assert 8.4 - FAULT_AT <= verdict.measured <= 9.0 - FAULT_AT


def test_reply_that_never_stops_is_not_gone() -> None:
    verdict = check(make_step("reply_gone", reply="BUSY", within=Bound(7.0)), busy_log(None))
    assert not verdict.passed
    assert "until the end of the drill" in verdict.evidence


def test_reply_never_seen_cannot_be_gone() -> None:
    verdict = check(make_step("reply_gone", reply="OOM", within=Bound(7.0)), busy_log(8.4))
    assert not verdict.passed and "nothing to recover from" in verdict.evidence


def memory_log(used: list[int], evicted: list[int]) -> list[Record]:
    log: list[Record] = [{"t": 0.0, "kind": "run"}, {"t": FAULT_AT, "kind": "fault", "node": "redis-1"}]
    for i, (u, e) in enumerate(zip(used, evicted, strict=True)):
        node = {"role": "master", "used_memory": u, "maxmemory": 100, "evicted_keys": e}
        log.append({"t": FAULT_AT + 0.25 * (i + 1), "kind": "info", "nodes": {"redis-1": node}})
    return log


def test_memory_above_uses_the_ratio_to_maxmemory() -> None:
    log = memory_log([50, 80, 95, 99], [0, 0, 0, 7])
    verdict = check(make_step("memory_above", above=0.9, within=Bound(5.0)), log)
    assert verdict.passed and verdict.measured == 0.75
    assert not check(make_step("memory_above", above=0.995, within=Bound(5.0)), log).passed


def test_evictions_need_evicted_keys_to_grow_after_the_incident() -> None:
    assert (
        check(make_step("evictions", within=Bound(5.0)), memory_log([95] * 4, [3, 3, 3, 9])).measured == 1.0
    )
    assert not check(make_step("evictions", within=Bound(5.0)), memory_log([95] * 4, [3, 3, 3, 3])).passed


def test_procedure_verdicts_follow_the_logged_steps() -> None:
    steps = (Action("remediate", "script-kill", 5), Action("gather", "slowlog", 6))
    runbook = Runbook(
        Path("rb.yaml"), "BUSY", (), (), Response(ReplyTrigger(reply="BUSY", within=10.0), steps)
    )
    log = [
        *busy_log(8.4),
        {"t": 8.03, "kind": "respond", "runbook": "BUSY", "phase": "triggered", "node": "redis-1"},
        {
            "t": 8.05,
            "kind": "runbook_step",
            "runbook": "BUSY",
            "index": 0,
            "ok": True,
            "evidence": "SCRIPT KILL: OK",
        },
    ]
    verdicts = {
        v.name: v for v in procedure_verdicts(runbook, History(tuple(sorted(log, key=lambda r: r["t"]))))
    }
    assert verdicts["respond: when BUSY"].passed
    assert verdicts["respond: remediate script-kill"].passed
    assert verdicts["respond: remediate script-kill"].evidence == "SCRIPT KILL: OK"
    assert not verdicts["respond: gather slowlog"].passed  # logged by no one: it never ran


def test_procedure_without_its_trigger_fails_every_step() -> None:
    runbook = Runbook(
        Path("rb.yaml"),
        "OOM",
        (),
        (),
        Response(ReplyTrigger(reply="OOM", within=10.0), (Action("gather", "info-memory", 3),)),
    )
    log = [
        *busy_log(8.4),
        {"t": 13.0, "kind": "respond", "runbook": "OOM", "phase": "no-trigger", "node": "redis-1"},
    ]
    verdicts = procedure_verdicts(runbook, History(tuple(sorted(log, key=lambda r: r["t"]))))
    assert [v.passed for v in verdicts] == [False, False]
    assert "never showed OOM" in verdicts[0].evidence


def hits_log(hits: list[int], misses: list[int]) -> list[Record]:
    log: list[Record] = [{"t": 0.0, "kind": "run"}, {"t": FAULT_AT, "kind": "fault", "node": "redis-1"}]
    for i, (h, m) in enumerate(zip(hits, misses, strict=True)):
        node = {"role": "master", "keyspace_hits": h, "keyspace_misses": m}
        log.append({"t": FAULT_AT + 0.25 * (i + 1), "kind": "info", "nodes": {"redis-1": node}})
    return log


def test_hit_rate_below_is_measured_per_second_of_counters() -> None:
    # 100 hits a round; misses jump to 20 a round from the 6th round: 80 % over the second that follows.
    hits = [100 * i for i in range(12)]
    misses = [0] * 6 + [20 * i for i in range(1, 7)]
    verdict = check(make_step("hit_rate_below", below=0.9, within=Bound(5.0)), hits_log(hits, misses))
    assert verdict.passed, verdict.evidence
    assert "hit rate" in verdict.evidence
    steady = check(make_step("hit_rate_below", below=0.9, within=Bound(5.0)), hits_log(hits, [0] * 12))
    assert not steady.passed


def test_hit_rate_back_holds_once_every_second_to_the_end_is_over_the_band() -> None:
    # 100 hits a round; 20 misses a round for the first 5 rounds, none after: the second ending at round 8
    # (index) is the first above 95 % (2,000 / 2,100 hits).
    hits = [100 * i for i in range(14)]
    misses = [min(i, 5) * 20 for i in range(14)]
    verdict = check(make_step("hit_rate_back", above=0.95, within=Bound(5.0)), hits_log(hits, misses))
    assert verdict.passed and verdict.measured == 0.25 * 9, verdict.evidence
    missing = [20 * i for i in range(14)]  # misses to the end
    still = check(make_step("hit_rate_back", above=0.95, within=Bound(5.0)), hits_log(hits, missing))
    assert not still.passed and "until the end" in still.evidence


def restore_log(missing: int) -> list[Record]:
    check = {
        "t": 4.5,
        "kind": "restore_check",
        "node": "restore-1",
        "source": "redis-1",
        "point": 4.2,
        "snapshot_bytes": 1000,
        "expected": 50,
        "missing": missing,
        "first_missing": ["k7"] if missing else [],
    }
    return [{"t": 0.0, "kind": "run"}, check, {"t": 4.6, "kind": "fault", "node": "redis-1"}]


def test_restore_complete_needs_every_write_acknowledged_before_the_snapshot() -> None:
    assert check(make_step("restore_complete", within=Bound(10.0)), restore_log(0)).passed
    failed = check(make_step("restore_complete", within=Bound(10.0)), restore_log(1))
    assert not failed.passed and "1 of 50 acknowledged writes missing: k7" in failed.evidence


def test_a_node_that_answers_without_credentials_fails_the_security_check() -> None:
    from harness.runbooks.security import security_verdicts

    def probes(*refused: bool) -> History:
        answers = ["NOAUTH Authentication required." if r else "True" for r in refused]
        return History(
            tuple(
                {
                    "t": 1.0,
                    "kind": "security",
                    "check": "unauthenticated",
                    "node": f"redis-{i + 1}",
                    "refused": r,
                    "answer": a,
                }
                for i, (r, a) in enumerate(zip(refused, answers, strict=True))
            )
        )

    (good,) = security_verdicts(probes(True, True))
    assert good.passed and "redis-1, redis-2 refused" in good.evidence
    (bad,) = security_verdicts(probes(True, False))
    assert not bad.passed and "redis-2 answered True" in bad.evidence
    assert security_verdicts(History(())) == []


def clients_log(rounds: list[dict[str, int]]) -> list[Record]:
    log: list[Record] = [{"t": 0.0, "kind": "run"}, {"t": FAULT_AT, "kind": "fault", "node": "redis-1"}]
    for i, clients in enumerate(rounds):
        nodes = {name: {"connected_clients": n, "maxclients": 100} for name, n in clients.items()}
        log.append({"t": FAULT_AT + 0.25 * (i + 1), "kind": "info", "nodes": nodes})
    return log


def test_clients_below_needs_every_node_under_the_ratio_to_the_end() -> None:
    step = make_step("clients_below", below=0.8, within=Bound(5.0))
    back = check(step, clients_log([{"redis-1": 95, "redis-2": 5}, {"redis-1": 10, "redis-2": 5}]))
    assert back.passed and back.measured == 0.5
    # The last round still has one node over the ratio, whichever node comes last in it.
    still = check(step, clients_log([{"redis-1": 10, "redis-2": 5}, {"redis-1": 95, "redis-2": 5}]))
    assert not still.passed and "until the end" in still.evidence


def latency_log(slow_from: float, slow_to: float, blips: tuple[float, ...] = ()) -> list[Record]:
    """400 calls per 0.5 s interval at 1 ms; 50 ms calls while slow, and 6 of them in a blip interval."""
    log: list[Record] = [{"t": 0.0, "kind": "run"}, {"t": FAULT_AT, "kind": "fault", "node": "redis-1"}]
    fast, slow = bucket_of(1_000), bucket_of(50_000)
    for i in range(1, 29):
        t = i * 0.5
        n_slow = 200 if slow_from <= t <= slow_to else 6 if t in blips else 0
        hist = {fast: 400 - n_slow, slow: n_slow} if n_slow else {fast: 400}
        log.append({**stats(t, 400), "workload": "acked-writes", "hist": hist})
    return log


def test_latency_below_is_not_decided_by_one_interval_blip() -> None:
    step = make_step("latency_below", below=0.020, within=Bound(8.0))
    # A stall that delays a handful of calls in the last interval: over 2 s that is under the p99.
    blip = check(step, latency_log(4.0, 5.0, blips=(14.0,)))
    assert blip.passed, blip.evidence
    assert blip.measured == 5.0 + LATENCY_WINDOW_S - FAULT_AT  # the last slow interval leaves the window
    # A slowdown that lasts to the end is not recovery.
    assert not check(step, latency_log(4.0, 14.0)).passed
    detected = check(make_step("latency_above", above=0.020, within=Bound(5.0)), latency_log(4.0, 5.0))
    assert detected.passed and detected.measured == 4.0 - FAULT_AT


def ops_log(surge_until: float) -> list[Record]:
    """The primary's INFO every 250 ms: 1,000 commands/s, 2,500/s from the incident (4 s) to surge_until."""
    log: list[Record] = [{"t": 1.0, "kind": "load", "phase": "start"}]
    done, t = 0.0, 1.0
    while t <= 14.0:
        log.append(
            {
                "t": t,
                "kind": "info",
                "nodes": {"redis-1": {"role": "master", "total_commands_processed": int(done)}},
            }
        )
        rate = 2500 if 4.0 <= t < surge_until else 1000
        done += rate * 0.25
        t += 0.25
    log.append({"t": 4.0, "kind": "fault", "node": "redis-1"})
    log.append({"t": 14.0, "kind": "load", "phase": "stop"})
    return sorted(log, key=lambda r: r["t"])


def test_ops_against_the_baseline_warning_critical_and_back() -> None:
    warning = check(make_step("ops_above", above=0.5, within=Bound(3.0)), ops_log(9.0))
    assert warning.passed and "baseline 1,000" in warning.evidence, warning.evidence
    critical = check(make_step("ops_above", above=1.0, within=Bound(3.0)), ops_log(9.0))
    assert critical.passed and (critical.measured or 0) >= (warning.measured or 0)
    assert not check(make_step("ops_above", above=2.0, within=Bound(3.0)), ops_log(9.0)).passed
    back = check(make_step("ops_back", below=0.5, within=Bound(10.0)), ops_log(9.0))
    assert back.passed and 9.0 - 4.0 <= (back.measured or 0) <= 10.25 - 4.0, back
    still = check(make_step("ops_back", below=0.5, within=Bound(10.0)), ops_log(15.0))
    assert not still.passed and "to the end" in still.evidence
