"""The current primary, as the Sentinels name it."""

from __future__ import annotations

import redis

from harness.clients.cluster import shard_primary
from harness.clients.probe import probe_client
from harness.core.errors import FaultError
from harness.core.topology import Topology


def current_primary(topology: Topology) -> str:
    """The primary as the first reachable Sentinel names it; on a cluster, the node serving the first
    shard's slots now (the shard "primary" means in a drill: the initial primary's)."""
    if topology.cluster:
        shard = topology.shard_of(topology.initial_primary)
        assert shard is not None
        return shard_primary(topology, shard)
    for sentinel in topology.sentinels:
        try:
            with probe_client(sentinel, 0.3, topology.credentials("operator", sentinel)) as client:
                address = client.sentinel_get_master_addr_by_name(topology.master_name)
        except (redis.ConnectionError, redis.TimeoutError):
            continue
        if address:
            node = topology.by_address(str(address[0]), int(address[1]))
            if node is not None:
                return node.name
    raise FaultError("no Sentinel could name the current primary")
