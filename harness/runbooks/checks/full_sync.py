"""Checks on a replica's full sync: that one happened, and what it cost the primary's memory."""

from __future__ import annotations

from harness.core.log_records import FaultRecord
from harness.runbooks.checks.registry import Judge, check
from harness.runbooks.history import History
from harness.runbooks.verdict import Verdict
from harness.scenario.check_kinds import BuffersWithin, NoParams

MB = 1024 * 1024


@check(NoParams)
def full_sync(p: NoParams, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """A primary's sync_full (full syncs served) grows after the incident: a replica is copying everything."""
    start: dict[str, int] = {}
    for round_ in history.infos:
        for name, node in round_["nodes"].items():
            count = node.get("sync_full")
            if count is None or node.get("role") != "master":
                continue
            if round_["t"] < incident["t"] or name not in start:
                start[name] = int(count)
            elif count > start[name]:
                return judge(float(round_["t"]), f"{name} sync_full {start[name]} -> {count}")
    return judge(None, "no primary served a full sync after the incident")


@check(BuffersWithin)
def replica_buffers_within(
    p: BuffersWithin, history: History, incident: FaultRecord, judge: Judge
) -> Verdict:
    """The primary's output buffers to its replicas (INFO mem_clients_slaves: the write stream held for a
    replica while it loads a full sync, unless dual-channel replication sends it on its own channel) stay
    within `bytes` from the incident to the end. Judged on the peak sampled."""
    peaks = [
        (int(node["mem_clients_slaves"]), name, float(round_["t"]))
        for round_ in history.infos
        if round_["t"] >= incident["t"]
        for name, node in round_["nodes"].items()
        if node.get("role") == "master" and node.get("mem_clients_slaves") is not None
    ]
    if not peaks:
        return judge.unknown("no primary's mem_clients_slaves was sampled after the incident")
    peak, name, t = max(peaks)
    evidence = (
        f"{name} mem_clients_slaves peaked at {peak / MB:.2f} MB ({t:.2f}s), bound {p.bytes / MB:.2f} MB"
    )
    return judge.bounded(round(peak / MB, 3), round(p.bytes / MB, 3), "MB", evidence)
