"""Hand-made observation logs for evaluation tests: a primary failover with knobs to break it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.log_records import StatsRecord
from harness.report.model import RunReport, build_report
from harness.runbooks.evaluate import evaluate
from harness.runbooks.history import History
from harness.scenario.loader import load_scenario

Record = dict[str, Any]

ROOT = Path(__file__).resolve().parents[2]
KILL_AT = 5.0
SWITCH_AT = 6.7


def failover_log(
    *, odown: bool = True, lose_key: str | None = None, replica_stuck: bool = False, errors_until: float = 6.8
) -> list[Record]:
    log: list[Record] = [{"t": 0.0, "kind": "run"}, {"t": 1.0, "kind": "load", "phase": "start"}]
    # Writes every 0.1 s: acknowledged, except while no primary is reachable.
    for i in range(10, 120):
        t = i / 10
        failed = KILL_AT <= t < errors_until
        log.append(
            {
                "t": t + 0.001,
                "kind": "op",
                "f": "write",
                "key": f"k{i}",
                "value": f"v{i}",
                "t0": t,
                "type": "fail" if failed else "ok",
                **({"error": "connection-refused"} if failed else {}),
            }
        )
    for i in range(3, 24):
        t = i / 2
        bad = KILL_AT <= t <= errors_until + 0.4
        stats = StatsRecord(
            t=t,
            kind="stats",
            workload="acked-writes",
            ok=0 if bad else 50,
            fail=5 if bad else 0,
            info=0,
            retries=0,
            errors={"connection-refused": 5} if bad else {},
            retried_errors={},
            p50_us=80,
            p99_us=80,
            max_us=900,
            hist={"80": 50},
        )
        log.append(dict(stats))
    log.append({"t": KILL_AT, "kind": "fault", "action": "kill", "target": "primary", "node": "redis-1"})
    events = [(6.02, "+sdown", "redis-1"), (6.1, "+odown", "redis-1"), (6.3, "+elected-leader", "redis-1")]
    if not odown:
        events = [e for e in events if e[1] != "+odown"]
    for t, event, node in events:
        log.append(
            {
                "t": t,
                "kind": "sentinel",
                "sentinel": "sentinel-1",
                "event": event,
                "type": "master",
                "node": node,
                "data": f"master mymaster 127.0.0.1 1 {event}",
            }
        )
    log.append(
        {
            "t": SWITCH_AT,
            "kind": "sentinel",
            "sentinel": "sentinel-2",
            "event": "+switch-master",
            "type": "master",
            "node": "redis-1",
            "old": "redis-1",
            "new": "redis-2",
            "data": "mymaster ...",
        }
    )
    for i in range(4, 48):
        t = i / 4
        offset = i * 100
        if t < KILL_AT:
            nodes = {
                "redis-1": {
                    "role": "master",
                    "offset": offset,
                    "replicas": [
                        {"node": "redis-2", "state": "online"},
                        {"node": "redis-3", "state": "online"},
                    ],
                },
                "redis-2": {"role": "slave", "offset": offset, "link": "up", "primary": "redis-1"},
                "redis-3": {"role": "slave", "offset": offset, "link": "up", "primary": "redis-1"},
            }
        elif t < SWITCH_AT + 0.3:
            nodes = {
                "redis-1": {"error": "ConnectionError"},
                "redis-2": {"role": "slave", "offset": 500, "link": "down", "primary": "redis-1"},
                "redis-3": {"role": "slave", "offset": 500, "link": "down", "primary": "redis-1"},
            }
        else:
            nodes = {
                "redis-1": {"error": "ConnectionError"},
                "redis-2": {
                    "role": "master",
                    "offset": offset,
                    "replicas": [{"node": "redis-3", "state": "online"}],
                },
                "redis-3": {
                    "role": "slave",
                    "offset": 700 if replica_stuck else offset,
                    "link": "up",
                    "primary": "redis-2",
                },
            }
        log.append({"t": t, "kind": "info", "nodes": nodes})
    log.append({"t": 12.0, "kind": "load", "phase": "stop"})
    values = {r["key"]: r["value"] for r in log if r["kind"] == "op" and r["type"] == "ok"}
    if lose_key is not None:
        values[lose_key] = None
    log.append({"t": 12.1, "kind": "readback", "node": "redis-2", "values": values})
    log.append({"t": 12.2, "kind": "readback", "node": "redis-2", "done": True, "keys": len(values)})
    return sorted(log, key=lambda r: r["t"])


@dataclass(frozen=True)
class BuiltReport:
    report: RunReport
    records: list[Record]
    mttd: float | None
    mttr: float | None


def failover_report(run_dir: str = "/tmp/r1", **changes: Any) -> BuiltReport:
    """The primary-failover scenario judged on a hand-made failover log (see failover_log for the knobs)."""
    scenario = load_scenario(ROOT / "scenarios" / "primary-failover.yaml")
    records = failover_log(**changes)
    evaluation = evaluate(scenario, records)
    report = build_report(
        scenario=scenario.name,
        run_id="r1",
        run_dir=run_dir,
        backend="local",
        retry_policy="none",
        seed=7,
        wall_time_s=12.5,
        history=History(tuple(records)),
        evaluation=evaluation,
    )
    return BuiltReport(report, records, evaluation.mttd, evaluation.mttr)
