"""The unmodified toxiproxy-python client drives the embedded proxy; each toxic measured on real traffic."""

from __future__ import annotations

import json
import socket
import statistics
import time

import pytest
import redis
import requests
from toxiproxy import Toxiproxy
from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists
from toxiproxy.proxy import Proxy

from tests.proxy.conftest import ProxyProcess


def through(proxy: Proxy, timeout: float = 2.0) -> redis.Redis:
    host, port = proxy.listen.rsplit(":", 1)
    return redis.Redis(
        host=host,
        port=int(port),
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=redis.retry.Retry(redis.backoff.NoBackoff(), 0),
    )


def ping_ms(client: redis.Redis, n: int = 10) -> float:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        client.ping()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def raw_connect(proxy: Proxy) -> socket.socket:
    host, port = proxy.listen.rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=2)


def test_create_list_get_and_destroy(toxiproxy: Toxiproxy, redis_port: int) -> None:
    proxy = toxiproxy.create(upstream=f"127.0.0.1:{redis_port}", name="redis")
    assert proxy.enabled is True and proxy.listen.startswith("127.0.0.1:") and not proxy.listen.endswith(":0")
    assert set(toxiproxy.proxies()) == {"redis"}
    assert toxiproxy.get_proxy("redis").upstream == f"127.0.0.1:{redis_port}"
    assert through(proxy).ping()
    assert toxiproxy.destroy(proxy)
    assert toxiproxy.proxies() == {}
    assert json.loads(toxiproxy.version()) == {"version": "2.12.0"}  # JSON, as Toxiproxy 2.7+ answers


def test_api_errors_match_toxiproxy_codes(
    toxiproxy: Toxiproxy, redis_port: int, proxy_process: ProxyProcess
) -> None:
    proxy = toxiproxy.create(upstream=f"127.0.0.1:{redis_port}", name="redis")
    with pytest.raises(ProxyExists):  # the client checks first; the server must say 409 too
        toxiproxy.create(upstream=f"127.0.0.1:{redis_port}", name="redis")
    api = f"http://127.0.0.1:{proxy_process.port}"
    duplicate = requests.post(f"{api}/proxies", json={"name": "redis", "upstream": f"127.0.0.1:{redis_port}"})
    assert (duplicate.status_code, duplicate.json()) == (
        409,
        {"error": "proxy already exists", "status": 409},
    )
    with pytest.raises(NotFound):
        Proxy(name="nope", upstream="x", enabled=True, listen="x").toxics()
    with pytest.raises(InvalidToxic):
        proxy.add_toxic(type="teleport", attributes={})
    proxy.add_toxic(type="latency", attributes={"latency": 1})
    again = requests.post(
        f"{api}/proxies/redis/toxics", json={"type": "latency", "attributes": {"latency": 1}}
    )
    assert again.status_code == 409
    assert requests.get(f"{api}/proxies/redis/toxics/ghost").status_code == 404
    assert requests.post(f"{api}/proxies", data=b"{not json").status_code == 400
    unnamed = requests.post(f"{api}/proxies", json={"upstream": f"127.0.0.1:{redis_port}"})
    assert unnamed.json() == {"error": "missing required field: name", "status": 400}
    foreign = requests.post(f"{api}/proxies", json={"name": "far", "upstream": "192.0.2.1:6379"})
    assert foreign.status_code == 400 and "loopback" in foreign.json()["error"]
    both_wrong = requests.post(f"{api}/proxies/redis/toxics", json={"type": "teleport", "stream": "sideways"})
    assert both_wrong.json()["error"].startswith("stream was invalid")  # Toxiproxy checks the stream first
    half = [{"name": "a", "upstream": f"127.0.0.1:{redis_port}"}, {"name": "b"}]
    refused = requests.post(f"{api}/populate", json=half)
    assert refused.json() == {"error": "missing required field: upstream at proxy 2", "status": 400}
    assert "a" not in toxiproxy.proxies()  # checked whole before anything was made
    browser = requests.get(f"{api}/proxies", headers={"User-Agent": "Mozilla/5.0"})
    assert (browser.status_code, browser.text) == (403, "User agent not allowed\n")


def test_latency_toxic_delays_and_removal_restores(toxiproxy: Toxiproxy, redis_port: int) -> None:
    proxy = toxiproxy.create(upstream=f"127.0.0.1:{redis_port}", name="redis")
    client = through(proxy)
    assert ping_ms(client) < 10
    proxy.add_toxic(type="latency", stream="downstream", attributes={"latency": 50, "jitter": 0})
    assert 50 <= ping_ms(client) < 65
    proxy.add_toxic(type="latency", stream="upstream", name="up", attributes={"latency": 20})
    assert 70 <= ping_ms(client, 5) < 90
    assert set(proxy.toxics()) == {"latency_downstream", "up"}
    proxy.destroy_toxic("latency_downstream")
    proxy.destroy_toxic("up")
    assert ping_ms(client) < 10


def test_bandwidth_toxic_limits_throughput(toxiproxy: Toxiproxy, redis_port: int) -> None:
    redis.Redis(port=redis_port).set("big", b"x" * 256 * 1024)
    proxy = toxiproxy.create(upstream=f"127.0.0.1:{redis_port}", name="redis")
    client = through(proxy, timeout=5)
    start = time.perf_counter()
    assert len(client.get("big") or b"") == 256 * 1024
    free = time.perf_counter() - start
    proxy.add_toxic(type="bandwidth", attributes={"rate": 512})  # KB/s: 256 KB should take ~0.5 s
    start = time.perf_counter()
    assert len(client.get("big") or b"") == 256 * 1024
    limited = time.perf_counter() - start
    assert free < 0.1
    assert 0.45 <= limited < 1.0


@pytest.mark.parametrize("run", range(10))
def test_bandwidth_paces_from_the_first_byte(toxiproxy: Toxiproxy, redis_port: int, run: int) -> None:
    """100,000 bytes at 500 KB/s (KB = 1000 bytes, as Toxiproxy counts) take 0.2 s to within one 100 ms
    slice, every time: no first chunk passes before the rate applies (issue #37: 0.11 of 0.2 s burst)."""
    value = b"b" * 100_000
    redis.Redis(port=redis_port).set("paced", value)
    proxy = toxiproxy.create(upstream=f"127.0.0.1:{redis_port}", name="redis")
    proxy.add_toxic(type="bandwidth", stream="downstream", attributes={"rate": 500})
    client = through(proxy, timeout=5)
    client.ping()  # connected: the time below is the transfer's alone
    start = time.perf_counter()
    assert client.get("paced") == value
    assert 0.195 <= time.perf_counter() - start < 0.3


@pytest.mark.parametrize("run", range(10))
def test_reset_peer_timeout_zero_passes_nothing(toxiproxy: Toxiproxy, redis_port: int, run: int) -> None:
    """Toxiproxy's reset_peer with timeout 0 resets the connection before any byte passes either way."""
    proxy = toxiproxy.create(upstream=f"127.0.0.1:{redis_port}", name="redis")
    proxy.add_toxic(type="reset_peer", stream="downstream", attributes={"timeout": 0})
    received = b""
    # On loopback the reset may come before connect() returns.
    with pytest.raises(ConnectionResetError), raw_connect(proxy) as sock:
        sock.sendall(b"PING\r\n")
        while chunk := sock.recv(100):
            received += chunk
    assert received == b""


def test_timeout_zero_holds_data_until_removed(toxiproxy: Toxiproxy, redis_port: int) -> None:
    proxy = toxiproxy.create(upstream=f"127.0.0.1:{redis_port}", name="redis")
    sock = raw_connect(proxy)
    proxy.add_toxic(type="timeout", attributes={"timeout": 0})
    sock.sendall(b"PING\r\n")
    sock.settimeout(0.3)
    with pytest.raises(TimeoutError):
        sock.recv(100)
    proxy.destroy_toxic("timeout_downstream")
    sock.settimeout(2)
    assert sock.recv(100) == b"+PONG\r\n"
    sock.close()


def test_timeout_with_a_time_closes_the_connection(toxiproxy: Toxiproxy, redis_port: int) -> None:
    proxy = toxiproxy.create(upstream=f"127.0.0.1:{redis_port}", name="redis")
    sock = raw_connect(proxy)
    proxy.add_toxic(type="timeout", attributes={"timeout": 200})
    start = time.perf_counter()
    assert sock.recv(100) == b""  # closed, without any data
    assert 0.15 <= time.perf_counter() - start < 1.0


def test_reset_peer_resets_connections(toxiproxy: Toxiproxy, redis_port: int) -> None:
    proxy = toxiproxy.create(upstream=f"127.0.0.1:{redis_port}", name="redis")
    sock = raw_connect(proxy)
    sock.sendall(b"PING\r\n")
    assert sock.recv(100) == b"+PONG\r\n"
    proxy.add_toxic(type="reset_peer", attributes={"timeout": 100})
    with pytest.raises(ConnectionResetError):
        sock.sendall(b"PING\r\n")
        sock.recv(100)
        sock.recv(100)


def test_disable_refuses_and_drops_connections_enable_restores(toxiproxy: Toxiproxy, redis_port: int) -> None:
    proxy = toxiproxy.create(upstream=f"127.0.0.1:{redis_port}", name="redis")
    existing = raw_connect(proxy)
    with proxy.down():
        assert existing.recv(100) == b""
        with pytest.raises(ConnectionRefusedError):
            raw_connect(proxy)
        assert toxiproxy.get_proxy("redis").enabled is False
    assert through(proxy).ping()


def test_reset_enables_all_and_removes_toxics(toxiproxy: Toxiproxy, redis_port: int) -> None:
    proxy = toxiproxy.create(upstream=f"127.0.0.1:{redis_port}", name="redis")
    proxy.add_toxic(type="latency", attributes={"latency": 100})
    proxy.disable()
    assert toxiproxy.reset()
    assert proxy.toxics() == {}
    assert toxiproxy.get_proxy("redis").enabled is True
    assert ping_ms(through(proxy), 3) < 10


def test_slicer_keeps_data_intact(toxiproxy: Toxiproxy, redis_port: int) -> None:
    value = bytes(range(256)) * 64
    redis.Redis(port=redis_port).set("sliced", value)
    proxy = toxiproxy.create(upstream=f"127.0.0.1:{redis_port}", name="redis")
    proxy.add_toxic(type="slicer", attributes={"average_size": 100, "size_variation": 50, "delay": 10})
    assert through(proxy).get("sliced") == value


def test_limit_data_closes_after_the_limit(toxiproxy: Toxiproxy, redis_port: int) -> None:
    proxy = toxiproxy.create(upstream=f"127.0.0.1:{redis_port}", name="redis")
    proxy.add_toxic(type="limit_data", attributes={"bytes": 10})
    sock = raw_connect(proxy)
    sock.sendall(b"PING\r\nPING\r\nPING\r\n")
    received = b""
    while chunk := sock.recv(100):
        received += chunk
    assert received == b"+PONG\r\n+PONG\r\n"[:10]


def test_slow_close_delays_the_close(toxiproxy: Toxiproxy, redis_port: int) -> None:
    proxy = toxiproxy.create(upstream=f"127.0.0.1:{redis_port}", name="redis")
    proxy.add_toxic(type="slow_close", attributes={"delay": 300})
    sock = raw_connect(proxy)
    sock.sendall(b"QUIT\r\n")
    assert sock.recv(100) == b"+OK\r\n"
    start = time.perf_counter()
    assert sock.recv(100) == b""
    assert 0.25 <= time.perf_counter() - start < 1.0


def test_toxicity_zero_never_applies(toxiproxy: Toxiproxy, redis_port: int) -> None:
    proxy = toxiproxy.create(upstream=f"127.0.0.1:{redis_port}", name="redis")
    proxy.add_toxic(type="latency", toxicity=0.0, attributes={"latency": 200})
    assert ping_ms(through(proxy), 3) < 10


def test_populate_creates_and_replaces(toxiproxy: Toxiproxy, redis_port: int) -> None:
    upstream = f"127.0.0.1:{redis_port}"
    created = toxiproxy.populate(
        [
            {"name": "a", "upstream": upstream, "listen": "127.0.0.1:0"},
            {"name": "b", "upstream": upstream, "listen": "127.0.0.1:0"},
        ]
    )
    assert sorted(p.name for p in created) == ["a", "b"]
    assert set(toxiproxy.proxies()) == {"a", "b"}
    assert all(through(p).ping() for p in toxiproxy.proxies().values())


def test_packet_loss_stalls_for_retransmission_and_never_drops_bytes(
    toxiproxy: Toxiproxy, redis_port: int
) -> None:
    """As TCP shows loss to a program: some replies come an RTO late (doubled in a row), none is lost."""
    value = bytes(range(256)) * 256
    redis.Redis(port=redis_port).set("lossy", value)
    proxy = toxiproxy.create(upstream=f"127.0.0.1:{redis_port}", name="redis")
    proxy.add_toxic(
        name="loss",
        type="packet_loss",
        stream="downstream",
        attributes={"loss_rate": 0.2, "correlation": 0.0, "rto": 20},
    )
    client = through(proxy, timeout=15)
    late = 0
    for _ in range(100):  # a reply is one chunk: late by 20 ms, or 20 + 40 ms for two losses in a row, ...
        start = time.perf_counter()
        assert client.ping()
        late += time.perf_counter() - start >= 0.02
    assert 8 <= late <= 35, late
    assert client.get("lossy") == value  # bytes delayed, never dropped: RESP stays whole
    listed = toxiproxy.get_proxy("redis").toxics()["loss"]
    assert listed.attributes == {"loss_rate": 0.2, "correlation": 0.0, "rto": 20}
