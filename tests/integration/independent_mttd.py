"""MTTD measured without the harness's own clocks, to hold the reported one against: from the killed
node's death (Docker's `die` event; locally the fault record's wall time) to the first +sdown any Sentinel
wrote to its own log."""

from __future__ import annotations

import calendar
import json
import re
import time
from pathlib import Path
from typing import Any

# "1:X 02 Dec 2026 00:45:58.353 # +sdown master mymaster 127.0.0.1 6379"; the nodes log in UTC here.
SDOWN = re.compile(r"^\d+:X (\d+ \w+ \d+ [\d:]+)\.(\d{3}) # \+sdown master ")


def records(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "observations.jsonl").open()]


def wall_origin(run_dir: Path) -> float:
    """The wall-clock time of the log's t = 0."""
    run = records(run_dir)[0]
    return float(run["wall_clock"]) - float(run["t"])


def first_sdown_wall(run_dir: Path) -> float:
    seen = []
    for log in (run_dir / "logs").glob("sentinel-*.log"):
        for line in log.read_text().splitlines():
            if match := SDOWN.match(line):
                day = calendar.timegm(time.strptime(match.group(1), "%d %b %Y %H:%M:%S"))
                seen.append(day + int(match.group(2)) / 1000)
                break
    assert seen, "no Sentinel logged +sdown"
    return min(seen)


def killed_wall(run_dir: Path) -> float:
    """When the first fault was invoked, by the log's wall clock."""
    fault = next(r for r in records(run_dir) if r["kind"] == "fault")
    return wall_origin(run_dir) + float(fault["t"])
