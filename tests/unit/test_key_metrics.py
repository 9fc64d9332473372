"""The key-metrics dashboard over hand-made INFO samples: each metric's value, its band, and where a node
crosses into a worse one."""

from __future__ import annotations

from typing import Any

from harness.report.key_metrics import METRICS, key_metrics, summarize
from harness.runbooks.history import History


def info(t: float, nodes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {"t": t, "kind": "info", "nodes": nodes, "sentinels": {}}


def primary(offset: int, used: int, clients: int, commands: int, cpu: float) -> dict[str, Any]:
    return {
        "role": "master", "offset": offset, "replicas": [], "used_memory": used, "maxmemory": 1000,
        "connected_clients": clients, "maxclients": 100, "total_commands_processed": commands,
        "used_cpu_sys": cpu, "used_cpu_user": 0.0,
        "keyspace_hits": commands, "keyspace_misses": commands // 12,
    }  # fmt: skip


def replica(offset: int) -> dict[str, Any]:
    return {"role": "slave", "offset": offset, "primary": "redis-1", "link": "up"}


def test_bands_crossings_and_the_lag_behind_the_primary() -> None:
    samples = []
    for step in range(40):  # 10 s of 0.25 s samples; the fault at 5 s
        t = step * 0.25
        late = t >= 5.0
        used = 950 if late else 500  # 95 %: critical
        clients = 85 if late else 10  # 85 %: warning
        commands = int(400 * t + (800 * (t - 5.0) if late else 0))  # ops triple after the fault
        cpu = 0.1 * t + (0.8 * (t - 5.0) if late else 0.0)  # 90 % of a core after it (10 % before)
        # The replica stops applying at 5 s while the primary's offset keeps rising 100 bytes a sample.
        samples.append(
            info(
                t,
                {
                    "redis-1": primary(step * 100, used, clients, commands, cpu),
                    "redis-2": replica(min(step, 20) * 100),
                },
            )
        )
    records = [
        {"t": 0.0, "kind": "run"},
        *samples[:20],
        {"t": 5.0, "kind": "fault", "action": "kill", "index": 0},
    ]
    history = History(tuple([*records, *samples[20:]]))
    panels = {p.metric.key: p for p in key_metrics(history)}
    assert [m.key for m in METRICS] == list(panels)
    memory = panels["memory"].worst
    assert memory is not None and (memory.band, memory.node, memory.t, memory.value) == (
        "critical",
        "redis-1",
        5.0,
        95.0,
    )
    crowded = panels["connections"].worst
    assert crowded is not None and (crowded.band, crowded.t) == ("warning", 5.0)
    busy = panels["cpu"].worst
    assert busy is not None and busy.band == "critical" and 5.0 < busy.t <= 6.0, busy
    ops = panels["ops"].worst
    assert ops is not None and ops.band == "critical" and 5.0 < ops.t <= 6.0, ops
    # Hit rate: 12 hits to 1 miss is 92 %: the warning band (90-95 %), never critical.
    hits = panels["hit_rate"].worst
    assert hits is not None and hits.band == "warning"
    # Lag in time: at 6.25 s the replica holds the offset the primary had at 5.0 s.
    lag = dict(dict(panels["replication_lag"].series)["redis-2"])
    assert lag[4.75] == 0.0 and lag[6.25] == 1.25 and lag[9.75] == 4.75
    assert panels["replication_lag"].worst is not None and panels["replication_lag"].worst.band == "warning"
    summary = {s.metric: s for s in summarize(tuple(panels.values()))}
    assert summary["memory"].text == "critical: redis-1 95% at t=5.00s"
