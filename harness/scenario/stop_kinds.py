"""Stop conditions (a scenario's `abort_if:`), declared once: each one's parameters, defaults and help, read
by the scenario loader and `drill kinds`. How each is judged lives in harness/runbooks/stop_conditions.py
(pure, over the observation log), run live during the drill by harness/run/guard.py and again by `drill
evaluate`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.scenario.fields import Invalid
from harness.scenario.params import ParamType, duration, name, param


def share(value: Any) -> float:
    """A share written as 5% or as 0.05."""
    text = str(value).strip()
    try:
        number = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise Invalid(f"expected a share such as 5% or 0.05, got {value!r}") from None
    if not 0.0 <= number <= 1.0:
        raise Invalid(f"expected a share between 0% and 100%, got {value!r}")
    return number


a_name = name  # in a class body whose field is called `name`


def percent() -> ParamType:
    shape = {
        "anyOf": [
            {"type": "number", "minimum": 0, "maximum": 1},
            {"type": "string", "pattern": r"^\s*\d+(\.\d+)?%?\s*$"},
        ]
    }
    return ParamType("share (5%, 0.05)", share, lambda v: f"{v:.0%}", shape)


@dataclass(frozen=True, slots=True)
class ErrorRate:
    above: float = param("share of the load's operations that failed or were left uncertain", percent())
    seconds: float = param("how long it stays above, stats interval by interval", duration(), key="for")


@dataclass(frozen=True, slots=True)
class NoPrimary:
    seconds: float = param("no node answered as a writable primary for this long", duration(), key="for")


@dataclass(frozen=True, slots=True)
class Latency:
    p99_above: float = param("the slowest workload's p99 in each stats interval above this", duration())
    seconds: float = param("how long it stays above, interval by interval", duration(), key="for")


@dataclass(frozen=True, slots=True)
class OpsBelow:
    ratio: float = param(
        "acknowledged ops/s under this share of the baseline (before the first fault)", percent()
    )
    seconds: float = param("how long it stays under, interval by interval", duration(), key="for")


@dataclass(frozen=True, slots=True)
class ReplicationBroken:
    seconds: float = param("a replica's link to its primary is down this long", duration(), key="for")


@dataclass(frozen=True, slots=True)
class MemoryAbove:
    above: float = param("used_memory / maxmemory of a data node above this share", percent())


@dataclass(frozen=True, slots=True)
class NodeDown:
    seconds: float = param("the node does not answer INFO this long", duration(), key="for")
    node: str = param("a node's name, or any data node", name(), "any")


@dataclass(frozen=True, slots=True)
class ClusterState:
    seconds: float = param(
        "a cluster node reports cluster_state other than ok this long", duration(), key="for"
    )


@dataclass(frozen=True, slots=True)
class AlertFiring:
    name: str = param("the alert rule's name (RedisDown, ...)", name())
    node: str = param("the node its instance label names, or any", a_name(), "any")


@dataclass(frozen=True, slots=True)
class MaxDuration:
    seconds: float = param("the drill's whole length, from its start", duration(), key="after")


STOP_CONDITIONS: dict[str, tuple[type, str]] = {
    "error_rate": (ErrorRate, "the load's failed or uncertain share stays above `above` for `for`"),
    "no_primary": (NoPrimary, "no data node answers INFO as a primary for `for` (on a cluster: of a shard)"),
    "latency": (Latency, "the load's p99 (slowest workload) stays above `p99_above` for `for`"),
    "ops_below": (OpsBelow, "acknowledged ops/s stay under `ratio` of the pre-fault baseline for `for`"),
    "replication_broken": (ReplicationBroken, "a replica's link to its primary stays down for `for`"),
    "memory_above": (MemoryAbove, "a data node's used_memory / maxmemory goes above `above`"),
    "node_down": (NodeDown, "a data node (or `node`) stops answering INFO for `for`"),
    "cluster_state": (ClusterState, "a cluster node reports cluster_state fail for `for`"),
    "alert": (
        AlertFiring,
        "Prometheus reports the alert `name` firing (alert: RedisDown; needs alerts:)",
    ),
    "max_duration": (MaxDuration, "the drill has run for `after` (written max_duration: 60s)"),
}
