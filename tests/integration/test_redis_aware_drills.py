"""Drills whose fault is a Redis-aware toxic of the drill's own proxy: errors the servers never sent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from toxiproxy import Toxiproxy

from tests.conftest import ROOT, drill, start_proxy
from tests.integration.test_drills import run_and_read

pytestmark = pytest.mark.integration


def test_readonly_on_30_percent_of_writes_is_ridden_out_by_a_retrying_client(runs: Path) -> None:
    code, report, _, stdout = run_and_read(ROOT / "scenarios" / "client-retry-readonly.yaml", runs)
    assert code == 0, stdout
    load = report["load"]
    assert load["fail"] == 0 and load["retries"] > 0 and set(load["retried_errors"]) == {"READONLY"}, load
    assert report["lost_writes"] == 0 and report["acknowledged_writes"] > 1000


def test_slow_writes_are_named_and_the_readers_are_spared(runs: Path) -> None:
    """redis_delay on SET only: the P2 detection names the writers, and the readers' p99 stays far under the
    writers' delay (judged against half of it: a loaded 2-core machine alone has taken it past 20 ms)."""
    code, report, _, stdout = run_and_read(ROOT / "scenarios" / "slow-writes.yaml", runs)
    assert code == 0, stdout
    checks = {c["name"]: c for c in report["checks"]}
    detected = checks["detect: latency_above acked-writes"]
    assert detected["passed"] and "acked-writes p99" in detected["evidence"], detected
    assert detected["measured"] < 2.0  # s after the fault
    assert checks["verify: latency_below kv"]["passed"]  # in every 2 s window, not just overall
    workloads = report["workloads"]
    # The delay reached the writers (their worst waited the whole 100 ms) and never the readers.
    assert workloads["acked-writes"]["max_us"] >= 100_000, workloads
    assert workloads["kv"]["p99_us"] < 50_000, workloads
    assert report["lost_writes"] == 0


@pytest.fixture
def external_proxy() -> Iterator[tuple[str, int]]:
    """The proxy started on its own, standing in for a team's running Toxiproxy server."""
    port, process = start_proxy()
    yield "127.0.0.1", port
    process.terminate()
    process.wait(timeout=10)


def test_loading_injected_on_every_command_then_gone_leaves_the_node_untouched(
    runs: Path, external_proxy: tuple[str, int]
) -> None:
    """On a Toxiproxy server the run does not own (--toxiproxy): its links are made there and removed."""
    host, port = external_proxy
    scenario = ROOT / "scenarios" / "loading-injected.yaml"
    code, report, run_dir, stdout = run_and_read(scenario, runs, "--toxiproxy", f"{host}:{port}")
    assert code == 0, stdout
    assert not (run_dir / "logs" / "proxy.log").exists()  # no proxy of its own
    server = Toxiproxy()
    server.update_api_consumer(host, port)
    assert server.proxies() == {}  # the run's links are gone from the server it borrowed
    errors = report["load"]["errors"]
    assert set(errors) == {"LOADING"} and errors["LOADING"] > 100, errors
    # The node never loaded: no LOADING in its own error counts, only in what the clients were told.
    lines = (run_dir / "observations.jsonl").read_text().splitlines()
    records = [line for line in lines if '"kind":"info"' in line]
    assert records and not any('"LOADING"' in line for line in records)
    assert report["lost_writes"] == 0


def test_toxiproxy_flag_is_checked_before_anything_starts(runs: Path) -> None:
    scenario = str(ROOT / "scenarios" / "loading-injected.yaml")
    remote = drill("run", scenario, "--toxiproxy", "10.1.2.3:8474", "--runs-dir", str(runs))
    assert remote.returncode == 2 and "not a loopback address" in remote.stderr, remote.stderr
    plain = drill("run", str(ROOT / "scenarios" / "primary-failover.yaml"), "--toxiproxy", "127.0.0.1:8474")
    assert plain.returncode == 2 and "needs an environment with proxy links" in plain.stderr, plain.stderr
    assert not runs.exists() or not any(runs.iterdir())
