"""`drill bench soak`: the harness's own footprint under a long full load. Runs a drill (default
scenarios/soak.yaml: two minutes, a failover in the middle) as its own process and samples, every second, the
resident memory of the drill and its load workers and the size of its observation log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tabulate import tabulate

LOG_GOAL_MB_PER_MIN = 10.0
RSS_GOAL_MB = 500.0
MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Sample:
    t: float  # seconds since the drill started
    rss_mb: float  # the drill process and its load workers
    log_mb: float  # observations.jsonl


@dataclass(frozen=True, slots=True)
class SoakResult:
    scenario: str
    exit_code: int
    load_s: float
    samples: tuple[Sample, ...]
    ops_per_s: float | None = None  # the load the footprint was measured under (None: no report written)
    tracked_writes_per_s: float | None = None  # of which per-operation records (acknowledged writes)

    @property
    def log_mb_per_min(self) -> float:
        return self.samples[-1].log_mb / (self.load_s / 60) if self.samples and self.load_s else 0.0

    @property
    def rss_max_mb(self) -> float:
        return max((s.rss_mb for s in self.samples), default=0.0)

    def rss_at(self, fraction: float) -> float:
        """RSS at this fraction of the load (0.25: a quarter in)."""
        loaded = [s for s in self.samples if s.t <= self.load_s]
        return loaded[min(len(loaded) - 1, int(len(loaded) * fraction))].rss_mb if loaded else 0.0


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _harness_pids(root: int) -> list[int]:
    """The drill and its Python children (load workers); the topology's servers are not the harness."""
    pids = [root]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == root and b"harness.load.worker" in cmdline:
            pids.append(int(entry.name))
    return pids


def run_soak_bench(scenario: Path, load_s: float) -> SoakResult:
    with tempfile.TemporaryDirectory(prefix="drill-soak-") as runs:
        proc = subprocess.Popen(
            [sys.executable, "-m", "harness", "run", str(scenario), "--runs-dir", runs, "--quiet"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=os.environ.copy(),
        )
        started = time.monotonic()
        samples: list[Sample] = []
        try:
            while proc.poll() is None:
                logs = list(Path(runs).glob("*/observations.jsonl"))
                size = logs[0].stat().st_size / MB if logs else 0.0
                rss = sum(_rss_mb(pid) for pid in _harness_pids(proc.pid))
                samples.append(Sample(round(time.monotonic() - started, 1), round(rss, 1), round(size, 2)))
                time.sleep(1.0)
        finally:
            if proc.poll() is None:
                proc.terminate()
            code = proc.wait()
        logs = list(Path(runs).glob("*/observations.jsonl"))
        if logs and samples:  # the last lines land after the last sample
            last = samples[-1]
            samples[-1] = Sample(last.t, last.rss_mb, round(logs[0].stat().st_size / MB, 2))
        ops, tracked = _load_held(Path(runs))
    return SoakResult(str(scenario), code, load_s, tuple(samples), ops, tracked)


def _load_held(runs: Path) -> tuple[float | None, float | None]:
    """ops/s and tracked writes/s from the drill's own report: a footprint means nothing without its load."""
    reports = list(runs.glob("*/report.json"))
    if not reports:
        return None, None
    report = json.loads(reports[0].read_text())
    duration = float(report["load"]["duration_s"])
    tracked = report["acknowledged_writes"] / duration if duration else None
    return float(report["load"]["ops_per_s"]), tracked


def render(result: SoakResult) -> str:
    quarter, half, end = (result.rss_at(f) for f in (0.25, 0.5, 1.0))
    growth = (end - half) / (result.load_s / 2 / 60) if result.load_s else 0.0
    rows = [
        (
            "load held",
            "unknown (the drill wrote no report)"
            if result.ops_per_s is None
            else f"{result.ops_per_s:,.0f} ops/s, of which {result.tracked_writes_per_s or 0:,.0f} tracked "
            "writes/s (a log record each)",
            "",
            "",
        ),
        (
            "observation log",
            f"{result.samples[-1].log_mb if result.samples else 0:.1f} MB, "
            f"{result.log_mb_per_min:.2f} MB per minute of load",
            f"<= {LOG_GOAL_MB_PER_MIN:g} MB/min",
            "ok" if result.log_mb_per_min <= LOG_GOAL_MB_PER_MIN else "over",
        ),
        (
            "harness RSS",
            f"{quarter:.0f} MB a quarter in, {half:.0f} MB halfway, {end:.0f} MB at the end, "
            f"max {result.rss_max_mb:.0f} MB",
            f"< {RSS_GOAL_MB:g} MB",
            "ok" if result.rss_max_mb < RSS_GOAL_MB else "over",
        ),
        ("RSS growth, second half", f"{growth:+.1f} MB per minute", "flat", ""),
    ]
    table = tabulate(rows, headers=["", "measured", "goal", ""], tablefmt="simple")
    outcome = "passed" if result.exit_code == 0 else f"exit {result.exit_code}"
    return f"soak: {result.scenario}, {result.load_s:g} s of load (the drill {outcome})\n{table}"
