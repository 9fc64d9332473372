"""`drill bench proxy`: proxied vs direct throughput (pipeline 100, and 16 and 1 beside it), what a
Redis-aware toxic that matches nothing costs, and round trips under a 50 ms toxic."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from tabulate import tabulate
from toxiproxy import Toxiproxy

from harness.bench.processes import proxy_process, redis_benchmark, scratch_redis

PIPELINE = 100
CLIENTS = 10
REQUESTS = 1_000_000
LATENCY_MS = 50
ROUNDS = 5
SMALLER_PIPELINES = ((16, 0.4), (1, 0.1))  # measured too (share of `requests` a run), in fewer rounds
SMALLER_ROUNDS = 3
GOAL = 0.90  # proxied / direct at pipeline 100


@dataclass(frozen=True, slots=True)
class ProxyBench:
    direct_rps: float
    proxied_rps: float
    toxic_p50_ms: float
    resp_rps: float = 0.0  # proxied with a redis_delay toxic that matches no command
    smaller: tuple[tuple[int, float, float], ...] = ()  # (pipeline, direct, proxied) medians

    @property
    def resp_ratio(self) -> float:
        return self.resp_rps / self.proxied_rps if self.proxied_rps else 0.0

    @property
    def ratio(self) -> float:
        return self.proxied_rps / self.direct_rps if self.direct_rps else 0.0


def run_proxy_bench(requests: int = REQUESTS) -> ProxyBench:
    with scratch_redis() as redis_port, proxy_process() as api_port:
        toxiproxy = Toxiproxy()
        toxiproxy.update_api_consumer("127.0.0.1", api_port)  # the client library keeps this in class state
        proxy = toxiproxy.create(upstream=f"127.0.0.1:{redis_port}", name="bench")
        proxied_port = int(proxy.listen.rsplit(":", 1)[1])
        load = ("-t", "set", "-P", str(PIPELINE), "-c", str(CLIENTS), "-n", str(requests // ROUNDS))
        # Alternate direct and proxied runs and take medians: two cores make single runs noisy.
        direct, proxied, resp = [], [], []
        for _ in range(ROUNDS):
            direct.append(redis_benchmark(redis_port, *load).rps)
            proxied.append(redis_benchmark(proxied_port, *load).rps)
            # The proxy parses what may match; a name no command has costs a search per read.
            attributes = {"commands": "NOSUCHCOMMAND", "latency": LATENCY_MS}
            proxy.add_toxic(name="unmatched", type="redis_delay", stream="upstream", attributes=attributes)
            resp.append(redis_benchmark(proxied_port, *load).rps)
            proxy.destroy_toxic("unmatched")
        smaller = []
        for batch, share in SMALLER_PIPELINES:
            count = int(requests * share)
            args = ("-t", "set", "-P", str(batch), "-c", str(CLIENTS), "-n", str(count))
            pairs = [
                (redis_benchmark(redis_port, *args).rps, redis_benchmark(proxied_port, *args).rps)
                for _ in range(SMALLER_ROUNDS)
            ]
            smaller.append(
                (batch, statistics.median(d for d, _ in pairs), statistics.median(p for _, p in pairs))
            )
        proxy.add_toxic(type="latency", attributes={"latency": LATENCY_MS})
        slow = redis_benchmark(proxied_port, "-t", "ping_mbulk", "-c", "1", "-n", "40")
        return ProxyBench(
            statistics.median(direct),
            statistics.median(proxied),
            slow.p50_ms,
            statistics.median(resp),
            tuple(smaller),
        )


def render(result: ProxyBench) -> str:
    rows = [
        (
            f"SET pipeline {PIPELINE}, {CLIENTS} clients: direct (median of {ROUNDS})",
            f"{result.direct_rps:,.0f} ops/s",
            "",
        ),
        (
            "same through the proxy, no toxic",
            f"{result.proxied_rps:,.0f} ops/s",
            f"ratio {result.ratio:.2f} (goal >= {GOAL:.2f})",
        ),
        *(
            (
                f"SET pipeline {batch}: direct / through the proxy (median of {SMALLER_ROUNDS})",
                f"{direct:,.0f} / {proxied:,.0f} ops/s",
                f"ratio {proxied / direct:.2f}" if direct else "",
            )
            for batch, direct, proxied in result.smaller
        ),
        (
            "same with a redis_delay toxic matching no command",
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
