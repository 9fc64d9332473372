"""The one rule for where drills may send traffic of their own choosing: this machine's loopback.

An address literal in 127.0.0.0/8 or ::1, or the name `localhost`. Names are not resolved: what a name
resolves to can change between the check and the connection, and a drill has no need for other names."""

from __future__ import annotations

import ipaddress

RANGE = "127.0.0.0/8"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def allowed(host: str, networks: tuple[Network, ...] = ()) -> bool:
    """Loopback, or an address literal inside one of `networks`: those an environment declares its
    deployment lives in (external.networks), the only others a drill on it reaches."""
    if is_loopback(host):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return any(address in network for network in networks)


def allowed_address(value: str, networks: tuple[Network, ...]) -> tuple[str, int]:
    """host:port on loopback or inside one of `networks`; ValueError with the reason otherwise."""
    if not networks:
        return loopback_address(value)
    host, _, port = value.rpartition(":")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected host:port, got {value!r}")
    if not allowed(host, networks):
        inside = ", ".join([RANGE, *map(str, networks)])
        raise ValueError(f"{host} is in none of the networks this deployment may be reached in ({inside})")
    return host.strip("[]"), int(port)


def loopback_address(value: str) -> tuple[str, int]:
    """host:port on loopback; ValueError with the reason otherwise."""
    host, _, port = value.rpartition(":")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected host:port, got {value!r}")
    if not is_loopback(host):
        raise ValueError(f"{host} is not a loopback address; drills only reach services on {RANGE}")
    return host.strip("[]"), int(port)
