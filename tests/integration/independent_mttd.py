"""MTTD measured without the harness's own clocks, to hold the reported one against: from the killed
node's death (its first witness: a replica's log line that its primary's connection was lost, or Docker's
`die` event; locally the fault record's wall time) to the first +sdown any Sentinel wrote to its own log."""

from __future__ import annotations

import calendar
import json
import re
import time
from pathlib import Path
from typing import Any

# "1:X 02 Dec 2026 00:45:58.353 # +sdown master mymaster 127.0.0.1 6379"; the nodes log in UTC here.
SDOWN = re.compile(r"^\d+:X (\d+ \w+ \d+ [\d:]+)\.(\d{3}) # \+sdown master ")
# "1:S 02 Dec 2026 00:45:57.021 # Connection with master lost." (Valkey 8 and later: "with primary").
PRIMARY_LOST = re.compile(r"^\d+:S (\d+ \w+ \d+ [\d:]+)\.(\d{3}) . Connection with (?:master|primary) lost\.")


def records(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "observations.jsonl").open()]


def wall_origin(run_dir: Path) -> float:
    """The wall-clock time of the log's t = 0."""
    run = records(run_dir)[0]
    return float(run["wall_clock"]) - float(run["t"])


def first_sdown_wall(run_dir: Path) -> float:
    seen = _first_lines(run_dir, "sentinel-*.log", SDOWN, after=0.0)
    assert seen, "no Sentinel logged +sdown"
    return min(seen)


def primary_lost_wall(run_dir: Path) -> float | None:
    """The first time after the first fault that a replica logged losing its primary's connection: the kernel
    closes a killed process's sockets as it dies, so this follows the death by the replica's next event-loop
    turn, where Docker's `die` event trails it by containerd's and dockerd's round trip (25-100 ms here)."""
    seen = _first_lines(run_dir, "redis-*.log", PRIMARY_LOST, after=killed_wall(run_dir) - 0.01)
    return min(seen) if seen else None


def _first_lines(run_dir: Path, pattern: str, line: re.Pattern[str], after: float) -> list[float]:
    """Per log file matching `pattern`: the wall time of its first `line` at or after `after`."""
    seen = []
    for log in (run_dir / "logs").glob(pattern):
        for text in log.read_text().splitlines():
            if match := line.match(text):
                day = calendar.timegm(time.strptime(match.group(1), "%d %b %Y %H:%M:%S"))
                if (wall := day + int(match.group(2)) / 1000) >= after:
                    seen.append(wall)
                    break
    return seen


def killed_wall(run_dir: Path) -> float:
    """When the first fault was invoked, by the log's wall clock."""
    fault = next(r for r in records(run_dir) if r["kind"] == "fault")
    return wall_origin(run_dir) + float(fault["t"])
