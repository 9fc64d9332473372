"""Each data-safety checker passes on a clean history and catches a planted violation."""

from __future__ import annotations

from typing import Any

from harness.runbooks.checkers import bank, counter, lua_cas, run_checkers
from harness.runbooks.history import History

Record = dict[str, Any]


def history(init: dict[str, dict[str, int]], ops: list[Record], final: dict[str, str | None]) -> History:
    records: list[Record] = [{"t": 0.0, "kind": "init", "workload": w, "values": v} for w, v in init.items()]
    records += [{"t": 1.0 + i / 1000, "kind": "op", **op} for i, op in enumerate(ops)]
    records.append({"t": 9.0, "kind": "readback", "values": final})
    records.append({"t": 9.1, "kind": "readback", "done": True})
    return History(tuple(records))


def incr(key: str, outcome: str = "ok") -> Record:
    return {"w": "counter", "f": "incr", "key": key, "type": outcome}


def test_counter_clean_lost_and_doubled() -> None:
    ops = [incr("c:0"), incr("c:0"), incr("c:0", "info"), incr("c:1"), incr("c:1", "fail")]
    clean = counter(history({"counter": {"c:0": 0, "c:1": 0}}, ops, {"c:0": "3", "c:1": "1"}))
    assert clean.passed, clean.evidence
    uncertain_not_applied = counter(history({"counter": {"c:0": 0, "c:1": 0}}, ops, {"c:0": "2", "c:1": "1"}))
    assert uncertain_not_applied.passed  # the info increment may or may not have happened
    lost = counter(history({"counter": {"c:0": 0, "c:1": 0}}, ops, {"c:0": "1", "c:1": "1"}))
    assert not lost.passed and "0: 1 acknowledged increment(s) lost" in lost.evidence
    doubled = counter(history({"counter": {"c:0": 0, "c:1": 0}}, ops, {"c:0": "3", "c:1": "2"}))
    assert not doubled.passed and "1: 1 increment(s) applied twice" in doubled.evidence


def test_bank_total_and_negative_balances() -> None:
    init = {"bank": {"a:0": 100, "a:1": 100}}
    transfer = {
        "w": "bank",
        "f": "transfer",
        "from": "a:0",
        "to": "a:1",
        "amount": 30,
        "type": "ok",
        "result": "committed",
    }
    assert bank(history(init, [transfer], {"a:0": "70", "a:1": "130"})).passed
    broken = bank(history(init, [transfer], {"a:0": "70", "a:1": "100"}))
    assert not broken.passed and "total balance 170, expected 200" in broken.evidence
    overdrawn = bank(history(init, [transfer], {"a:0": "-10", "a:1": "210"}))
    assert not overdrawn.passed and "negative balance in account(s) 0" in overdrawn.evidence


def test_lua_cas_counts_only_applied_updates() -> None:
    ops = [
        {"w": "lua-cas", "f": "cas", "key": "r:0", "type": "ok", "applied": 1},
        {"w": "lua-cas", "f": "cas", "key": "r:0", "type": "ok", "applied": 0},
        {"w": "lua-cas", "f": "cas", "key": "r:0", "type": "ok", "applied": 1},
    ]
    assert lua_cas(history({"lua-cas": {"r:0": 0}}, ops, {"r:0": "2"})).passed
    lost_update = lua_cas(history({"lua-cas": {"r:0": 0}}, ops, {"r:0": "1"}))
    assert not lost_update.passed and "lost" in lost_update.evidence


def test_only_checkers_of_workloads_that_ran() -> None:
    verdicts = run_checkers(history({"counter": {"c:0": 0}}, [incr("c:0")], {"c:0": "1"}))
    assert [v.name for v in verdicts] == ["expect: counter checker (no lost or doubled INCR)"]
    missing = counter(history({"counter": {"c:0": 0}}, [incr("c:0")], {}))
    assert not missing.passed and "not read back" in missing.evidence


def sadd(key: str, element: str, outcome: str = "ok") -> Record:
    return {"w": "set", "f": "sadd", "key": key, "element": element, "type": outcome}


def test_set_checker_lost_from_nowhere_and_uncertain_either_way() -> None:
    ops = [sadd("s:0", "1-0"), sadd("s:0", "1-1", "info"), sadd("s:1", "2-0"), sadd("s:1", "2-1", "fail")]

    def judged(members: dict[str, list[str]]) -> Any:
        records = [{"t": 1.0 + i / 1000, "kind": "op", **op} for i, op in enumerate(ops)]
        records.append({"t": 9.0, "kind": "readback", "sets": members})
        return run_checkers(History(tuple(records)))

    (clean,) = judged({"s:0": ["1-0"], "s:1": ["2-0"]})  # the uncertain one not applied: fine
    assert clean.passed and "every one of 2 acknowledged elements present" in clean.evidence, clean.evidence
    assert judged({"s:0": ["1-0", "1-1"], "s:1": ["2-0"]})[0].passed  # the uncertain one applied: fine too
    (lost,) = judged({"s:0": [], "s:1": ["2-0"]})
    assert not lost.passed and "1 acknowledged element(s) lost, e.g. 1-0" in lost.evidence
    (nowhere,) = judged(
        {"s:0": ["1-0", "9-9"], "s:1": ["2-0", "2-1"]}
    )  # 2-1 certainly failed; 9-9 never sent
    assert not nowhere.passed and "2 member(s) no SADD sent" in nowhere.evidence, nowhere.evidence


def test_reads_checker_names_a_value_no_client_wrote() -> None:
    wrong = {"w": "acked-writes", "f": "read", "key": "d:acked-writes:3:7", "value": "9:9", "type": "ok"}
    (verdict,) = run_checkers(History(({"t": 5.0, "kind": "op", **wrong},)))
    assert not verdict.passed and "d:acked-writes:3:7 read '9:9' at t=5.000s" in verdict.evidence
    assert (
        run_checkers(History(({"t": 5.0, "kind": "op", "w": "acked-writes", "f": "write", "type": "ok"},)))
        == []
    )
