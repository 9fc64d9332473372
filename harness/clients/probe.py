"""Clients for measuring and probing: short timeouts and no retries, so a fault is always visible."""

from __future__ import annotations

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from harness.core.access import Credentials
from harness.core.topology import Node


def no_retry() -> Retry:
    return Retry(NoBackoff(), 0)


def probe_client(node: Node, timeout: float = 0.5, credentials: Credentials | None = None) -> redis.Redis:
    """A client of one node: no retry, short timeouts. Without credentials: no user, no password, no TLS."""
    return redis.Redis(
        host=node.host,
        port=node.port,
        **(credentials.redis_kwargs() if credentials else {}),
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=no_retry(),
        decode_responses=True,
        single_connection_client=True,
    )


def parse_replica_lines(info: dict[str, object]) -> list[dict[str, object]]:
    """The slaveN entries of INFO replication, as redis-py parses them (dicts)."""
    out = []
    for key, value in info.items():
        if key.startswith("slave") and key[5:].isdigit() and isinstance(value, dict):
            out.append(value)
    return out


def reported_role(node: Node, credentials: Credentials, timeout: float) -> str | None:
    """The data node's own word on its role (INFO replication): primary, replica; None when it does not
    answer."""
    try:
        with probe_client(node, timeout, credentials) as client:
            role = str(client.info("replication").get("role", ""))
    except redis.RedisError:
        return None
    return {"master": "primary", "slave": "replica"}.get(role, role or "unknown")


def replicating_from(node: Node, credentials: Credentials, timeout: float) -> tuple[str, int] | None:
    """The address a replica streams from now (INFO replication master_host:master_port); None for a
    primary or a node that does not answer."""
    try:
        with probe_client(node, timeout, credentials) as client:
            info = client.info("replication")
    except redis.RedisError:
        return None
    if info.get("role") != "slave":
        return None
    return str(info.get("master_host", "")), int(info.get("master_port", 0))
