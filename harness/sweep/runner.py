"""Run a sweep: bring the environment up, then for each RTT put a latency toxic on the link and measure
pipelined SET throughput with redis-benchmark for each batch and connection count."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.backends.choose import make_backend
from harness.backends.links import LinkControl
from harness.bench.processes import redis_benchmark
from harness.core.errors import BackendError
from harness.core.log_records import SweepRecord
from harness.core.run_context import RunContext
from harness.faults.network import NetworkFaults
from harness.scenario.model import NetworkSpec, Sweep
from harness.sweep.chart import render_sweep_html
from harness.sweep.model import BoundedCell, Cell, requests_for, with_bounds
from harness.sweep.report import render_csv

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class SweepResult:
    name: str
    run_id: str
    run_dir: Path
    cells: tuple[BoundedCell, ...]
    wall_time_s: float


def run_sweep(sweep: Sweep, runs_dir: Path, progress: Progress, backend_name: str = "local") -> SweepResult:
    started = time.monotonic()
    run = RunContext.create(runs_dir, sweep.name)
    log = run.open_log(sweep.name, sweep.seed, backend_name)
    backend = make_backend(backend_name, sweep.environment, run, sweep.name, sweep.seed)
    cells: list[Cell] = []
    try:
        progress(f"run {run.run_id}: starting {sweep.environment.name}")
        topology = backend.up()
        if topology.proxy_api is None:
            raise BackendError("a sweep needs proxied links (proxy: {clients: true} in the environment)")
        link = NetworkFaults(backend, topology, log).resolve(sweep.sweep.link, sweep.seed)
        host, port = topology.link(link).host, topology.link(link).port
        links = LinkControl(topology.proxy_api)
        spec = sweep.sweep
        for index, rtt in enumerate(spec.rtts):
            invoked = log.now()
            links.heal(link)
            if rtt:
                links.apply(link, NetworkSpec("latency", "both", latency=rtt))
            log.fault(
                invoked,
                index,
                "network",
                spec.link,
                topology.link(link).node,
                link=link,
                effect="latency",
                rtt=rtt,
            )
            for connections in spec.connections:
                for batch in spec.batches:
                    requests = requests_for(rtt, batch, connections, spec.cell_duration)
                    result = redis_benchmark(
                        port,
                        *("-t", "set", "-P", str(batch), "-c", str(connections), "-n", str(requests)),
                        host=host,
                    )
                    cell = Cell(rtt, batch, connections, requests, result.rps)
                    cells.append(cell)
                    log.write(
                        SweepRecord(
                            t=log.now(),
                            kind="sweep",
                            rtt=rtt,
                            batch=batch,
                            connections=connections,
                            requests=requests,
                            ops_per_s=result.rps,
                        )
                    )
                    progress(
                        f"rtt {rtt * 1000:g} ms, {connections} conn, batch {batch}: {result.rps:,.0f} ops/s"
                    )
    finally:
        backend.down()
        log.close()
    bounded = with_bounds(cells)
    (run.run_dir / "sweep.csv").write_text(render_csv(bounded), encoding="utf-8")
    page = render_sweep_html(tuple(bounded), sweep.name, run.run_id)
    (run.run_dir / "report.html").write_text(page, encoding="utf-8")
    return SweepResult(sweep.name, run.run_id, run.run_dir, tuple(bounded), time.monotonic() - started)
