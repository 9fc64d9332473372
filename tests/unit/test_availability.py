"""Availability from the clients' acknowledged writes: the windows without one, named by the fault acting."""

from __future__ import annotations

from typing import Any

from harness.report.availability import availability
from harness.runbooks.history import History


def test_windows_without_an_acknowledged_write_are_named_by_the_fault_acting() -> None:
    records: list[dict[str, Any]] = [
        {"t": 0.0, "kind": "run"},
        {"t": 1.0, "kind": "load", "phase": "start"},
        {"t": 4.0, "kind": "fault", "index": 0, "action": "kill", "target": "primary", "node": "redis-1"},
        {"t": 8.0, "kind": "fault", "index": 1, "action": "restart", "target": "last-killed"},
    ]
    for i in range(900):  # every 10 ms from 1 s to 10 s, but none acknowledged from 4.0 s to 6.0 s
        t = 1.0 + i / 100
        ok = not 4.0 <= t < 6.0
        records.append(
            {"t": t, "kind": "op", "w": "acked-writes", "f": "write", "type": "ok" if ok else "fail"}
        )
    records.append({"t": 10.0, "kind": "load", "phase": "stop"})
    found = availability(History(tuple(records)))
    assert found is not None and found.bucket == 0.5
    (outage,) = found.outages
    assert (outage.start, outage.end, outage.during) == (4.0, 6.0, "kill primary -> redis-1")
    assert found.share == 14 / 18 and "77.8% of 9.0s" in found.text(), found.text()
