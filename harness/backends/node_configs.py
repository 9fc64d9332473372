"""Every node's configuration for a planned topology, and the copies kept in the run directory."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable

from harness.backends.redis_config import SentinelIdentity, redis_conf, sentinel_conf
from harness.backends.secured import NodeSecurity
from harness.core.run_context import RunContext
from harness.core.topology import Node, Topology
from harness.scenario.model import Environment


def replication_source(replica: Node, primary: Node, topology: Topology) -> tuple[str, int]:
    """Where a replica replicates from: its own replication link, else the primary's client address."""
    for link in topology.links:
        if link.kind == "replication" and link.replica == replica.name:
            return link.host, link.port
    return primary.client_address


def render_node_configs(
    env: Environment,
    topology: Topology,
    run: RunContext,
    data_dir: Callable[[Node], str],
    security: NodeSecurity,
    bind: str | None = None,
    source_addr: bool = True,
) -> dict[str, str]:
    """redis.conf / sentinel.conf text per node (bound to `bind`, else the node's own address, which its
    outgoing connections then come from too: by bind-source-addr where the engine knows it (7.0+), and
    before that by its first bind address, which is the same).

    The run directory's config/ gets a copy of each, with every password replaced by `<secret>`.
    """
    primary = topology.node(topology.initial_primary)
    (run.run_dir / "config").mkdir(exist_ok=True)
    texts: dict[str, str] = {}
    for node in topology.nodes:
        if node.kind == "redis":
            text = redis_conf(
                env,
                bind or node.host,
                node.port,
                data_dir(node),
                # A cluster's replicas are attached once the nodes have met (backends/cluster_create.py).
                None if node is primary or topology.cluster else replication_source(node, primary, topology),
                # Announced always: behind a replication link the primary would see the proxy's address.
                None if topology.cluster else node.client_address,
                security,
                source=bind is None and source_addr,
            )
        else:
            identity = SentinelIdentity(
                sentinel_id(run.run_id, node.name),
                tuple(
                    (peer.host, peer.port, sentinel_id(run.run_id, peer.name))
                    for peer in topology.sentinels
                    if peer.name != node.name
                ),
            )
            text = sentinel_conf(
                env,
                bind or node.host,
                node.port,
                data_dir(node),
                primary.client_address,
                security,
                identity,
                source=bind is None and source_addr,
            )
        texts[node.name] = text
        (run.run_dir / "config" / f"{node.name}.conf").write_text(blank_secrets(text, security))
    return texts


def sentinel_id(run_id: str, name: str) -> str:
    """A Sentinel's run id (40 hex digits), fixed per run and node so its peers can be told it up front."""
    return hashlib.sha1(f"{run_id}:{name}".encode()).hexdigest()


def blank_secrets(text: str, security: NodeSecurity) -> str:
    for secret in security.secrets():
        text = text.replace(secret, "<secret>")
    return text


def extra_node_conf(env: Environment, bind: str, port: int, data_dir: str, security: NodeSecurity) -> str:
    """A standalone node outside the topology, started from files put in its data dir: no replication, and
    appendonly no, so it loads the dump.rdb it was given (with appendonly yes it would load an empty AOF)."""
    config = (*((key, value) for key, value in env.config if key != "appendonly"), ("appendonly", "no"))
    return redis_conf(dataclasses.replace(env, config=config), bind, port, data_dir, None, None, security)
