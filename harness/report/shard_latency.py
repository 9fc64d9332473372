"""A cluster's latency per shard before, during and after the incident, from the load's tracked operations
(each one's key names its slot, so its shard): a fault on one shard's link shows on that shard's keys alone,
where the load's overall p99 mixes every shard. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.core.histograms import percentile
from harness.core.log_records import OpRecord
from harness.runbooks.history import History
from harness.runbooks.lost_writes import INTERRUPTED, shard_index

PHASES = ("before", "during", "after")


@dataclass(frozen=True, slots=True)
class PhaseLatency:
    """The tracked operations invoked in one phase on one shard's keys."""

    ok: int
    failed: int  # failed or left uncertain
    p50_us: int | None  # of the acknowledged ones; None: none
    p99_us: int | None


@dataclass(frozen=True, slots=True)
class ShardLatency:
    shard: str  # the shard's primary as created, e.g. redis-1
    before: PhaseLatency  # from the load's start to the incident
    during: PhaseLatency  # from the incident to its recovery (MTTR), or to the load's end without one
    after: PhaseLatency  # from the recovery to the load's end


def latency_by_shard(history: History, mttr: float | None) -> tuple[ShardLatency, ...]:
    """Per shard of a cluster; () on a Sentinel topology or without an incident."""
    shards = history.topologies[0].get("shards", []) if history.topologies else []
    incident = history.incident
    if not shards or incident is None:
        return ()
    start = float(incident["t"])
    end = start + mttr if mttr is not None else float("inf")
    ops: list[list[list[OpRecord]]] = [[[], [], []] for _ in shards]
    for record in history.ops:
        if "key" not in record or record.get("error") == INTERRUPTED:
            continue  # cut off by the load's end: neither slow nor failed
        t0 = float(record["t0"])
        phase = 0 if t0 < start else 1 if t0 < end else 2
        ops[shard_index(shards, record["key"])][phase].append(record)
    return tuple(
        ShardLatency(shard["primary"], *(_phase(records) for records in phases))
        for shard, phases in zip(shards, ops, strict=True)
    )


def _phase(records: list[OpRecord]) -> PhaseLatency:
    latencies = sorted(round((float(r["t"]) - float(r["t0"])) * 1e6) for r in records if r["type"] == "ok")
    failed = sum(1 for r in records if r["type"] != "ok")
    if not latencies:
        return PhaseLatency(0, failed, None, None)
    return PhaseLatency(len(latencies), failed, percentile(latencies, 0.5), percentile(latencies, 0.99))


def shard_latency_from_json(item: dict[str, Any]) -> ShardLatency:
    """report.json's form back (report.html is drawn from report.json)."""
    return ShardLatency(item["shard"], *(PhaseLatency(**item[phase]) for phase in PHASES))


def shard_latency_text(shard: ShardLatency) -> str:
    """`redis-2: p99 812 µs before, 51,304 µs during, 790 µs after; failed or uncertain: 312 during`."""

    def p99(phase: PhaseLatency) -> str:
        return "-" if phase.p99_us is None else f"{phase.p99_us:,} µs"

    phases = (shard.before, shard.during, shard.after)
    text = f"{shard.shard}: p99 " + ", ".join(f"{p99(p)} {n}" for p, n in zip(phases, PHASES, strict=True))
    failed = [f"{p.failed} {n}" for p, n in zip(phases, PHASES, strict=True) if p.failed]
    return text + (f"; failed or uncertain: {', '.join(failed)}" if failed else "")
