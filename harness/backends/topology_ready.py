"""Readiness of a replicated topology: replicas linked, Sentinels agree on the primary and know each other."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import redis

from harness.clients.probe import parse_replica_lines, probe_client
from harness.clients.waiting import tail, wait_for
from harness.core.errors import BackendError
from harness.core.topology import Node, Topology
from harness.scenario.model import Environment

NOT_YET = (redis.ConnectionError, redis.TimeoutError, redis.ResponseError)


def wait_until_ready(
    topology: Topology,
    env: Environment,
    log_path: Callable[[str], Path],
    exited: Callable[[str], str | None],
    *,
    sentinels: bool,
) -> None:
    """Block until the data nodes (sentinels=False) or the Sentinels (True) are ready for a drill.

    Raises BackendError with a hint and the node's last log lines.
    """
    timeout = env.readiness_timeout
    primary = topology.node(topology.initial_primary)
    replicas = len(topology.data_nodes) - 1
    if sentinels:
        for sentinel in topology.sentinels:
            wait_node(
                sentinel,
                exited,
                partial(ping, topology=topology),
                timeout,
                log_path,
                "check the Sentinel's configuration in config/",
            )
            wait_node(
                sentinel,
                exited,
                partial(_sentinel_agrees, topology=topology, env=env),
                timeout,
                log_path,
                "Sentinels discover each other through the primary's hello channel every 2s",
            )
        return
    for node in topology.data_nodes:
        wait_node(
            node,
            exited,
            partial(ping, topology=topology),
            timeout,
            log_path,
            "check the node's configuration in the run's config/ directory",
        )
    wait_node(
        primary,
        exited,
        partial(_replicas_online, expected=replicas, topology=topology),
        timeout,
        log_path,
        "replicas could not sync; look at their logs and at repl-diskless-sync-delay",
    )


def wait_node(
    node: Node,
    exited: Callable[[str], str | None],
    check: Callable[[Node], str | None],
    timeout: float,
    log_path: Callable[[str], Path],
    hint: str,
) -> None:
    def condition() -> str | None:
        return alive(node, exited, log_path(node.name)) or check(node)

    wait_for(
        condition,
        timeout=timeout,
        what=f"{node.name} ({node.address})",
        hint=hint,
        log=log_path(node.name),
        not_yet=NOT_YET,
    )


def alive(node: Node, exited: Callable[[str], str | None], log: Path) -> str | None:
    reason = exited(node.name)
    if reason is not None:
        # Not a "not yet": a dead process will not become ready, so fail now with its log.
        raise BackendError(
            f"{node.name} ({node.address}) {reason} during start-up. Hint: check the config: directives in "
            f"the environment file.\nLast lines of {log}:\n{tail(log).rstrip()}"
        )
    return None


def ping(node: Node, topology: Topology) -> str | None:
    with probe_client(node, 0.5, topology.credentials("operator", node)) as client:
        client.ping()
    return None


def _replicas_online(primary: Node, expected: int, topology: Topology) -> str | None:
    with probe_client(primary, 0.5, topology.credentials("operator", primary)) as client:
        info = client.info("replication")
    online = [r for r in parse_replica_lines(info) if r.get("state") == "online"]
    if len(online) < expected:
        return f"{len(online)} of {expected} replicas online"
    return None


def _sentinel_agrees(sentinel: Node, topology: Topology, env: Environment) -> str | None:
    primary = topology.node(topology.initial_primary)
    with probe_client(sentinel, 0.5, topology.credentials("operator", sentinel)) as client:
        state = client.sentinel_master(topology.master_name)
    address = (state.get("ip"), int(state.get("port", 0)))
    if address != primary.client_address:
        expected = "{}:{}".format(*primary.client_address)
        return f"sees primary at {address[0]}:{address[1]}, expected {expected}"
    others, replicas = int(state.get("num-other-sentinels", 0)), int(state.get("num-slaves", 0))
    if others < env.sentinels.count - 1:
        return f"knows {others} of {env.sentinels.count - 1} other Sentinels"
    if replicas < env.replicas:
        return f"knows {replicas} of {env.replicas} replicas"
    if state.get("is_master_down_after_period") or "s_down" in str(state.get("flags", "")):
        return "considers the primary down"
    return None


def start_in_order(
    topology: Topology,
    env: Environment,
    start: Callable[[str], None],
    log_path: Callable[[str], Path],
    exited: Callable[[str], str | None],
) -> None:
    """Start the data nodes, wait for replication, then the Sentinels. Sentinels learn the replicas from
    the primary's INFO, which they poll only every 10 s once connected: started after the replicas are
    linked, they see them on their first poll."""
    for node in topology.data_nodes:
        start(node.name)
    wait_until_ready(topology, env, log_path, exited, sentinels=False)
    for node in topology.sentinels:
        start(node.name)
    wait_until_ready(topology, env, log_path, exited, sentinels=True)
