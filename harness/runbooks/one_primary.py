"""At most one primary accepting writes at any moment, judged from the clients' own acknowledgements (each
acknowledged write names the node that acknowledged it), not from what the nodes say of their roles: a
cut-off primary that still answers OK is a second primary whatever INFO says. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from harness.runbooks.history import History
from harness.runbooks.verdict import Verdict

# Two acknowledgements by one node this close together belong to one stretch of it being primary; a node
# that acknowledged nothing for longer had stopped (killed, frozen, demoted) in between.
GAP_S = 1.0
NAME = "expect: one primary at a time (from the clients' acknowledgements)"


@dataclass(frozen=True, slots=True)
class Stretch:
    node: str
    start: float
    end: float
    acks: int


def one_primary(history: History) -> Verdict | None:
    """None when no write says who acknowledged it (a cluster's, or a log from before this was recorded)."""
    acks = sorted(
        (float(r["t"]), str(r["by"]))
        for r in history.ops
        if r.get("f") == "write" and r.get("type") == "ok" and r.get("by")
    )
    if not acks:
        return None
    names = _names(history)
    stretches = _stretches([(t, names.get(by, by)) for t, by in acks])
    both = [
        (a, b, max(a.start, b.start), min(a.end, b.end))
        for i, a in enumerate(stretches)
        for b in stretches[i + 1 :]
        if a.node != b.node and a.start < b.end and b.start < a.end
    ]
    if both:
        shown = [
            f"{a.node} and {b.node} both acknowledged writes from {start:.2f}s to {end:.2f}s "
            f"({_acks_between(acks, names, a.node, start, end)} by {a.node}, "
            f"{_acks_between(acks, names, b.node, start, end)} by {b.node})"
            for a, b, start, end in both[:3]
        ]
        more = f"; {len(both) - 3} more" if len(both) > 3 else ""
        return Verdict(
            NAME, "checker", "expect", False, float(len(both)), 0.0, "overlaps", "; ".join(shown) + more
        )
    handovers = ", ".join(f"{s.node} {s.start:.2f}-{s.end:.2f}s" for s in stretches[:6])
    more = f", {len(stretches) - 6} more" if len(stretches) > 6 else ""
    evidence = f"{len(acks)} acknowledged writes, one node at a time: {handovers}{more}"
    return Verdict(NAME, "checker", "expect", True, 0.0, 0.0, "overlaps", evidence)


def _names(history: History) -> dict[str, str]:
    """host:port -> node name, from the run's topology records (node and client addresses alike)."""
    names: dict[str, str] = {}
    for record in history.topologies:
        for name, node in record.get("nodes", {}).items():
            for field in ("address", "client_address"):
                if node.get(field):
                    names[str(node[field])] = name
    return names


def _stretches(acks: list[tuple[float, str]]) -> list[Stretch]:
    """Each node's acknowledgements cut into stretches wherever it acknowledged nothing for GAP_S."""
    open_: dict[str, Stretch] = {}
    done: list[Stretch] = []
    for t, node in acks:
        current = open_.get(node)
        if current is not None and t - current.end <= GAP_S:
            open_[node] = Stretch(node, current.start, t, current.acks + 1)
            continue
        if current is not None:
            done.append(current)
        open_[node] = Stretch(node, t, t, 1)
    return sorted([*done, *open_.values()], key=lambda s: s.start)


def _acks_between(
    acks: list[tuple[float, str]], names: dict[str, str], node: str, start: float, end: float
) -> int:
    return sum(1 for t, by in acks if start <= t <= end and names.get(by, by) == node)
