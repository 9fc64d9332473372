"""Write a judged run's reports (report.json, junit.xml, report.html) into a directory."""

from __future__ import annotations

from pathlib import Path

from harness.core.observation_log import Record
from harness.report.html import render_html
from harness.report.json_report import render_json
from harness.report.junit import render_junit
from harness.report.model import RunReport
from harness.report.timeline import build_timeline


def write_reports(out_dir: Path, report: RunReport, records: list[Record]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(render_json(report), encoding="utf-8")
    (out_dir / "junit.xml").write_text(render_junit(report), encoding="utf-8")
    document = report.to_dict()
    timeline = build_timeline(records, report.mttd_s, report.mttr_s, document["checks"])
    (out_dir / "report.html").write_text(render_html(document, timeline), encoding="utf-8")
