"""The faults driven through Redis's own commands (and pause, and surge), declared once: each one's
parameters, defaults and help, read by the scenario loader and `drill kinds`. What each does lives in
harness/faults/ (server.py, pause.py, surge.py), which the loader does not import; a test holds the names
together. Faults with their own grammar (kill, restart, network, heal, partition) are described here too."""

from __future__ import annotations

from dataclasses import dataclass

from harness.scenario.params import command_names, duration, flag, name, one_of, param, ratio, whole

NODE_HELP = "primary (whoever is primary when it fires) or a data node's name"


@dataclass(frozen=True, slots=True)
class OnNode:
    node: str = param(NODE_HELP, name(), "primary")


@dataclass(frozen=True, slots=True)
class LongScript(OnNode):
    seconds: float = param("how long the Lua loop runs unless killed", duration(), 30.0, key="duration")
    writes: bool = param("write before looping, so SCRIPT KILL answers UNKILLABLE", flag(), False)


@dataclass(frozen=True, slots=True, kw_only=True)
class DebugSleep(OnNode):
    seconds: float = param("how long the node sleeps, answering nobody", duration(), key="duration")


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientPause(OnNode):
    seconds: float = param("how long the node holds its clients' commands", duration(), key="duration")
    mode: str = param(
        "write: writes wait, reads are served; all: every command waits", one_of("write", "all"), "write"
    )


@dataclass(frozen=True, slots=True)
class ClientKill(OnNode):
    client_type: str = param(
        "whose connections are closed: normal (clients), replica (replication links), pubsub",
        one_of("normal", "replica", "pubsub"),
        "normal",
        key="type",
    )


@dataclass(frozen=True, slots=True)
class Oom(OnNode):
    value_bytes: int = param("size of each filler value", whole(1, 16 * 1024 * 1024), 65536)


@dataclass(frozen=True, slots=True)
class SlowCommand(OnNode):
    keys: int = param("keys created first, which KEYS * then walks", whole(1, 10_000_000), 200_000)
    every: float = param("time between two KEYS *", duration(), 0.2)


@dataclass(frozen=True, slots=True)
class ClientFlood(OnNode):
    connections: int = param("idle connections opened and held", whole(1, 15_000), 1100)


@dataclass(frozen=True, slots=True)
class Loading(OnNode):
    keys: int = param("keys created first, which the restart then loads", whole(1, 10_000_000), 200_000)


@dataclass(frozen=True, slots=True)
class FullSync:
    node: str = param("replica (a seeded choice) or a replica's name", name(), "replica")
    keys: int = param(
        "keys written to the primary first: the dataset the sync copies", whole(0, 10_000_000), 100_000
    )
    value_bytes: int = param("size of each of those keys' values", whole(1, 16 * 1024 * 1024), 1024)


@dataclass(frozen=True, slots=True)
class Reshard:
    node: str = param(
        "the cluster primary the slots leave: primary (redis-1's shard's) or a node's name", name(), "primary"
    )
    to: str = param("the cluster primary that receives them (default: the next shard's)", name(), "")
    slots: int = param("how many of the source's slots move (its first ones)", whole(1, 16384), 1000)
    batch: int = param("keys moved per MIGRATE", whole(1, 10_000), 100)
    keys: int = param(
        "keys written into the moving slots first: the data they carry", whole(0, 10_000_000), 0
    )
    value_bytes: int = param("size of each of those keys' values", whole(1, 1 << 20), 256)


@dataclass(frozen=True, slots=True)
class NoNode:
    """Acts on the topology, not one node."""


@dataclass(frozen=True, slots=True)
class TruncateAof(OnNode):
    cut_bytes: int = param("bytes cut off the end of the newest AOF file", whole(1, 1 << 30), 64, key="bytes")


@dataclass(frozen=True, slots=True)
class Pause:
    seconds: float = param("how long it stays frozen", duration(), key="duration")
    node: str = param("primary, replica (a seeded choice) or a node's name", name(), "primary")


@dataclass(frozen=True, slots=True)
class Surge:
    users: int = param("more load users, shared among the workloads", whole(1, 10_000))
    seconds: float = param("how long the surge lasts", duration(), key="duration")


@dataclass(frozen=True, slots=True, kw_only=True)
class RedisMatch:
    """Which commands a Redis-aware network effect acts on (the proxy parses the link's commands)."""

    commands: tuple[str, ...] = param(
        'command names, or ["*"] for every data command', command_names(), ("*",)
    )
    keys: str = param("a glob one of the command's keys must match (default: any key)", name(), "")
    rate: float = param("share of the matching commands it acts on, rolled per command", ratio(), 1.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class RedisError(RedisMatch):
    error: str = param(
        "the reply: an error class (READONLY, LOADING, BUSY, OOM, MASTERDOWN, TRYAGAIN, NOREPLICAS, MISCONF,"
        " CLUSTERDOWN: sent in Redis's words) or a whole error text (MOVED 3999 127.0.0.1:6381)",
        name(),
        "READONLY",
    )
    first: int = param(
        "only the first N matching commands of each connection (0: every one)", whole(0, 1 << 30), 0
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class RedisDelay(RedisMatch):
    latency: float = param(
        "added before each matching command (and what follows it on the connection)", duration()
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class RedisDrop(RedisMatch):
    first: int = param(
        "only the first N matching commands of each connection (0: every one)", whole(0, 1 << 30), 0
    )


PACKET_LOSS_HELP = (
    "loss as TCP shows it to a program: a lost chunk arrives whole after a retransmission timeout,"
    " doubled for each loss in a row (never dropped bytes, which would break RESP)"
)


@dataclass(frozen=True, slots=True)
class PacketLoss:
    rate: float = param("chance that a chunk of the stream is lost (and retransmitted)", ratio())
    correlation: float = param("added chance of losing the next chunk after a loss (bursts)", ratio(), 0.0)
    rto: float = param(
        "retransmission timeout of a first loss, doubled for each loss in a row", duration(), 0.2
    )


# The Redis-aware effects of `network:`, done by the drill's proxy (harness/proxy/resp_rewrite.py).
REDIS_EFFECTS: dict[str, tuple[type, str]] = {
    "redis-error": (RedisError, "answer matching commands with an error reply, without sending them on"),
    "redis-delay": (RedisDelay, "delay matching commands only (writes slow, reads fast)"),
    "redis-drop": (RedisDrop, "swallow the reply of matching commands: they ran, the client times out"),
}


# The server faults: driven into through Redis's own commands, no process or network touched.
SERVER_FAULT_KINDS: dict[str, tuple[type, str]] = {
    "long-script": (LongScript, "a Lua loop past lua-time-limit: BUSY for every other client"),
    "oom": (Oom, "fill memory up to maxmemory under noeviction: OOM for writes"),
    "misconf": (OnNode, "point RDB snapshots at an unwritable directory and BGSAVE: MISCONF for writes"),
    "slow-command": (SlowCommand, "many keys, then KEYS * in a loop: every client slows down"),
    "client-flood": (ClientFlood, "idle connections held open up to near maxclients"),
    "loading": (Loading, "many keys, then a restart: LOADING while the snapshot loads"),
    "switchover": (
        NoNode,
        "a planned switch of primary: SENTINEL FAILOVER; on a cluster, CLUSTER FAILOVER on a replica of "
        "the first shard",
    ),
    "truncate-aof": (TruncateAof, "cut the tail of a stopped node's newest AOF file"),
    "snapshot-restore": (OnNode, "BGSAVE, copy dump.rdb out, start a fresh node from it, read writes back"),
    "full-sync": (FullSync, "a dataset on the primary, then a replica made to copy all of it (a full sync)"),
    "reshard": (Reshard, "cluster slots moved to another primary under load (MIGRATE, SETSLOT): ASK, MOVED"),
    "client-pause": (
        ClientPause,
        "CLIENT PAUSE: the node holds its clients' commands (writes, or all) for a while, then serves them",
    ),
    "client-kill": (
        ClientKill,
        "CLIENT KILL TYPE: every connection of a type closed at once; clients reconnect",
    ),
    "debug-sleep": (
        DebugSleep,
        "DEBUG SLEEP: the node stops answering for a while, like a pause, with no access to its host (the "
        "server must allow DEBUG: enable-debug-command; checked before the drill starts)",
    ),
}

# Every fault a scenario may name, with its help, for `drill kinds` (parameters: the classes above, or
# the grammar shown).
OTHER_FAULTS: dict[str, str] = {
    "kill": "kill: primary | replica | NODE: SIGKILL (the container's process on Docker)",
    "terminate": (
        "terminate: primary | replica | NODE: SIGTERM, as systemd or a pod eviction sends: the engine's own"
        " shutdown (shutdown-on-sigterm), which on 7.0+ waits for replicas to catch up first"
    ),
    "restart": "restart: last-killed | NODE: start the node again with its own configuration and data",
    "network": (
        "network: {link: L, EFFECT, stream: upstream|downstream|both}: one toxic on a proxied link; EFFECT "
        "is latency (+ jitter), bandwidth: 100KB/s, timeout: true|D, reset: true|D, partition: true, "
        "packet-loss: {rate, correlation, rto} (below), or a "
        "Redis-aware one: redis-error, redis-delay, redis-drop: {commands, keys, rate, ...} (below)"
    ),
    "partition": (
        "partition: {between: [GROUPS], and: [GROUPS], one-way: false}: packets dropped between groups "
        "(primary, replica, replicas, sentinels, clients, node names) with nftables"
    ),
    "heal": "heal: all | partition | LINK: end toxics, partitions or a link's fault",
    "pause": "pause: {node, duration}: the node frozen (SIGSTOP, or its container frozen), then thawed",
    "surge": "surge: {users, duration}: more load users for a while, shared among the load's processes",
}
