"""The one loopback rule every command and the proxy apply to addresses a user gives."""

from __future__ import annotations

import pytest

from harness.core.loopback import is_loopback, loopback_address


@pytest.mark.parametrize("host", ["127.0.0.1", "127.204.231.12", "::1", "[::1]", "localhost"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["10.0.0.1", "192.168.1.2", "0.0.0.0", "example.com", "", "128.0.0.1"])
def test_everything_else_is_refused(host: str) -> None:
    assert not is_loopback(host)


def test_host_and_port() -> None:
    assert loopback_address("127.0.0.1:8474") == ("127.0.0.1", 8474)
    with pytest.raises(ValueError, match="not a loopback address"):
        loopback_address("10.1.2.3:8474")
    with pytest.raises(ValueError, match="expected host:port"):
        loopback_address("127.0.0.1:http")
