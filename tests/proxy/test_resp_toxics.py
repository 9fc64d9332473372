"""The Redis-aware toxics (redis_error, redis_delay, redis_drop), driven through the unmodified
toxiproxy-python client against a real redis-server: pipelined, in MULTI/EXEC and by EVALSHA, with the
server's own state checked behind the proxy."""

from __future__ import annotations

import random
import socket
import time

import pytest
import redis
from toxiproxy import Toxiproxy
from toxiproxy.proxy import Proxy

from harness.proxy.resp_rewrite import RespRewriter, encode
from harness.proxy.toxics import Toxic
from tests.proxy.test_toxiproxy_api import through


@pytest.fixture
def proxied(toxiproxy: Toxiproxy, redis_port: int) -> Proxy:
    redis.Redis(port=redis_port).flushall()
    return toxiproxy.create(upstream=f"127.0.0.1:{redis_port}", name="redis")


def test_error_answers_exactly_the_matching_commands_of_a_pipeline(proxied: Proxy, redis_port: int) -> None:
    client = through(proxied)
    client.ping()  # a connection that exists before the toxic
    proxied.add_toxic(
        name="ro",
        type="redis_error",
        attributes={"commands": "SET", "key_pattern": "w:*", "error": "READONLY"},
    )
    pipe = client.pipeline(transaction=False)
    for command in (
        ("SET", "w:1", "a"),
        ("SET", "r:1", "b"),
        ("GET", "r:1"),
        ("SET", "w:2", "c"),
        ("INCR", "n"),
    ):
        pipe.execute_command(*command)
    replies = pipe.execute(raise_on_error=False)
    assert isinstance(replies[0], redis.ReadOnlyError) and "read only replica" in str(replies[0])
    assert replies[1:3] == [True, b"b"] and isinstance(replies[3], redis.ReadOnlyError) and replies[4] == 1
    direct = redis.Redis(port=redis_port)
    assert direct.exists("w:1", "w:2") == 0 and direct.get("r:1") == b"b"  # the error left the keys alone
    proxied.destroy_toxic("ro")
    assert client.set("w:1", "a") and direct.get("w:1") == b"a"  # the same connection, plain again


def test_error_inside_multi_aborts_the_transaction_as_a_queue_time_refusal(
    proxied: Proxy, redis_port: int
) -> None:
    proxied.add_toxic(name="oom", type="redis_error", attributes={"commands": "INCRBY", "error": "OOM"})
    client = through(proxied)
    pipe = client.pipeline(transaction=True)
    pipe.set("t:a", 1)
    pipe.incrby("t:b", 5)
    pipe.set("t:c", 1)
    with pytest.raises(redis.ResponseError) as refused:
        pipe.execute()
    assert isinstance(refused.value, redis.OutOfMemoryError), refused.value  # in place of +QUEUED
    assert redis.Redis(port=redis_port).exists("t:a", "t:b", "t:c") == 0  # nothing of it ran
    assert client.get("t:a") is None  # the connection is in step afterwards


def test_first_n_then_pass_per_connection(proxied: Proxy) -> None:
    """READONLY here: redis-py takes LOADING for a connection error and reconnects, and a new connection
    counts its own first N."""
    proxied.add_toxic(
        name="ro", type="redis_error", attributes={"commands": "*", "error": "READONLY", "first": 2}
    )
    client = through(proxied)
    for _ in range(2):
        with pytest.raises(redis.ReadOnlyError):
            client.get("k")
    assert client.set("k", "v") and client.get("k") == b"v"
    other = through(proxied)
    with pytest.raises(redis.ReadOnlyError):
        other.get("k")


def test_toxicity_is_a_rate_per_command(proxied: Proxy) -> None:
    proxied.add_toxic(
        name="ro", type="redis_error", toxicity=0.3, attributes={"commands": "SET", "error": "READONLY"}
    )
    pipe = through(proxied).pipeline(transaction=False)
    for i in range(1000):
        pipe.set(f"k{i}", "v")
    refused = sum(isinstance(r, redis.ReadOnlyError) for r in pipe.execute(raise_on_error=False))
    assert 230 < refused < 370, refused


def test_drop_swallows_the_reply_of_a_command_that_ran(proxied: Proxy, redis_port: int) -> None:
    proxied.add_toxic(name="drop", type="redis_drop", attributes={"commands": "SET", "key_pattern": "lost:*"})
    client = through(proxied, timeout=0.5)
    assert client.set("kept", "1")
    with pytest.raises(redis.TimeoutError):
        client.set("lost:1", "x")
    assert redis.Redis(port=redis_port).get("lost:1") == b"x"  # it was applied: only the reply is gone
    again = through(proxied)
    pipe = again.pipeline(transaction=False)
    pipe.get("kept")
    pipe.get("lost:1")
    assert pipe.execute() == [b"1", b"x"]  # GET does not match: the pipeline's replies stay in step


def test_delay_slows_the_matching_commands_only(proxied: Proxy) -> None:
    proxied.add_toxic(name="slow", type="redis_delay", attributes={"commands": "SET", "latency": 150})
    client = through(proxied)
    client.set("k", "v")
    start = time.perf_counter()
    client.get("k")
    read = time.perf_counter() - start
    start = time.perf_counter()
    client.set("k", "w")
    write = time.perf_counter() - start
    assert read < 0.05 and 0.15 <= write < 0.5, (read, write)


def test_evalsha_matches_by_name_and_its_keys(proxied: Proxy, redis_port: int) -> None:
    script = "return redis.call('INCR', KEYS[1])"
    sha = redis.Redis(port=redis_port).script_load(script)
    proxied.add_toxic(
        name="busy",
        type="redis_error",
        attributes={"commands": "EVALSHA", "key_pattern": "hot:*", "error": "BUSY"},
    )
    client = through(proxied)
    assert client.evalsha(sha, 1, "cold:1") == 1
    with pytest.raises(redis.ResponseError) as busy:
        client.evalsha(sha, 1, "hot:1")
    assert str(busy.value).startswith("BUSY")
    assert redis.Redis(port=redis_port).get("hot:1") is None


def test_a_toxic_that_matches_nothing_leaves_traffic_alone(proxied: Proxy) -> None:
    proxied.add_toxic(
        name="none", type="redis_delay", attributes={"commands": "NOSUCHCOMMAND", "latency": 500}
    )
    client = through(proxied)
    value = b"*3\r\n$3\r\nSET\r\n" * 1000  # RESP-looking data inside a value is data
    pipe = client.pipeline(transaction=False)
    for i in range(200):
        pipe.set(f"k{i}", value)
    assert all(pipe.execute())
    assert client.get("k199") == value


def test_markers_and_commands_split_anywhere_between_reads(redis_port: int) -> None:
    """However the commands and the replies are cut into reads, the client gets the same bytes."""
    error = Toxic("e", "redis_error", "upstream", 1.0, {"commands": "SET", "key_pattern": "e:*"})
    drop = Toxic("d", "redis_drop", "upstream", 1.0, {"commands": "SET", "key_pattern": "d:*"})
    sent = b"".join(
        encode(*args)
        for args in ([b"SET", b"e:1", b"x"], [b"GET", b"e:1"], [b"SET", b"d:1", b"y"], [b"GET", b"d:1"])
    )
    expected = b"-READONLY You can't write against a read only replica.\r\n$-1\r\n$1\r\ny\r\n"
    for cut in range(1, len(sent)):
        rewriter = RespRewriter(random.Random(1))
        upstream = [p for c in (sent[:cut], sent[cut:]) for _, p in rewriter.upstream(c, (error, drop))]
        with socket.create_connection(("127.0.0.1", redis_port), timeout=2) as conn:
            conn.sendall(b"".join(upstream))
            replies = b""
            while replies.count(b"drill:inject:") < 3 or not replies.endswith(b"y\r\n"):
                replies += conn.recv(65536)
        for split in (1, 7, len(replies) // 2, len(replies) - 3):
            got = rewriter.downstream(replies[:split]) + rewriter.downstream(replies[split:])
            assert got + rewriter.release_held() == expected, (cut, split, got)
            rewriter = _replay(sent, cut, (error, drop))


def _replay(sent: bytes, cut: int, toxics: tuple[Toxic, ...]) -> RespRewriter:
    """A rewriter in the state the same upstream reads leave (its tokens are numbered alike)."""
    rewriter = RespRewriter(random.Random(1))
    for chunk in (sent[:cut], sent[cut:]):
        rewriter.upstream(chunk, toxics)
    return rewriter
