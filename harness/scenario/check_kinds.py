"""Every runbook check's parameters, declared once: read by the runbook loader, `drill kinds` and the checks
themselves. What each check judges lives in harness/runbooks/checks/ (a module per family), which the loader
does not import; a test holds the two together (the same names, the same classes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.scenario.durations import Bound
from harness.scenario.params import (
    argv,
    bound,
    duration,
    name,
    one_of,
    param,
    ratio,
    reply_class,
    size,
    whole,
)


def _alert_whose() -> Any:
    return param(
        "for the incident's node, the initial primary, or any",
        one_of("incident", "primary", "any"),
        "incident",
    )


@dataclass(frozen=True, slots=True)
class Alert:
    name: str = param("the alert rule's name (RedisDown, ...)", name())
    state: str = param("the state it must reach", one_of("pending", "firing", "resolved"))
    node: str = _alert_whose()


@dataclass(frozen=True, slots=True)
class Page:
    name: str = param("the alert's name (RedisDown, ...)", name())
    state: str = param("the page: firing, or the resolved notification", one_of("firing", "resolved"))
    node: str = _alert_whose()


@dataclass(frozen=True, slots=True)
class ClientsAbove:
    above: float = param("share of maxclients (SEED-FACTS: warning 0.8, critical 0.95)", ratio())


@dataclass(frozen=True, slots=True)
class ClientsBelow:
    below: float = param("share of maxclients every node must be back under", ratio())


@dataclass(frozen=True, slots=True)
class Flagged:
    flag: str = param(
        "what another node flags the incident's node: failed (FAIL, agreed by a majority of primaries) or"
        " suspected (PFAIL, one node's own timeout)",
        one_of("failed", "suspected"),
        "failed",
    )


@dataclass(frozen=True, slots=True)
class Redirected:
    reply: str = param(
        "the redirect the load's clients follow: MOVED (a slot has a new owner) or ASK (its keys are moving)",
        one_of("MOVED", "ASK"),
        "MOVED",
    )


SHARDS = ("other-shards", "incident-shard")


@dataclass(frozen=True, slots=True)
class Refused:
    keys: str = param(
        "whose keys: other-shards (the whole cluster refuses) or incident-shard (the lost shard's)",
        one_of(*SHARDS),
        "other-shards",
    )
    error: str = param(
        "the error class they get (CLUSTERDOWN, connection-refused, ...; empty: any failure)", name(), ""
    )


@dataclass(frozen=True, slots=True)
class Served:
    at_most: int = param("failed or uncertain operations on those keys allowed", whole(0, 1 << 30), 0)


NODE_CHOICES = ("incident", "any")


@dataclass(frozen=True, slots=True)
class NoParams:
    """A check that takes nothing but its `within` bound."""


@dataclass(frozen=True, slots=True)
class BuffersWithin:
    bytes: int = param("bound on the primary's output buffers to its replicas (mem_clients_slaves)", size())


WORKLOAD_HELP = "judge this workload's p99 only (default: the slowest workload's)"


@dataclass(frozen=True, slots=True)
class LatencyAbove:
    above: float = param("the p99 that counts as detected", duration())
    workload: str = param(WORKLOAD_HELP, name(), "")


@dataclass(frozen=True, slots=True)
class LatencyBelow:
    below: float = param("the p99 the load must be back under", duration())
    workload: str = param(WORKLOAD_HELP, name(), "")


@dataclass(frozen=True, slots=True)
class MemoryAbove:
    above: float = param("share of maxmemory (SEED-FACTS: warning 0.75, critical 0.9)", ratio())


@dataclass(frozen=True, slots=True)
class MemoryBelow:
    below: float = param("share of maxmemory every node must be back under", ratio())


@dataclass(frozen=True, slots=True)
class Window:
    window: float = param("how long after the incident (default: to the end of the drill)", duration(), 0.0)


@dataclass(frozen=True, slots=True)
class LostWindow:
    window: Bound = param("every lost write was acknowledged at most this long after the incident", bound())


@dataclass(frozen=True, slots=True)
class Program:
    command: tuple[str, ...] = param("the program and its arguments (paths: from the runbook)", argv())
    every: float = param("how often it runs, from the incident to the end of the drill", duration(), 1.0)
    timeout: float = param("each run is killed after this long, and counts as failed", duration(), 5.0)


@dataclass(frozen=True, slots=True)
class Attached:
    lag_below: float = param("each replica at most this far behind the primary", duration(), 1.0)
    replicas: str = param(
        "live: every running replica; all: every configured one", one_of("live", "all"), "live"
    )


@dataclass(frozen=True, slots=True)
class LagAbove:
    above: float = param("the lag that counts as detected", duration(), 1.0)
    node: str = param("whose lag: the incident's replica, or any", one_of(*NODE_CHOICES), "incident")


@dataclass(frozen=True, slots=True)
class LagBelow:
    below: float = param("the lag every replica must be back under", duration())


SENTINEL_EVENTS = (
    "+sdown",
    "-sdown",
    "+odown",
    "-odown",
    "+try-failover",
    "+elected-leader",
    "+failover-state-select-slave",
    "+selected-slave",
    "+promoted-slave",
    "+failover-end",
    "+switch-master",
    "+slave",
    "+convert-to-slave",
    "+reboot",
    "-failover-abort-no-good-slave",
    "+failover-end-for-timeout",
)


@dataclass(frozen=True, slots=True)
class SentinelEvent:
    event: str = param("the event, as Sentinel publishes it", one_of(*SENTINEL_EVENTS))
    node: str = param(
        "whose event: the incident's node, the initial primary, or any",
        one_of("incident", "primary", "any"),
        "incident",
    )


@dataclass(frozen=True, slots=True)
class HitRateBelow:
    below: float = param("hits / (hits + misses) (SEED-FACTS: healthy > 0.95, critical < 0.90)", ratio())


@dataclass(frozen=True, slots=True)
class HitRateBack:
    above: float = param("hit rate the primary must be back over (SEED-FACTS: healthy > 0.95)", ratio())


@dataclass(frozen=True, slots=True)
class OpsAbove:
    above: float = param("rise over the baseline (SEED-FACTS: 0.5 warning, 1.0 critical)", ratio(10.0))


@dataclass(frozen=True, slots=True)
class OpsBack:
    below: float = param("rise over the baseline the primary must be back under", ratio(10.0))


@dataclass(frozen=True, slots=True)
class DipAtMost:
    at_most: float = param("largest share of the load's baseline ops/s a 1 s window may lose", ratio())


@dataclass(frozen=True, slots=True)
class Tolerance:
    tolerance: float = param("error ratio allowed above the baseline", ratio(), 0.0)


@dataclass(frozen=True, slots=True)
class Reply:
    reply: str = param("the error reply's first word", reply_class())


# Every check a runbook may name, with its parameters, in the order `drill kinds` and error messages list
# them (the check modules' order; tests/unit/test_kinds.py holds it equal to the registry's).
CHECK_PARAMS: dict[str, type] = {
    "alert": Alert,
    "page": Page,
    "clients_above": ClientsAbove,
    "clients_below": ClientsBelow,
    "cluster_node_flagged": Flagged,
    "cluster_failover": NoParams,
    "cluster_state": NoParams,
    "slots_covered": NoParams,
    "reshard_done": NoParams,
    "clients_redirected": Redirected,
    "keys_refused": Refused,
    "other_shards_served": Served,
    "full_sync": NoParams,
    "replica_buffers_within": BuffersWithin,
    "latency_above": LatencyAbove,
    "latency_below": LatencyBelow,
    "memory_above": MemoryAbove,
    "memory_below": MemoryBelow,
    "evictions": NoParams,
    "no_failover": Window,
    "writes_refused": Reply,
    "lost_writes_within": LostWindow,
    "single_primary": NoParams,
    "sentinels_agree": NoParams,
    "program": Program,
    "replicas_attached": Attached,
    "replication_lag": LagAbove,
    "replication_lag_below": LagBelow,
    "restore_complete": NoParams,
    "sentinel_event": SentinelEvent,
    "hit_rate_below": HitRateBelow,
    "hit_rate_back": HitRateBack,
    "ops_above": OpsAbove,
    "ops_back": OpsBack,
    "throughput_dip": DipAtMost,
    "writable": NoParams,
    "error_rate_back_to_baseline": Tolerance,
    "error_reply": Reply,
    "reply_gone": Reply,
}
