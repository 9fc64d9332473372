"""One primary at a time, from the clients' acknowledgements: a failover hands over (the old primary's last
acknowledgement before the new one's first), a split brain overlaps, and a node that comes back as primary
later is a new stretch, not an overlap."""

from __future__ import annotations

from typing import Any

from harness.runbooks.history import History
from harness.runbooks.one_primary import one_primary

TOPOLOGY = {
    "t": 0.5,
    "kind": "topology",
    "nodes": {
        "redis-1": {"kind": "data", "address": "127.1.1.11:7001", "client_address": "127.1.1.11:7001"},
        "redis-2": {"kind": "data", "address": "127.1.1.12:7002", "client_address": "127.1.1.12:7002"},
    },
}


def acks(*spans: tuple[str, float, float]) -> History:
    records: list[dict[str, Any]] = [TOPOLOGY]
    for by, start, end in spans:
        t = start
        while t <= end:
            records.append({"t": t, "kind": "op", "w": "acked-writes", "f": "write", "type": "ok", "by": by})
            t = round(t + 0.1, 3)
    return History(tuple(sorted(records, key=lambda r: float(r["t"]))))


def test_a_failover_hands_over_and_a_split_brain_overlaps() -> None:
    failover = one_primary(acks(("127.1.1.11:7001", 1.0, 4.0), ("127.1.1.12:7002", 6.0, 9.0)))
    assert failover is not None and failover.passed, failover
    assert "redis-1 1.00-4.00s, redis-2 6.00-9.00s" in failover.evidence
    split = one_primary(acks(("127.1.1.11:7001", 1.0, 12.0), ("127.1.1.12:7002", 6.0, 9.0)))
    assert split is not None and not split.passed
    assert (
        "redis-1 and redis-2 both acknowledged writes from 6.00s to 9.00s (31 by redis-1, 31 by redis-2)"
        in (split.evidence)
    )


def test_a_node_primary_again_after_a_gap_is_a_new_stretch() -> None:
    back = one_primary(
        acks(("127.1.1.11:7001", 1.0, 3.0), ("127.1.1.12:7002", 5.0, 8.0), ("127.1.1.11:7001", 10.0, 12.0))
    )
    assert back is not None and back.passed, back
    assert one_primary(History(({"t": 1.0, "kind": "op", "f": "write", "type": "ok"},))) is None
