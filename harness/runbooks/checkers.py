"""Data-safety checkers over the history (Jepsen style). An "info" operation may or may not have taken
effect: it widens what a checker accepts and is never counted as success or failure."""

from __future__ import annotations

from collections.abc import Callable

from harness.core.log_records import OpRecord
from harness.runbooks.history import History
from harness.runbooks.verdict import Verdict


def _verdict(name: str, problems: list[str], evidence: str) -> Verdict:
    """A checker's verdict: passed when it found no violation; evidence names them, or what held."""
    return Verdict(name, "checker", "expect", not problems, float(len(problems)), 0.0, "violations", evidence)


def _final_values(history: History) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for record in history.readbacks:
        values.update(record.get("values", {}))
    return values


def _initial(history: History, workload: str) -> dict[str, int] | None:
    for record in history.inits:
        if record.get("workload") == workload:
            return {k: int(v) for k, v in record["values"].items()}
    return None


def _ops(history: History, workload: str) -> list[OpRecord]:
    return [r for r in history.ops if r.get("w") == workload]


def _increments(history: History, workload: str, name: str, applied: Callable[[OpRecord], bool]) -> Verdict:
    """Registers that only go up by one per applied operation: final - initial must lie in [ok, ok + info]."""
    initial = _initial(history, workload)
    assert initial is not None
    final = _final_values(history)
    problems, total_ok, total_info = [], 0, 0
    for key, start in sorted(initial.items()):
        ops = [r for r in _ops(history, workload) if r.get("key") == key]
        ok = sum(1 for r in ops if r["type"] == "ok" and applied(r))
        info = sum(1 for r in ops if r["type"] == "info")
        total_ok, total_info = total_ok + ok, total_info + info
        value = final.get(key)
        if value is None:
            problems.append(f"{key.rsplit(':', 1)[-1]}: not read back")
            continue
        delta = int(value) - start
        if delta < ok:
            problems.append(f"{key.rsplit(':', 1)[-1]}: {ok - delta} acknowledged increment(s) lost")
        elif delta > ok + info:
            problems.append(
                f"{key.rsplit(':', 1)[-1]}: {delta - ok - info} increment(s) applied twice or from nowhere"
            )
    evidence = (
        "; ".join(problems)
        if problems
        else (
            f"{len(initial)} register(s): every one of {total_ok} acknowledged increments present "
            f"({total_info} uncertain allowed)"
        )
    )
    return _verdict(f"expect: {name}", problems, evidence)


def counter(history: History) -> Verdict:
    return _increments(history, "counter", "counter checker (no lost or doubled INCR)", lambda r: True)


def lua_cas(history: History) -> Verdict:
    return _increments(
        history, "lua-cas", "Lua CAS checker (no lost update)", lambda r: r.get("applied") == 1
    )


def bank(history: History) -> Verdict:
    """Transfers move money, never create or destroy it, and never overdraw an account."""
    initial = _initial(history, "bank")
    assert initial is not None
    final = _final_values(history)
    missing = [k for k in initial if final.get(k) is None]
    problems = [f"{len(missing)} account(s) not read back"] if missing else []
    balances = {k: int(v) for k, v in final.items() if k in initial and v is not None}
    expected, total = sum(initial.values()), sum(balances.values())
    if not missing and total != expected:
        problems.append(f"total balance {total}, expected {expected}")
    negative = sorted(k.rsplit(":", 1)[-1] for k, v in balances.items() if v < 0)
    if negative:
        problems.append(f"negative balance in account(s) {', '.join(negative)}")
    committed = sum(1 for r in _ops(history, "bank") if r["type"] == "ok" and r.get("result") == "committed")
    evidence = (
        "; ".join(problems)
        if problems
        else (
            f"total {total} = {expected} across {len(initial)} accounts after {committed} committed "
            "transfers, none negative"
        )
    )
    return _verdict("expect: bank checker (total constant, no negative balance)", problems, evidence)


def set_adds(history: History) -> Verdict:
    """Jepsen's set test: every acknowledged SADD's element is in its set at the end (else lost), and every
    member was sent by some SADD that did not certainly fail (else from nowhere); uncertain ones may be
    either way."""
    members: dict[str, set[str]] = {}
    read = False
    for record in history.readbacks:
        for key, found in record.get("sets", {}).items():
            members.setdefault(key, set()).update(found)
            read = True
    ops = _ops(history, "set")
    sent = {(r["key"], r.get("element", "")) for r in ops if r["type"] != "fail"}
    acknowledged = [(r["key"], r.get("element", "")) for r in ops if r["type"] == "ok"]
    uncertain = sum(1 for r in ops if r["type"] == "info")
    problems: list[str] = []
    if not read:
        problems.append("the sets were not read back")
    lost = [element for key, element in acknowledged if element not in members.get(key, set())]
    if read and lost:
        problems.append(f"{len(lost)} acknowledged element(s) lost, e.g. {', '.join(lost[:3])}")
    unexpected = sorted(m for key, found in members.items() for m in found if (key, m) not in sent)
    if unexpected:
        problems.append(f"{len(unexpected)} member(s) no SADD sent, e.g. {', '.join(unexpected[:3])}")
    evidence = (
        "; ".join(problems)
        if problems
        else (
            f"{len(members)} set(s): every one of {len(acknowledged)} acknowledged elements present, none "
            f"from nowhere ({uncertain} uncertain allowed either way)"
        )
    )
    return _verdict("expect: set checker (no acknowledged SADD lost, nothing never sent)", problems, evidence)


def reads(history: History) -> Verdict:
    """No read returned a value no client wrote: an acknowledged-writes key holds only its writer's one
    value, so its readers log a read only when it returned another (the evidence of a violation)."""
    wrong = [r for r in _ops(history, "acked-writes") if r.get("f") == "read"]
    problems = [f"{r.get('key')} read {r.get('value')!r} at t={float(r['t']):.3f}s" for r in wrong[:5]]
    if len(wrong) > 5:
        problems.append(f"{len(wrong) - 5} more")
    evidence = "; ".join(problems) if problems else "every read returned its key's one written value, or nil"
    return _verdict("expect: reads checker (no value no client wrote)", problems, evidence)


CHECKERS: dict[str, Callable[[History], Verdict]] = {"counter": counter, "lua-cas": lua_cas, "bank": bank}


def run_checkers(history: History) -> list[Verdict]:
    """Every checker whose workload ran (it logged its initial state, or its operations)."""
    present = {r.get("workload") for r in history.inits}
    verdicts = [check(history) for workload, check in CHECKERS.items() if workload in present]
    if any(r.get("w") == "set" for r in history.ops):
        verdicts.append(set_adds(history))
    if any(r.get("f") == "read" for r in history.ops):  # a wrong read is never silent; a nemesis always asks
        verdicts.append(reads(history))
    return verdicts
