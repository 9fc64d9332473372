"""Reports: one JUnit testcase per check, a versioned JSON, and a table with the headline numbers."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from harness.report.json_report import render_json
from harness.report.junit import render_junit
from harness.report.model import SCHEMA_VERSION, RunReport
from harness.report.table import render_table
from tests.unit.history_builder import failover_report

ROOT = Path(__file__).resolve().parents[2]


def make_report(**changes: Any) -> RunReport:
    return failover_report(**changes).report


def test_junit_has_one_testcase_per_check_and_marks_failures() -> None:
    report = make_report(odown=False)
    root = ET.fromstring(render_junit(report))
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == len(report.checks)
    failed = [c.get("name") for c in cases if c.find("failure") is not None]
    assert failed == ["detect: sentinel_event +odown (incident)"]
    assert root.find("./testsuite").get("failures") == "1"  # type: ignore[union-attr]


def test_json_is_versioned_and_carries_checks() -> None:
    data = json.loads(render_json(make_report()))
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["passed"] is True
    assert data["mttd_s"] == 1.02
    assert {c["status"] for c in data["checks"]} == {"pass"}
    assert data["load"]["errors"] == {"connection-refused": 25}


def test_table_shows_headline_numbers() -> None:
    text = render_table(make_report(lose_key="k20"))
    assert "MTTD" in text and "1.020s" in text
    assert "lost acknowledged writes  1 of" in text
    assert text.rstrip().splitlines()[-1].startswith("PASSED")
