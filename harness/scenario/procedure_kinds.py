"""What a runbook procedure (respond:) may name: each trigger, gatherer and remediation with its
parameters class and help, declared once. The loader reads files with these classes and `drill kinds`
prints them; what each step does lives in harness/respond/actions.py under the same name (a test keeps
the two sets equal, like the server faults' declarations and harness/faults/server.py)."""

from __future__ import annotations

from dataclasses import dataclass

from harness.scenario.fields import Invalid
from harness.scenario.params import ParamType, duration, name, one_of, param, ratio, reply_class

EVICTION_POLICIES = (
    "noeviction",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
)


def _true(value: object) -> bool:
    if value is not True:
        raise Invalid(f"expected true, got {value!r}")
    return True


# --- triggers: respond.when holds exactly one trigger's key, plus that trigger's options -----------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Waiting:
    """Options every trigger takes."""

    hold: float = param(
        "the condition must hold this long first, like an alert's for:", duration(), 0.0, key="for"
    )
    within: float = param("give up waiting for the trigger this long after the incident", duration(), 15.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Probing(Waiting):
    probe: str = param(
        "what the probe sends: a replica answers writes with READONLY", one_of("write", "read"), "write"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyTrigger(Probing):
    reply: str = param("the error reply class the probe must get", reply_class())

    @property
    def shown(self) -> str:
        return self.reply


@dataclass(frozen=True, slots=True, kw_only=True)
class MemoryTrigger(Probing):
    memory_above: float = param("used_memory / maxmemory above this ratio", ratio())

    @property
    def shown(self) -> str:
        return f"memory above {self.memory_above:.0%}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientsTrigger(Probing):
    clients_above: float = param("connected_clients / maxclients above this ratio", ratio())

    @property
    def shown(self) -> str:
        return f"clients above {self.clients_above:.0%}"


@dataclass(frozen=True, slots=True, kw_only=True)
class LatencyTrigger(Probing):
    latency_above: float = param("a probe write takes longer than this", duration())

    @property
    def shown(self) -> str:
        return f"a write slower than {self.latency_above * 1000:g}ms"


@dataclass(frozen=True, slots=True, kw_only=True)
class UnreachableTrigger(Probing):
    unreachable: bool = param(
        "the node does not answer at all", ParamType("true", _true, json={"const": True})
    )

    @property
    def shown(self) -> str:
        return "not answering"


@dataclass(frozen=True, slots=True, kw_only=True)
class AfterTrigger(Probing):
    after: float = param("this long after the incident (an on-call engineer starting on a page)", duration())

    @property
    def shown(self) -> str:
        return f"{self.after:g}s after the incident"


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertTrigger(Waiting):
    alert: str = param("Alertmanager pages about this alert for the node (alerts: {page: true})", name())
    state: str = param("the page to wait for", one_of("firing", "resolved"), "firing")

    @property
    def shown(self) -> str:
        return f"a page: {self.alert} {self.state}"


Trigger = (
    ReplyTrigger
    | MemoryTrigger
    | ClientsTrigger
    | LatencyTrigger
    | UnreachableTrigger
    | AfterTrigger
    | AlertTrigger
)

TRIGGERS: dict[str, tuple[type[Trigger], str]] = {
    "reply": (ReplyTrigger, "a probe write (or read) to the incident's node gets this error reply"),
    "memory_above": (MemoryTrigger, "the node's memory crosses a ratio of maxmemory"),
    "clients_above": (ClientsTrigger, "the node's clients cross a ratio of maxclients"),
    "latency_above": (LatencyTrigger, "a probe write is slower than a duration"),
    "unreachable": (UnreachableTrigger, "the node does not answer at all"),
    "after": (AfterTrigger, "a fixed time after the incident"),
    "alert": (AlertTrigger, "Alertmanager pages about an alert for the node"),
}


# --- steps: {gather: NAME} or {remediate: NAME, ...}; each also takes if_still: REPLY --------------------


@dataclass(frozen=True, slots=True)
class NoArguments:
    """A step that takes nothing but its name."""


@dataclass(frozen=True, slots=True)
class Policy:
    argument: str = param("the eviction policy to set", one_of(*EVICTION_POLICIES))


GATHERERS: dict[str, tuple[type, str]] = {
    "process-status": (NoArguments, "is the node's process (or container) running"),
    "node-log": (NoArguments, "the last lines of the node's log"),
    "host-memory": (NoArguments, "MemAvailable / MemTotal of the host (/proc/meminfo)"),
    "ping": (NoArguments, "PING the node, with its round trip"),
    "slowlog": (NoArguments, "SLOWLOG GET 25"),
    "info-memory": (NoArguments, "INFO memory"),
    "info-clients": (NoArguments, "INFO clients"),
    "info-persistence": (NoArguments, "INFO persistence"),
    "info-stats": (NoArguments, "INFO stats (evicted_keys, hits and misses)"),
    "info-replication": (NoArguments, "INFO replication (role, primary link, offsets)"),
    "client-list": (NoArguments, "CLIENT LIST"),
    "memory-doctor": (NoArguments, "MEMORY DOCTOR"),
    "latency-doctor": (NoArguments, "LATENCY DOCTOR"),
    "big-keys": (NoArguments, "the biggest keys, by SCAN and MEMORY USAGE"),
    "maxclients": (NoArguments, "CONFIG GET maxclients"),
}

REMEDIATIONS: dict[str, tuple[type, str]] = {
    "script-kill": (NoArguments, "SCRIPT KILL"),
    "shutdown-nosave-failover": (
        NoArguments,
        "SHUTDOWN NOSAVE, let Sentinel fail over, start the node again (it rejoins as a replica)",
    ),
    "set-maxmemory-policy": (Policy, "CONFIG SET maxmemory-policy to the argument"),
    "restore-snapshot-dir": (NoArguments, "CONFIG SET dir back to the node's data directory, then BGSAVE"),
    "restart-node": (NoArguments, "restart the node's process or container"),
    "restart-if-down": (
        NoArguments,
        "start the node again if its process (or container) is not running; nothing otherwise",
    ),
    "repair-aof": (
        NoArguments,
        "redis-check-aof --fix on the node's AOF (what it cuts off is lost), then start the node",
    ),
    "route-to-primary": (
        NoArguments,
        "ask Sentinel for the current primary and send the pinned client's writes there",
    ),
    "kill-slow-clients": (
        NoArguments,
        "CLIENT KILL of clients whose last command walks a keyspace (KEYS, SMEMBERS ...)",
    ),
    "kill-idle-clients": (
        NoArguments,
        "CLIENT KILL of ordinary clients idle 2 s or more (not replicas or Sentinel links)",
    ),
}

STEP_OPTION = "if_still"  # every gather/remediate/run step: run it only while a probe still gets this reply
