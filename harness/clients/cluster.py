"""What a cluster's nodes say about each other (CLUSTER NODES, CLUSTER INFO), read with no-retry probes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis

from harness.clients.probe import probe_client
from harness.core.errors import FaultError
from harness.core.topology import Shard, Topology


@dataclass(frozen=True, slots=True)
class Peer:
    """One line of CLUSTER NODES: a node as the asked node sees it."""

    node_id: str
    address: tuple[str, int]
    flags: frozenset[str]  # myself, master, slave, fail, fail? (suspected), handshake, noaddr
    primary_id: str  # a replica's primary; "" for primaries
    slots: tuple[tuple[int, int], ...]  # served ranges, first and last inclusive (migrations left out)

    @property
    def primary(self) -> bool:
        return "master" in self.flags

    @property
    def failed(self) -> bool:
        return "fail" in self.flags

    @property
    def slot_count(self) -> int:
        return sum(last - first + 1 for first, last in self.slots)


def parse_nodes(text: str) -> tuple[Peer, ...]:
    """CLUSTER NODES' lines: `<id> <ip:port@cport[,host]> <flags> <primary> <ping> <pong> <epoch> <link>
    <slot>...`; migrating and importing slots (`[...]`) are not served yet, so they are left out."""
    peers = []
    for line in text.splitlines():
        words = line.split()
        if len(words) < 8:
            continue
        host, _, port = words[1].split("@")[0].rpartition(":")
        slots = []
        for word in words[8:]:
            if word.startswith("["):
                continue
            first, _, last = word.partition("-")
            slots.append((int(first), int(last or first)))
        peers.append(
            Peer(
                node_id=words[0],
                address=(host, int(port or 0)),
                flags=frozenset(words[2].split(",")),
                primary_id="" if words[3] == "-" else words[3],
                slots=tuple(slots),
            )
        )
    return tuple(peers)


def parse_info(text: str) -> dict[str, str]:
    """CLUSTER INFO as field -> value."""
    pairs = (line.split(":", 1) for line in text.splitlines() if ":" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def _text(reply: Any) -> str:
    return reply.decode() if isinstance(reply, bytes) else str(reply)


def read_nodes(client: redis.Redis) -> tuple[Peer, ...]:
    # "CLUSTER", "NODES" as two words: redis-py has its own parsing for the one-word command name.
    return parse_nodes(_text(client.execute_command("CLUSTER", "NODES")))


def read_info(client: redis.Redis) -> dict[str, str]:
    return parse_info(_text(client.execute_command("CLUSTER", "INFO")))


def named(peer: Peer, topology: Topology) -> str:
    node = topology.by_address(*peer.address)
    return node.name if node else "{}:{}".format(*peer.address)


def shard_primary(topology: Topology, shard: Shard, timeout: float = 0.3) -> str:
    """The node serving the shard's slots now, as the first node that answers sees it."""
    last: Exception | None = None
    for node in topology.data_nodes:
        try:
            with probe_client(node, timeout, topology.credentials("operator", node)) as client:
                peers = read_nodes(client)
        except redis.RedisError as exc:
            last = exc
            continue
        first = shard.slots[0]
        for peer in peers:
            if peer.primary and not peer.failed and any(a <= first <= b for a, b in peer.slots):
                return named(peer, topology)
    raise FaultError(f"no cluster node named the primary of {shard.primary}'s slots: {last}")
