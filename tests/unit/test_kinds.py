"""One definition per kind: the check catalogue drives the loader, `drill kinds` and the docs' table;
a check that cannot judge says so (unknown, exit 3); `drill evaluate` judges a stored run again."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import get_args

import pytest

from harness.cli.kinds import render_kinds
from harness.cli.main import ExitCode, exit_code, main
from harness.core.histograms import bucket_of
from harness.core.log_records import FaultRecord, describe_kinds, record_problems
from harness.faults.server import ServerFaults
from harness.respond.actions import ACTIONS
from harness.runbooks.checks.registry import all_checks, make_step, run_check
from harness.runbooks.history import History
from harness.scenario.durations import Bound
from harness.scenario.fault_kinds import OTHER_FAULTS, SERVER_FAULT_KINDS
from harness.scenario.fields import Invalid
from harness.scenario.model import ServerFaultKind, WorkloadKind
from harness.scenario.params import parse_size
from harness.scenario.procedure_kinds import GATHERERS, REMEDIATIONS, TRIGGERS
from harness.scenario.workload_kinds import WORKLOAD_KINDS
from tests.unit.history_builder import KILL_AT, ROOT, failover_log, failover_report

# The hand-written docs pages (the reference pages are generated, so they would prove nothing here).
DOCS = "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs").glob("*.md")))
RUNBOOKS_PAGE = (ROOT / "docs" / "runbooks.md").read_text(encoding="utf-8")


def test_runbooks_page_check_table_lists_exactly_the_defined_checks() -> None:
    table = RUNBOOKS_PAGE[RUNBOOKS_PAGE.index("| check | holds when |") :]
    table = table[: table.index("\n\n")]
    documented = set(re.findall(r"`(\w+)`", "\n".join(line.split("|")[1] for line in table.splitlines()[2:])))
    assert documented == set(all_checks())


def test_runbooks_page_names_every_trigger_gatherer_and_remediation() -> None:
    for name in (*TRIGGERS, *GATHERERS, *REMEDIATIONS):
        assert f"`{name}" in RUNBOOKS_PAGE, name


def test_kinds_lists_every_check_with_its_parameters() -> None:
    text = render_kinds("checks")
    flat = " ".join(text.split())  # help wraps
    for name, definition in all_checks().items():
        assert f"  {name} " in text
        assert definition.help and definition.help in flat
    assert "below: duration (500ms, 2s) (required)" in flat  # latency_below's parameter, read as English


def memory_log(used: list[int]) -> list[dict[str, object]]:
    log: list[dict[str, object]] = [{"t": 0.0, "kind": "run"}, {"t": 3.0, "kind": "fault", "node": "redis-1"}]
    for i, u in enumerate(used):
        node = {"role": "master", "used_memory": u, "maxmemory": 100}
        log.append({"t": 3.0 + 0.25 * (i + 1), "kind": "info", "nodes": {"redis-1": node}})
    return log


def test_memory_below_holds_from_the_first_sample_under_the_ratio_to_the_end() -> None:
    step = make_step("memory_below", Bound(5.0), below=0.75)
    back = run_check(step, History(tuple(memory_log([95, 92, 60, 50]))), {}, "rb", "verify")
    assert back.passed and back.measured == 0.75, back.evidence
    still = run_check(step, History(tuple(memory_log([95, 60, 80, 90]))), {}, "rb", "verify")
    assert not still.passed and not still.unknown and "until the end" in still.evidence


def lag_log(replica_offsets: list[int]) -> list[dict[str, object]]:
    """The primary writes 100 bytes per 0.25 s sample; the replica reports the offsets given."""
    log: list[dict[str, object]] = [{"t": 0.0, "kind": "run"}, {"t": 3.0, "kind": "fault", "node": "redis-2"}]
    for i, have in enumerate(replica_offsets):
        nodes = {
            "redis-1": {"role": "master", "offset": 100 * (i + 1)},
            "redis-2": {"role": "slave", "offset": have, "link": "up", "primary": "redis-1"},
        }
        log.append({"t": 3.0 + 0.25 * (i + 1), "kind": "info", "nodes": nodes})
    return log


def test_replication_lag_below_holds_once_every_replica_has_caught_up_to_the_end() -> None:
    step = make_step("replication_lag_below", Bound(5.0), below=0.5)
    caught_up = [100, 100, 100, 100, 500, 600, 700]  # 0.75 s behind at 1.0 s, then current
    back = run_check(step, History(tuple(lag_log(caught_up))), {}, "rb", "verify")
    assert back.passed and back.measured == 1.25, back.evidence
    behind = [100, 100, 100, 100, 100, 100, 100]
    still = run_check(step, History(tuple(lag_log(behind))), {}, "rb", "verify")
    assert not still.passed and not still.unknown and "until the end" in still.evidence


def sync_log(syncs: list[int], buffers: list[int]) -> list[dict[str, object]]:
    log: list[dict[str, object]] = [{"t": 0.0, "kind": "run"}]
    for i, (count, held) in enumerate(zip(syncs, buffers, strict=True)):
        node = {"role": "master", "sync_full": count, "mem_clients_slaves": held}
        log.append({"t": 2.5 + 0.25 * i, "kind": "info", "nodes": {"redis-1": node}})
    log.insert(3, {"t": 3.0, "kind": "fault", "node": "redis-2"})
    return log


def test_full_sync_is_seen_when_the_primary_serves_one_after_the_incident() -> None:
    step = make_step("full_sync", Bound(2.0))
    seen = run_check(step, History(tuple(sync_log([1, 1, 1, 1, 2, 2], [0] * 6))), {}, "rb", "detect")
    assert seen.passed and seen.measured == 0.5 and "sync_full 1 -> 2" in seen.evidence, seen.evidence
    none = run_check(step, History(tuple(sync_log([1] * 6, [0] * 6))), {}, "rb", "detect")
    assert not none.passed and not none.unknown


def test_replica_buffers_within_judges_the_peak_in_megabytes_and_is_no_recovery_time() -> None:
    mb = 1024 * 1024
    step = make_step("replica_buffers_within", None, bytes=8 * mb)
    small = run_check(step, History(tuple(sync_log([1] * 6, [0, 0, mb, 6 * mb, mb, 0]))), {}, "rb", "verify")
    assert small.passed and small.measured == 6.0 and small.unit == "MB" and small.quantity
    # before the incident (the first two samples) does not count; after it, 9 MB is over the bound
    big = run_check(
        step, History(tuple(sync_log([1] * 6, [50 * mb, 0, 9 * mb, 0, 0, 0]))), {}, "rb", "verify"
    )
    assert not big.passed and big.measured == 9.0, big.evidence


def two_workloads_log(writer_ms: list[int], reader_ms: int = 1) -> list[dict[str, object]]:
    """Writers (acked-writes) at the latencies given per 0.5 s interval, readers (kv) steady."""
    log: list[dict[str, object]] = [{"t": 0.0, "kind": "run", "stats_interval": 0.5}]
    log.append({"t": 3.0, "kind": "fault", "node": "redis-1"})
    for i, ms in enumerate(writer_ms):
        for workload, latency in (("acked-writes", ms), ("kv", reader_ms)):
            hist = {str(bucket_of(latency * 1000)): 100}
            stats = {"workload": workload, "ok": 100, "fail": 0, "info": 0, "errors": {}, "hist": hist}
            log.append({"t": 3.0 + 0.5 * (i + 1), "kind": "stats", **stats})
    return log


def test_latency_checks_name_the_slow_workload_and_can_judge_one_alone() -> None:
    log = History(tuple(two_workloads_log([1, 50, 50, 1, 1, 1, 1, 1, 1])))
    seen = run_check(make_step("latency_above", Bound(2.0), above=0.02), log, {}, "rb", "detect")
    assert seen.passed and seen.evidence.startswith("acked-writes p99 49.5 ms"), seen.evidence
    readers = run_check(
        make_step("latency_above", Bound(2.0), above=0.02, workload="kv"), log, {}, "rb", "detect"
    )
    assert not readers.passed and "kv's p99 never exceeded 20 ms" in readers.evidence
    calm = run_check(
        make_step("latency_below", Bound(0.0), below=0.02, workload="kv"), log, {}, "rb", "verify"
    )
    assert calm.passed and calm.measured == 0.0, calm.evidence
    ghost = run_check(
        make_step("latency_below", Bound(5.0), below=0.02, workload="nope"), log, {}, "rb", "verify"
    )
    assert ghost.unknown and "no load intervals of nope" in ghost.evidence


def test_sizes_read_as_redis_conf_writes_them() -> None:
    assert [parse_size(v) for v in ("4mb", "512kb", "1m", "1GB", 1048576, "100")] == [
        4 * 1024 * 1024, 512 * 1024, 1_000_000, 1024**3, 1048576, 100,
    ]  # fmt: skip
    for bad in ("4 megabytes", "-1", "mb", True):
        with pytest.raises(Invalid):
            parse_size(bad)


def test_log_without_a_baseline_is_unknown_not_failed() -> None:
    no_baseline = [r for r in failover_log() if not (r["kind"] == "stats" and r["t"] < KILL_AT)]
    step = make_step("error_rate_back_to_baseline", Bound(10.0))
    verdict = run_check(step, History(tuple(no_baseline)), {}, "rb", "verify")
    assert verdict.unknown and not verdict.passed and "no baseline" in verdict.evidence
    assert verdict.status == "UNKNOWN"


def test_a_check_that_cannot_read_the_log_is_unknown() -> None:
    broken = [{**r, "nodes": None} if r["kind"] == "info" else r for r in failover_log()]
    verdict = run_check(
        make_step("replicas_attached", Bound(10.0)), History(tuple(broken)), {}, "rb", "verify"
    )
    assert verdict.unknown and "could not read the log" in verdict.evidence


def test_unknown_verdict_without_failures_exits_5(tmp_path: Path) -> None:
    built = failover_report()
    assert exit_code(built.report) == ExitCode.PASSED
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    records = [r for r in built.records if not (r["kind"] == "stats" and r["t"] < KILL_AT)]
    records[0] = {**records[0], "scenario_file": str(ROOT / "scenarios" / "primary-failover.yaml")}
    (run_dir / "observations.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    assert main(["evaluate", str(run_dir)]) == ExitCode.UNKNOWN
    report = json.loads((run_dir / "evaluated" / "report.json").read_text())
    assert report["outcome"] == "unknown"
    statuses = {c["name"]: c["status"] for c in report["checks"]}
    assert statuses["verify: error_rate_back_to_baseline"] == "UNKNOWN"
    assert statuses["expect: recovery_within"] == "UNKNOWN"
    assert "FAIL" not in statuses.values()
    junit = (run_dir / "evaluated" / "junit.xml").read_text()
    assert 'errors="2"' in junit and 'failures="0"' in junit


def test_evaluate_reproduces_a_run_and_fails_an_impossible_bound(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    built = failover_report()
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    records = [
        {**r, "scenario_file": str(ROOT / "scenarios" / "primary-failover.yaml")} if r["kind"] == "run" else r
        for r in built.records
    ]
    (run_dir / "observations.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    assert main(["evaluate", str(run_dir)]) == ExitCode.PASSED
    again = json.loads((run_dir / "evaluated" / "report.json").read_text())
    assert [(c["name"], c["status"]) for c in again["checks"]] == [
        (c.name, c.status) for c in built.report.checks
    ]
    assert main(["evaluate", str(run_dir), "--expect", "recovery_within=100ms"]) == ExitCode.CHECK_FAILED
    out = capsys.readouterr().out
    assert re.search(r"FAIL\s+scenario\s+expect: recovery_within", out)
    assert main(["evaluate", str(run_dir), "--expect", "recovery_within=soon"]) == ExitCode.BAD_INPUT
    assert "--expect: recovery_within" in capsys.readouterr().err


def test_declared_workloads_are_the_loads_own() -> None:
    """The loader's declarations and the load's implementations name the same workloads."""
    implemented = set()
    for module in (ROOT / "harness" / "load" / "workloads").glob("*.py"):
        implemented |= set(re.findall(r'^    kind = "([\w-]+)"$', module.read_text(), re.M))
    assert implemented == set(WORKLOAD_KINDS) == set(get_args(WorkloadKind))


def test_declared_server_faults_each_have_their_starter() -> None:
    assert set(SERVER_FAULT_KINDS) == set(ServerFaults.STARTERS) == set(get_args(ServerFaultKind))
    assert all(callable(getattr(ServerFaults, method)) for method in ServerFaults.STARTERS.values())


def test_docs_name_every_workload_and_fault() -> None:
    for name in (*WORKLOAD_KINDS, *SERVER_FAULT_KINDS, *OTHER_FAULTS):
        assert f"{name}:" in DOCS or f"`{name}`" in DOCS, name


def test_every_named_procedure_step_has_its_action() -> None:
    """The steps runbooks may name (procedure_kinds.py, read without the runtime) and what the responder
    does."""
    assert set(ACTIONS) == set(GATHERERS) | set(REMEDIATIONS)
    assert not set(GATHERERS) & set(REMEDIATIONS)


def test_log_docs_table_is_the_record_definitions() -> None:
    docs = (ROOT / "docs" / "observation-log.md").read_text(encoding="utf-8")
    start = "<!-- generated by `drill kinds log`: do not edit by hand -->\n"
    generated = docs[docs.index(start) + len(start) : docs.index("\n<!-- end generated -->")]
    assert generated == describe_kinds()


def test_record_problems_names_missing_and_undefined_fields() -> None:
    fault = FaultRecord(
        t=1.0, kind="fault", completed=1.1, index=0, action="kill", target="primary", node="redis-1"
    )
    assert record_problems([dict(fault)]) == []
    assert record_problems([{**fault, "index": None} | {"colour": "red"}]) == [
        "fault: undefined field colour"
    ]
    incomplete = {k: v for k, v in fault.items() if k != "completed"}
    assert record_problems([incomplete, incomplete]) == ["fault: missing completed"]  # each problem once
    assert record_problems([{"t": 0.0, "kind": "gossip"}]) == ["unknown record kind 'gossip'"]


def test_trigger_options_are_read_from_each_triggers_parameters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """state: belongs to the alert trigger only; the loader says so with the line, from the definitions."""
    runbook = tmp_path / "rb.yaml"
    runbook.write_text(
        "name: X\ndetect: [writable: {}]\nrespond:\n  when: {reply: BUSY, state: firing}\n"
        "  steps:\n    - remediate: set-maxmemory-policy\n      argument: most-lru\n"
    )
    assert main(["validate", str(runbook)]) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert f"{runbook}:4: respond.when.state: unknown key" in err
    assert f"{runbook}:7: respond.steps[0].argument: expected one of noeviction" in err


def test_kinds_wraps_every_help_whole_at_80_columns() -> None:
    """`drill kinds` cut check help at the docstring's first line (`writable ... (on a cluster:`): every
    help is there whole, wrapped, at 80 columns."""
    from harness.cli.kinds import render_kinds
    from harness.runbooks.checks.registry import all_checks

    text = render_kinds(width=80)
    lines = text.splitlines()
    assert all(len(line) <= 80 or " " not in line.strip() for line in lines), [
        line for line in lines if len(line) > 80
    ]
    flat = " ".join(text.split())
    for name, definition in all_checks().items():
        doc = " ".join((definition.judge.__doc__ or "").strip().split("\n\n")[0].split())
        assert definition.help == doc and doc in flat, name
    assert (
        "(on a cluster: a write to the incident's shard, after its replica was promoted if one was)" in flat
    )
    assert "then sees the receiving node serve them" in flat


def test_the_loader_and_the_registry_name_the_same_checks_with_the_same_parameters() -> None:
    """Check parameters are declared below the loader (scenario/check_kinds.py), judges above it: one
    catalogue, in one order, held together here."""
    from harness.scenario.check_kinds import CHECK_PARAMS

    assert list(CHECK_PARAMS) == list(all_checks())
    assert all(all_checks()[name].params is params for name, params in CHECK_PARAMS.items())
