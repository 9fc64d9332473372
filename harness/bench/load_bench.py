"""`drill bench load`: redis-benchmark and the harness's own Locust users against the same fresh server, with
the same number of connections, in one run: SET unpipelined, pipeline 16 and pipeline 100."""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import dataclass
from itertools import count
from pathlib import Path

from locust.env import Environment
from locust.event import Events
from tabulate import tabulate

from harness.bench.processes import redis_benchmark, scratch_redis
from harness.load.stats import IntervalStats
from harness.load.users import make_user_classes
from harness.load.watchdog import CallWatchdog
from harness.load.workloads.base import LoadContext
from harness.observation_log import ObservationLog
from harness.scenario.model import NO_RETRY, LoadSpec, WorkloadSpec

CONNECTIONS = 10
PIPELINES = (1, 16, 100)
GOALS = {1: 0.5, 16: 0.9, 100: 0.9}
WARMUP_S = 0.5
ROUNDS = 3


@dataclass(frozen=True, slots=True)
class LoadBenchRow:
    batch: int
    benchmark_rps: float
    harness_rps: float

    @property
    def ratio(self) -> float:
        return self.harness_rps / self.benchmark_rps if self.benchmark_rps else 0.0


def run_load_bench(seconds: float = 4.5) -> list[LoadBenchRow]:
    rows = []
    with scratch_redis() as port, tempfile.TemporaryDirectory(prefix="redis-drill-bench-") as scratch:
        for batch in PIPELINES:
            requests = int(70_000 * seconds / ROUNDS * (1 if batch == 1 else 12))
            # Alternate the two and take medians: on two cores single runs vary by a third.
            reference, harness = [], []
            for round_ in range(ROUNDS):
                args = ("-t", "set", "-c", str(CONNECTIONS), "-P", str(batch), "-n", str(requests))
                reference.append(redis_benchmark(port, *args).rps)
                log = Path(scratch) / f"bench-{batch}-{round_}.jsonl"
                harness.append(_harness_rps(port, batch, seconds / ROUNDS, log))
            rows.append(LoadBenchRow(batch, statistics.median(reference), statistics.median(harness)))
    return rows


def _harness_rps(port: int, batch: int, seconds: float, log_path: Path) -> float:
    """ops/s of the pipeline workload (batch 1: plain SET) with CONNECTIONS users, after a warm-up."""
    spec = LoadSpec(
        workloads=(WorkloadSpec("pipeline", CONNECTIONS, 0.0, batch=batch),),
        spawn_rate=1000,
        duration=seconds,
        timeout=2.0,
        retry=NO_RETRY,
    )
    stats = IntervalStats()
    log = ObservationLog(log_path)
    context = LoadContext(
        spec=spec,
        sentinels=(),
        master_name="",
        log=log,
        stats={"pipeline": stats},
        key_prefix="bench",
        user_ids=count(1),
        primary=("127.0.0.1", port),
        watchdog=CallWatchdog(spec.timeout),
    )
    environment = Environment(user_classes=make_user_classes(context), events=Events())
    runner = environment.create_local_runner()
    assert context.watchdog is not None
    context.watchdog.start()
    try:
        runner.start(CONNECTIONS, spawn_rate=100)
        time.sleep(WARMUP_S)
        stats.drain(0.0, "bench")
        start = time.perf_counter()
        time.sleep(seconds)
        measured = stats.drain(0.0, "bench")
        elapsed = time.perf_counter() - start
    finally:
        runner.quit()
        context.watchdog.stop()
        log.close()
    if measured["fail"] or measured["info"]:
        raise RuntimeError(f"the harness's users saw errors during the benchmark: {measured['errors']}")
    return float(measured["ok"]) / elapsed


def render(rows: list[LoadBenchRow]) -> str:
    table = [
        (
            "SET" if row.batch == 1 else f"SET pipeline {row.batch}",
            f"{row.benchmark_rps:,.0f}",
            f"{row.harness_rps:,.0f}",
            f"{row.ratio:.2f}",
            f">= {GOALS[row.batch]:.1f}",
        )
        for row in rows
    ]
    return f"{CONNECTIONS} connections each, same fresh redis-server, one run\n" + tabulate(
        table,
        headers=["command", "redis-benchmark ops/s", "harness users ops/s", "ratio", "goal"],
        tablefmt="simple",
    )
