"""Short-lived helper processes for benchmarks: a scratch redis-server and the proxy, always stopped."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import redis

from harness.backends.cluster_create import create_cluster
from harness.backends.local import HOST, INSTALL_HINT, free_cluster_port, free_port
from harness.clients.waiting import wait_for
from harness.core.errors import BackendError
from harness.core.slots import SLOTS
from harness.core.topology import Node, Shard, Topology


@contextlib.contextmanager
def scratch_redis(extra: tuple[str, ...] = ()) -> Iterator[int]:
    """A fresh redis-server on a free loopback port, no persistence; yields its port."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise BackendError(f"redis-server not found. Hint: {INSTALL_HINT}")
    port = free_cluster_port() if "--cluster-enabled" in extra else free_port()
    # In its own directory (a later --dir in `extra` wins): nothing it writes lands in the caller's cwd.
    scratch = tempfile.mkdtemp(prefix="redis-drill-bench-")
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            HOST,
            "--dir",
            scratch,
            "--save",
            "",
            "--appendonly",
            "no",
            *extra,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(host=HOST, port=port, socket_timeout=0.5)
        wait_for(
            lambda: None if client.ping() else "no PONG",
            timeout=10,
            what="scratch redis-server",
            hint="is redis-server runnable?",
            not_yet=(redis.ConnectionError,),
        )
        client.close()
        yield port
    finally:
        process.kill()
        process.wait()
        shutil.rmtree(scratch, ignore_errors=True)


@contextlib.contextmanager
def scratch_cluster(shards: int = 3) -> Iterator[tuple[tuple[str, int], ...]]:
    """Fresh cluster-enabled redis-servers, one primary per shard and no replicas, made one cluster as the
    drills make theirs; yields their addresses."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(shards):
            data = stack.enter_context(tempfile.TemporaryDirectory(prefix="redis-drill-bench-cluster-"))
            ports.append(stack.enter_context(scratch_redis(("--cluster-enabled", "yes", "--dir", data))))
        nodes = tuple(Node(f"redis-{i + 1}", "redis", HOST, port) for i, port in enumerate(ports))
        split = [SLOTS * i // shards for i in range(shards + 1)]
        layout = tuple(Shard(n.name, (), (split[i], split[i + 1] - 1)) for i, n in enumerate(nodes))
        topology = Topology("", nodes, nodes[0].name, shards=layout)
        create_cluster(topology, 20.0, lambda _: Path(os.devnull), lambda _: None)
        yield tuple(n.address_tuple for n in nodes)


@contextlib.contextmanager
def proxy_process() -> Iterator[int]:
    """The proxy as its own process (as drills run it); yields its API port."""
    process = subprocess.Popen(
        [sys.executable, "-m", "harness.proxy", "--listen", f"{HOST}:0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("listening on "):
            raise BackendError(f"the proxy did not start: {line.strip() or 'no output'}")
        yield int(line.rsplit(":", 1)[1])
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass(frozen=True, slots=True)
class BenchResult:
    test: str
    rps: float
    p50_ms: float


def redis_benchmark(port: int, *args: str, host: str = HOST) -> BenchResult:
    """Run redis-benchmark (CSV output) against a port (loopback by default); the first result row."""
    binary = shutil.which("redis-benchmark")
    if binary is None:
        raise BackendError(f"redis-benchmark not found. Hint: {INSTALL_HINT}")
    argv = [binary, "-h", host, "-p", str(port), "--csv", *args]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300)
    if done.returncode != 0:  # its own words: it says which connection failed and how
        said = (done.stderr.strip() or done.stdout.strip())[-300:] or "nothing"
        raise BackendError(f"{' '.join(argv[1:])} exited {done.returncode}: {said}")
    out = done.stdout
    header = out.find('"test"')  # --cluster prints the nodes it found first
    rows = [r for r in csv.DictReader(io.StringIO(out[max(header, 0) :])) if r.get("rps")]
    if not rows:
        raise BackendError(f"redis-benchmark printed no result: {out.strip()[:200]}")
    return BenchResult(rows[0]["test"], float(rows[0]["rps"]), float(rows[0]["p50_latency_ms"]))


def settle(seconds: float = 0.2) -> None:
    time.sleep(seconds)
