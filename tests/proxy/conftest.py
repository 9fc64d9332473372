"""A real redis-server as the upstream and the proxy as its own process, driven by toxiproxy-python."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis
from toxiproxy import Toxiproxy

from harness.backends.local import free_port
from tests.conftest import start_proxy, wait_until


@dataclass(frozen=True)
class ProxyProcess:
    port: int
    process: subprocess.Popen[str]


@pytest.fixture(scope="module")
def redis_port() -> Iterator[int]:
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port, socket_timeout=0.5)
    wait_until(lambda: _pings(client), 10, "redis-server to answer")
    yield port
    server.kill()
    server.wait()


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


@pytest.fixture(scope="module")
def proxy_process() -> Iterator[ProxyProcess]:
    port, process = start_proxy("--seed", "1")
    yield ProxyProcess(port, process)
    process.terminate()
    assert process.wait(timeout=10) == 0


@pytest.fixture
def toxiproxy(proxy_process: ProxyProcess) -> Iterator[Toxiproxy]:
    server = Toxiproxy()
    # toxiproxy-python keeps its address in class attributes; point them at this test's proxy.
    server.update_api_consumer("127.0.0.1", proxy_process.port)
    server.destroy_all()
    yield server
    server.destroy_all()
