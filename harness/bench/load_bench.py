"""`drill bench load`: redis-benchmark, the harness's own Locust users and a bare Locust user (a socket,
pre-encoded commands and a hiredis reader, no bookkeeping: the floor of Locust and gevent here) against the
same fresh server, with the same number of connections, in one run: SET unpipelined, pipeline 16 and 100."""

from __future__ import annotations

import contextlib
import statistics
import tempfile
import time
from itertools import count
from pathlib import Path

from locust import User, constant, task
from locust.env import Environment
from locust.event import Events

from harness.bench.load_figures import CONNECTIONS, ROUNDS, LoadBenchRow
from harness.bench.processes import redis_benchmark, scratch_cluster, scratch_redis
from harness.core.observation_log import ObservationLog
from harness.load.resp import RespConnection, encode
from harness.load.stats import IntervalStats
from harness.load.users import make_user_classes
from harness.load.watchdog import CallWatchdog
from harness.load.workloads.base import LoadContext
from harness.scenario.model import NO_RETRY, LoadSpec, WorkloadSpec

PIPELINES = (1, 16, 100)
WARMUP_S = 0.5


def run_load_bench(
    seconds: float = 4.5, connections: int = CONNECTIONS, cluster: bool = False
) -> list[LoadBenchRow]:
    """With `cluster`: a 3-primary cluster, redis-benchmark --cluster against the harness's cluster
    sessions (the bare user, one socket to one server, has no cluster counterpart and is left out)."""
    rows = []
    with contextlib.ExitStack() as stack:
        scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="redis-drill-bench-"))
        nodes = stack.enter_context(scratch_cluster()) if cluster else ()
        port = nodes[0][1] if nodes else stack.enter_context(scratch_redis())
        for batch in PIPELINES:
            requests = int(70_000 * seconds / ROUNDS * (1 if batch == 1 else 12))
            # Alternate the three and take medians: on two cores single runs vary by a third.
            reference, harness, bare = [], [], []
            for round_ in range(ROUNDS):
                args = ("-t", "set", "-c", str(connections), "-P", str(batch), "-n", str(requests))
                reference.append(redis_benchmark(port, *(("--cluster",) if nodes else ()), *args).rps)
                log = Path(scratch) / f"bench-{batch}-{round_}.jsonl"
                harness.append(_harness_rps(port, batch, seconds / ROUNDS, log, connections, nodes))
                bare.append(0.0 if nodes else _bare_rps(port, batch, seconds / ROUNDS, connections))
            medians = (statistics.median(reference), statistics.median(harness), statistics.median(bare))
            rows.append(LoadBenchRow(batch, *medians))
    return rows


def _bare_rps(port: int, batch: int, seconds: float, connections: int) -> float:
    """ops/s of bare Locust users: the same pre-encoded SETs on a RespConnection, counted and nothing else."""
    payload = b"".join(encode("SET", f"bench:bare:{i}", "v") for i in range(batch))
    done = [0]

    class BareUser(User):
        wait_time = constant(0)

        def on_start(self) -> None:
            self.conn = RespConnection("127.0.0.1", port, 2.0)

        def on_stop(self) -> None:
            self.conn.close()

        @task
        def step(self) -> None:
            self.conn.call(payload, batch)
            done[0] += batch

    environment = Environment(user_classes=[BareUser], events=Events())
    runner = environment.create_local_runner()
    try:
        runner.start(connections, spawn_rate=100)
        time.sleep(WARMUP_S)
        before, start = done[0], time.perf_counter()
        time.sleep(seconds)
        measured, elapsed = done[0] - before, time.perf_counter() - start
    finally:
        runner.quit()
    return measured / elapsed


def _harness_rps(
    port: int,
    batch: int,
    seconds: float,
    log_path: Path,
    connections: int,
    cluster: tuple[tuple[str, int], ...] = (),
) -> float:
    """ops/s of the pipeline workload (batch 1: plain SET) with `connections` users, after a warm-up; on
    `cluster`'s nodes when given (each user's keys share a hash tag, so its pipeline goes to one node, as
    redis-benchmark --cluster pins each of its clients to one node)."""
    spec = LoadSpec(
        workloads=(WorkloadSpec("pipeline", connections, 0.0, batch=batch),),
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
        primary=None if cluster else ("127.0.0.1", port),
        watchdog=CallWatchdog(spec.timeout),
        cluster=tuple((node, node) for node in cluster),
    )
    environment = Environment(user_classes=make_user_classes(context), events=Events())
    runner = environment.create_local_runner()
    assert context.watchdog is not None
    context.watchdog.start()
    try:
        runner.start(connections, spawn_rate=100)
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
