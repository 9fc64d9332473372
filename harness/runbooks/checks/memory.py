"""Checks on memory: used_memory against maxmemory, evictions."""

from __future__ import annotations

from harness.core.log_records import FaultRecord
from harness.runbooks.checks.common import clear_from
from harness.runbooks.checks.registry import Judge, check
from harness.runbooks.history import History
from harness.runbooks.verdict import Verdict
from harness.scenario.check_kinds import MemoryAbove, MemoryBelow, NoParams


def _memory(history: History, since: float) -> list[tuple[float, str, int, int]]:
    """(time, node, used_memory, maxmemory) of every sampled data node with a maxmemory, after `since`."""
    out = []
    for round_ in history.infos:
        if round_["t"] < since:
            continue
        for name, node in round_["nodes"].items():
            used, limit = node.get("used_memory"), node.get("maxmemory")
            if used is not None and limit:
                out.append((float(round_["t"]), name, int(used), int(limit)))
    return out


@check(MemoryAbove)
def memory_above(p: MemoryAbove, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """used_memory / maxmemory of a data node crosses `above`."""
    for t, name, used, limit in _memory(history, float(incident["t"])):
        if used / limit > p.above:
            evidence = f"{name} used_memory {used} of maxmemory {limit} ({used / limit:.0%} > {p.above:.0%})"
            return judge(t, evidence)
    return judge(None, f"no node's memory crossed {p.above:.0%} of maxmemory after the incident")


@check(MemoryBelow)
def memory_below(p: MemoryBelow, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """Every data node's used_memory / maxmemory is back under `below` and stays there to the end."""
    samples = _memory(history, float(incident["t"]))
    if not samples:
        return judge.unknown("no node with a maxmemory was sampled after the incident")
    since = clear_from([(t, used / limit >= p.below) for t, _, used, limit in samples], float(incident["t"]))
    if since is None:
        return judge(None, f"memory at or above {p.below:.0%} of maxmemory until the end")
    return judge(since, f"every node under {p.below:.0%} of maxmemory from {since:.2f}s to the end")


@check(NoParams)
def evictions(p: NoParams, history: History, incident: FaultRecord, judge: Judge) -> Verdict:
    """evicted_keys of a node grows after the incident (counted from the last sample before it)."""
    samples = history.infos
    before = [r for r in samples if r["t"] < incident["t"]][-1:]
    start: dict[str, int] = {
        name: int(node["evicted_keys"])
        for r in before
        for name, node in r["nodes"].items()
        if node.get("evicted_keys") is not None
    }
    for round_ in (r for r in samples if r["t"] >= incident["t"]):
        for name, node in round_["nodes"].items():
            count = node.get("evicted_keys")
            if count is None:
                continue
            start.setdefault(name, int(count))
            if count > start[name]:
                evidence = f"{name} evicted_keys {start[name]} -> {count}"
                return judge(float(round_["t"]), evidence)
    return judge(None, "no node evicted a key after the incident")
