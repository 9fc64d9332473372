"""`drill report RUN_DIR`: report.html again from report.json and observations.jsonl."""

from __future__ import annotations

import json
from pathlib import Path

from harness.core.errors import Problem, UsageError
from harness.core.observation_log import read_log
from harness.report.html import render_html
from harness.report.timeline import build_timeline


def rerender(run_dir: Path) -> Path:
    """Write run_dir/report.html; returns its path."""
    report_file, log_file = run_dir / "report.json", run_dir / "observations.jsonl"
    for needed in (report_file, log_file):
        if not needed.is_file():
            raise UsageError(f"drill report: {needed} not found; give the directory of a finished run")
    try:
        report = json.loads(report_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UsageError(
            str(Problem(str(report_file), exc.lineno, "", f"not valid JSON: {exc.msg}"))
        ) from None
    timeline = build_timeline(
        read_log(log_file), report.get("mttd_s"), report.get("mttr_s"), report.get("checks", [])
    )
    out = run_dir / "report.html"
    out.write_text(render_html(report, timeline), encoding="utf-8")
    return out
