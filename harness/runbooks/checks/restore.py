"""Checks on restores from a snapshot."""

from __future__ import annotations

from harness.core.log_records import FaultRecord
from harness.runbooks.checks.registry import Judge, check
from harness.runbooks.history import History
from harness.runbooks.verdict import Verdict
from harness.scenario.check_kinds import NoParams


@check(NoParams)
def restore_complete(p: NoParams, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """The node restored from the snapshot holds every write acknowledged before BGSAVE was sent."""
    # The snapshot-restore fault logs its check before its own fault record, which is the incident.
    record = history.first("restore_check", 0.0)
    if record is None:
        return judge.unknown("no restore was checked")
    size, point = record["snapshot_bytes"], record["point"]
    where = f"{record['node']} from {record['source']}'s {size:,}-byte snapshot of {point:.3f}s"
    if record["expected"] == 0:
        return judge(None, f"{where}: no write was acknowledged before the snapshot, so nothing was checked")
    if record["missing"]:
        shown = ", ".join(record["first_missing"])
        return judge(
            None, f"{where}: {record['missing']} of {record['expected']} acknowledged writes missing: {shown}"
        )
    return judge(
        max(float(record["t"]), float(incident["t"])),
        f"{where}: all {record['expected']:,} writes acknowledged before it are there",
    )
