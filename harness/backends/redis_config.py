"""Render redis.conf and sentinel.conf text for a node. Pure: no files, no processes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.scenario.conf_values import render_value
from harness.scenario.model import Environment

if TYPE_CHECKING:
    from harness.backends.secured import NodeSecurity


def redis_conf(
    env: Environment,
    host: str,
    port: int,
    data_dir: str,
    replica_of: tuple[str, int] | None,
    announce: tuple[str, int] | None = None,
    security: NodeSecurity | None = None,
    source: bool = False,
) -> str:
    """source: make outgoing connections (replication) from `host` too, so peers can be told apart by
    address (local nodes each have their own loopback address)."""
    lines = [
        *_ports(port, security),
        f"bind {host}",
        *([f"bind-source-addr {host}"] if source else []),
        f"dir {render_value(data_dir)}",
        'logfile ""',  # stdout, which the backend sends to the node's log file
        "daemonize no",
        "protected-mode no",  # bound to loopback only
    ]
    lines += [f"{key} {render_value(value)}" for key, value in env.config]
    if env.cluster is not None:
        lines += [
            "cluster-enabled yes",
            "cluster-config-file nodes.conf",  # in `dir`: the node's own, rewritten by the node
            f"cluster-node-timeout {env.cluster.node_timeout_ms}",
        ]
        if security is not None and security.tls is not None:
            lines.append("tls-cluster yes")  # the bus between the nodes (port + 10000) speaks TLS too
    if announce is not None:
        # Replicas report this address to the primary, and Sentinel hands it to clients after a failover:
        # announcing the node's proxy keeps clients and replication on the proxied path.
        lines += [f"replica-announce-ip {announce[0]}", f"replica-announce-port {announce[1]}"]
    if security is not None:
        lines += security.redis_lines()
    if replica_of is not None:
        lines.append(f"replicaof {replica_of[0]} {replica_of[1]}")
    return "\n".join(lines) + "\n"


def sentinel_conf(
    env: Environment,
    host: str,
    port: int,
    data_dir: str,
    primary: tuple[str, int],
    security: NodeSecurity | None = None,
    identity: SentinelIdentity | None = None,
    source: bool = False,
) -> str:
    spec, name = env.sentinels, env.master_name
    lines = [
        *_ports(port, security),
        f"bind {host}",
        *([f"bind-source-addr {host}"] if source else []),
        f"dir {render_value(data_dir)}",
        'logfile ""',
        "daemonize no",
        "sentinel resolve-hostnames no",
        f"sentinel monitor {name} {primary[0]} {primary[1]} {spec.quorum}",
        f"sentinel down-after-milliseconds {name} {spec.down_after_ms}",
        f"sentinel failover-timeout {name} {spec.failover_timeout_ms}",
        f"sentinel parallel-syncs {name} {spec.parallel_syncs}",
    ]
    if identity is not None:
        # Known peers from the start, as a Sentinel restarted from its rewritten config knows them: without
        # this each waits for the others' hello messages (every 2 s) before it can count them.
        lines.append(f"sentinel myid {identity.myid}")
        lines += [
            f"sentinel known-sentinel {name} {host} {port} {myid}" for host, port, myid in identity.peers
        ]
    if security is not None:
        lines += security.sentinel_lines(name)
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class SentinelIdentity:
    """A Sentinel's run id and its peers' (address, port, run id)."""

    myid: str
    peers: tuple[tuple[str, int, str], ...]


def _ports(port: int, security: NodeSecurity | None) -> list[str]:
    """With TLS the node's one port speaks TLS only: no plaintext port is left open."""
    if security is not None and security.tls is not None:
        return ["port 0", f"tls-port {port}"]
    return [f"port {port}"]
