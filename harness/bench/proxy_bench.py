"""`drill bench proxy`: proxied vs direct throughput (pipeline 100, and 16 and 1 beside it), what a
Redis-aware toxic that matches nothing costs, and round trips under a 50 ms toxic. Given a running
Toxiproxy server (--toxiproxy), the same throughput through it too, in the same rounds."""

from __future__ import annotations

import contextlib
import os
import statistics
from collections.abc import Iterator
from dataclasses import dataclass

import requests
from tabulate import tabulate
from toxiproxy import Toxiproxy

from harness.bench.processes import proxy_process, redis_benchmark, scratch_redis
from harness.core.errors import BackendError

PIPELINE = 100
CLIENTS = 10
REQUESTS = 1_000_000
LATENCY_MS = 50
ROUNDS = 5
SMALLER_PIPELINES = ((16, 0.4), (1, 0.1))  # measured too (share of `requests` a run), in fewer rounds
SMALLER_ROUNDS = 3
GOAL = 0.90  # proxied / direct at pipeline 100


@dataclass(frozen=True, slots=True)
class Throughput:
    """Medians of one pipeline depth, ops/s: direct, through our proxy, through Toxiproxy (0: not run)."""

    pipeline: int
    direct: float
    proxied: float
    toxiproxy: float = 0.0

    @property
    def ratio(self) -> float:
        return self.proxied / self.direct if self.direct else 0.0


@dataclass(frozen=True, slots=True)
class ProxyBench:
    rows: tuple[Throughput, ...]  # pipeline 100 first
    toxic_p50_ms: float
    resp_rps: float  # proxied with a redis_delay toxic that matches no command
    toxiproxy: str = ""  # host:port of the Toxiproxy measured beside ours, if any

    @property
    def main(self) -> Throughput:
        return self.rows[0]

    @property
    def resp_ratio(self) -> float:
        return self.resp_rps / self.main.proxied if self.main.proxied else 0.0


def _api(port: int, host: str = "127.0.0.1") -> Toxiproxy:
    server = Toxiproxy()
    server.update_api_consumer(host, port)  # the client library keeps the address in class state
    return server


@contextlib.contextmanager
def _toxiproxy_link(address: tuple[str, int] | None, upstream: int) -> Iterator[int | None]:
    """A link to the scratch server on a running Toxiproxy (named for this process, removed after);
    yields its listening port, or None without a server."""
    if address is None:
        yield None
        return
    name = f"redis-drill-bench-{os.getpid()}"
    where = f"{address[0]}:{address[1]}"
    try:
        link = _api(address[1], address[0]).create(
            upstream=f"127.0.0.1:{upstream}", name=name, listen="127.0.0.1:0"
        )
    except requests.RequestException as exc:
        raise BackendError(f"no Toxiproxy answers at {where} ({type(exc).__name__})") from None
    except Exception as exc:  # the library's own errors: an existing name, a refused listen address
        raise BackendError(f"the Toxiproxy at {where} refused a link: {exc}") from None
    try:
        yield int(link.listen.rsplit(":", 1)[1])
    finally:
        with contextlib.suppress(Exception):
            _api(address[1], address[0]).get_proxy(name).destroy()


def run_proxy_bench(requests_per_run: int = REQUESTS, toxiproxy: tuple[str, int] | None = None) -> ProxyBench:
    with (
        scratch_redis() as redis_port,
        proxy_process() as api_port,
        _toxiproxy_link(toxiproxy, redis_port) as theirs,
    ):
        # Made last (after any Toxiproxy link), so the library's class-held address stays ours from here on.
        proxy = _api(api_port).create(upstream=f"127.0.0.1:{redis_port}", name="bench")
        ours = int(proxy.listen.rsplit(":", 1)[1])

        def measure(pipeline: int, count: int) -> tuple[float, float, float]:
            args = _set_load(pipeline, count)
            return (
                redis_benchmark(redis_port, *args).rps,
                redis_benchmark(ours, *args).rps,
                redis_benchmark(theirs, *args).rps if theirs is not None else 0.0,
            )

        # Alternate direct and proxied runs and take medians: two cores make single runs noisy.
        per_round = requests_per_run // ROUNDS
        rounds, resp = [], []
        for _ in range(ROUNDS):
            rounds.append(measure(PIPELINE, per_round))
            # The proxy parses what may match; a name no command has costs a search per read.
            attributes = {"commands": "NOSUCHCOMMAND", "latency": LATENCY_MS}
            proxy.add_toxic(name="unmatched", type="redis_delay", stream="upstream", attributes=attributes)
            resp.append(redis_benchmark(ours, *_set_load(PIPELINE, per_round)).rps)
            proxy.destroy_toxic("unmatched")
        rows = [_medians(PIPELINE, rounds)]
        for pipeline, share in SMALLER_PIPELINES:
            count = int(requests_per_run * share)
            rows.append(_medians(pipeline, [measure(pipeline, count) for _ in range(SMALLER_ROUNDS)]))
        proxy.add_toxic(type="latency", attributes={"latency": LATENCY_MS})
        slow = redis_benchmark(ours, "-t", "ping_mbulk", "-c", "1", "-n", "40")
        where = f"{toxiproxy[0]}:{toxiproxy[1]}" if toxiproxy else ""
        return ProxyBench(tuple(rows), slow.p50_ms, statistics.median(resp), where)


def _set_load(pipeline: int, count: int) -> tuple[str, ...]:
    return ("-t", "set", "-P", str(pipeline), "-c", str(CLIENTS), "-n", str(count))


def _medians(pipeline: int, runs: list[tuple[float, float, float]]) -> Throughput:
    return Throughput(pipeline, *(statistics.median(run[i] for run in runs) for i in range(3)))


def render(result: ProxyBench) -> str:
    main = result.main
    rows: list[tuple[str, str, str]] = [
        (
            f"SET pipeline {PIPELINE}, {CLIENTS} clients: direct (median of {ROUNDS})",
            f"{main.direct:,.0f} ops/s",
            "",
        ),
        (
            "same through the proxy, no toxic",
            f"{main.proxied:,.0f} ops/s",
            f"ratio {main.ratio:.2f} (goal >= {GOAL:.2f})",
        ),
        *(
            (
                f"SET pipeline {row.pipeline}: direct / through the proxy (median of {SMALLER_ROUNDS})",
                f"{row.direct:,.0f} / {row.proxied:,.0f} ops/s",
                f"ratio {row.ratio:.2f}" if row.direct else "",
            )
            for row in result.rows[1:]
        ),
    ]
    if result.toxiproxy:
        rows += [
            (
                f"SET pipeline {row.pipeline}: through Toxiproxy at {result.toxiproxy}",
                f"{row.toxiproxy:,.0f} ops/s",
                f"ratio {row.toxiproxy / row.direct:.2f} to direct; ours / Toxiproxy "
                f"{row.proxied / row.toxiproxy:.2f} (goal >= 1.00)"
                if row.direct and row.toxiproxy
                else "",
            )
            for row in result.rows
        ]
    rows += [
        (
            f"SET pipeline {PIPELINE} through the proxy with a redis_delay toxic matching no command",
            f"{result.resp_rps:,.0f} ops/s",
            f"ratio to no toxic {result.resp_ratio:.2f} (goal >= 0.90)",
        ),
        (
            f"PING p50 with a {LATENCY_MS} ms latency toxic",
            f"{result.toxic_p50_ms:.1f} ms",
            f"+{result.toxic_p50_ms - LATENCY_MS:.1f} ms over the toxic (goal <= +2 ms)",
        ),
    ]
    return tabulate(rows, headers=["measurement", "value", "verdict"], tablefmt="simple")
