"""The lean RESP client against a real redis-server: encoding, replies, error replies as values."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from harness.backends.local import free_port
from harness.load.classify import classify
from harness.load.resp import ConnectError, ReplyError, RespConnection, RespError, encode
from harness.load.session import PrimarySession
from harness.load.watchdog import CallWatchdog
from tests.conftest import wait_until


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""], stdout=subprocess.DEVNULL
    )

    def answers() -> bool:
        try:
            RespConnection("127.0.0.1", port, 0.2).close()
            return True
        except ConnectError:
            return False

    wait_until(answers, 10, "redis-server")
    yield port
    server.kill()
    server.wait()


def test_encode_is_resp_bulk_array() -> None:
    assert encode("SET", "k", 5) == b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n5\r\n"


@pytest.mark.integration  # a real redis-server
def test_pipeline_replies_in_order_with_errors_as_values(port: int) -> None:
    conn = RespConnection("127.0.0.1", port, 1.0)
    replies = conn.call(
        encode("SET", "r", "1") + encode("INCR", "r") + encode("LPUSH", "r", "x") + encode("GET", "r"), 4
    )
    assert replies[:2] == [b"OK", 2]
    assert isinstance(replies[2], ReplyError) and str(replies[2]).startswith("WRONGTYPE")
    assert replies[3] == b"2"
    with pytest.raises(RespError) as info:
        conn.command("NOSUCHCOMMAND")
    assert classify(info.value).error == "ERR"
    conn.close()


def test_connect_refused_is_a_certain_failure() -> None:
    with pytest.raises(ConnectError) as info:
        RespConnection("127.0.0.1", free_port(), 0.5)
    result = classify(info.value)
    assert (result.error, result.outcome) == ("connection-refused", "fail")


def test_watchdog_times_out_a_call_that_gets_no_reply() -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # the kernel completes the handshake; nobody ever answers
    watchdog = CallWatchdog(0.3)
    watchdog.start()
    session = PrimarySession((), "", 0.3, fixed=silent.getsockname(), watchdog=watchdog)
    start = time.monotonic()
    try:
        with pytest.raises(TimeoutError) as info:
            session.call(encode("PING"))
        elapsed = time.monotonic() - start
    finally:
        session.close()
        watchdog.stop()
        silent.close()
    assert 0.3 <= elapsed < 0.6
    assert (classify(info.value).error, classify(info.value).outcome) == ("timeout", "info")
