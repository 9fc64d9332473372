"""What a report says matches its verdicts (issue #32): a failed read-back is unknown with its reason in every
renderer (never 0), per shard where only some shards were read, reported loss is in the headline, and a
column keeps one precision."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

from harness.core.observation_log import Record
from harness.core.slots import key_slot
from harness.report.html import render_html
from harness.report.json_report import render_json
from harness.report.junit import render_junit
from harness.report.matrix_report import MatrixRun, render_matrix_table, summary
from harness.report.model import RunReport, build_report
from harness.report.table import render_table
from harness.report.timeline import build_timeline
from harness.runbooks.evaluate import evaluate
from harness.runbooks.history import History
from harness.runbooks.lost_writes import lost_by_shard, lost_writes
from harness.scenario.loader import load_scenario
from tests.unit.history_builder import ROOT, failover_log, failover_report

REASON = "ClusterDownError: The cluster is down"
SHARDS = [
    {"primary": "redis-1", "replicas": ["redis-4"], "slots": [0, 5460]},
    {"primary": "redis-2", "replicas": ["redis-5"], "slots": [5461, 10922]},
    {"primary": "redis-3", "replicas": ["redis-6"], "slots": [10923, 16383]},
]


def failed_readback_log(read: Any = lambda key: False) -> list[Record]:
    """The failover log, whose read-back read only the keys `read` picks and then failed."""
    log = [r for r in failover_log() if r["kind"] != "readback"]
    acked = {r["key"]: r["value"] for r in log if r["kind"] == "op" and r["type"] == "ok"}
    log.append(
        {
            "t": 12.1,
            "kind": "readback",
            "node": "redis-2",
            "values": {k: v for k, v in acked.items() if read(k)},
        }
    )
    log.append({"t": 12.2, "kind": "readback", "node": "redis-2", "error": REASON})
    return sorted(log, key=lambda r: r["t"])


def report_of(records: list[Record]) -> RunReport:
    scenario = load_scenario(ROOT / "scenarios" / "primary-failover.yaml")
    return build_report(
        scenario=scenario.name,
        run_id="r1",
        run_dir="/tmp/r1",
        backend="local",
        retry_policy="none",
        seed=7,
        wall_time_s=12.5,
        history=History(tuple(records)),
        evaluation=evaluate(scenario, records),
    )


def test_a_failed_read_back_is_unknown_with_its_reason_in_every_renderer() -> None:
    records = failed_readback_log()
    report = report_of(records)
    assert report.lost_writes is None and REASON in report.lost_writes_unknown
    assert report.outcome == "unknown"

    table = render_table(report)
    line = next(x for x in table.splitlines() if x.startswith("lost acknowledged writes"))
    assert "unknown of" in line and REASON in line and " 0 of" not in line

    data = json.loads(render_json(report))
    assert data["lost_writes"] is None and REASON in data["lost_writes_unknown"]

    html = render_html(report.to_dict(), build_timeline(records, report.mttd_s, report.mttr_s))
    summary_row = html[html.index("lost acknowledged writes") :].split("</tr>")[0]
    assert "unknown of" in summary_row and REASON in summary_row and ">0 of" not in summary_row

    junit = ET.fromstring(render_junit(report))
    case = next(c for c in junit.iter("testcase") if c.get("name") == "expect: lost_acknowledged_writes")
    error = case.find("error")
    assert error is not None and REASON in (error.text or "")

    runs = [MatrixRun("redis-7.0", "7.0.15", 1, report, tuple(records))]
    lost = summary(runs)["redis-7.0"]["measures"]["acknowledged writes lost"]
    assert lost["values"] == [None] and REASON in lost["unknown"][0]
    matrix_line = next(x for x in render_matrix_table("f", runs).splitlines() if x.startswith("acknowledged"))
    assert "unknown (read-back failed" in matrix_line


def test_a_partial_read_back_gives_figures_for_the_shards_read_and_unknown_for_the_rest() -> None:
    def first_shard(key: str) -> bool:
        return key_slot(key) <= 5460

    records = failed_readback_log(first_shard)
    records.insert(1, {"t": 0.5, "kind": "topology", "shards": SHARDS, "security": {}})
    history = History(tuple(records))
    shards = {s.shard: s for s in lost_by_shard(history, lost_writes(history))}
    assert shards["redis-1"].lost == 0 and shards["redis-1"].acknowledged > 0
    for name in ("redis-2", "redis-3"):
        assert shards[name].lost is None and "were not read back" in shards[name].unknown, shards[name]
    report = report_of(records)
    text = render_table(report)
    by_shard = next(x for x in text.splitlines() if x.startswith("lost by shard"))
    assert f"redis-1's 0 of {shards['redis-1'].acknowledged}" in by_shard
    assert "redis-2's unknown of" in by_shard and "redis-3's unknown of" in by_shard
    html = render_html(report.to_dict(), build_timeline(records, report.mttd_s, report.mttr_s))
    assert "lost on redis-2&#x27;s shard (slots 5461-10922)</th><td>unknown of" in html


def test_reported_loss_is_in_the_headline_of_every_renderer() -> None:
    built = failover_report(lose_key="k20")  # primary-failover reports loss: it passes
    report = built.report
    assert report.outcome == "passed" and report.lost_writes == 1
    headline = f"PASSED · 1 of {report.acknowledged_writes:,} acknowledged writes lost (reported)"
    assert report.headline == headline
    assert render_table(report).rstrip().splitlines()[-1].startswith(headline)
    data = json.loads(render_json(report))
    assert data["headline"] == headline and data["reported_loss"] is True
    html = render_html(report.to_dict(), build_timeline(built.records, built.mttd, built.mttr))
    assert f"<span class='verdict reported'>{headline}" in html
    clean = failover_report().report
    assert clean.headline == "PASSED" and "verdict passed'>PASSED<" in render_html(
        clean.to_dict(), build_timeline(failover_report().records, clean.mttd_s, clean.mttr_s)
    )


def test_every_matrix_and_load_bench_column_has_one_precision() -> None:
    import dataclasses

    from harness.bench.load_figures import LoadBenchRow, render

    report = failover_report().report
    runs = [
        MatrixRun("redis-7.0", "7.0.15", 1, dataclasses.replace(report, mttd_s=1.56), ()),
        MatrixRun("valkey-8.1", "8.1.8", 1, dataclasses.replace(report, mttd_s=1.549), ()),
    ]
    mttd_row = next(x for x in render_matrix_table("f", runs).splitlines() if x.startswith("MTTD"))
    assert "1.560" in mttd_row and "1.549" in mttd_row
    rows = [LoadBenchRow(100, 1_000_000.0, 760_000.0, 900_000.0)]
    text = render(rows)
    assert "0.76" in text and ">= 0.90" in text and ">= 0.9 " not in text
