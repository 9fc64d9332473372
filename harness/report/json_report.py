"""report.json: the RunReport as versioned JSON."""

from __future__ import annotations

import json

from harness.report.model import RunReport


def render_json(report: RunReport) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
