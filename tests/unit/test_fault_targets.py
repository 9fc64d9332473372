"""Fault targets: `replica` is never a primary, on a cluster (any shard's) or on a Sentinel topology, for
every seed; and every fault kind resolves its target through the one resolution in harness/faults/targets.py
(issue #35: process faults had their own copy, which on a cluster picked other shards' primaries)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from harness.core.errors import FaultError
from harness.faults.targets import RoleView, pick

FAULTS = Path(__file__).resolve().parents[2] / "harness" / "faults"
SEEDS = range(1, 51)

# cluster-3: redis-1..3 primaries of shards 1..3, redis-4..6 their replicas.
CLUSTER = RoleView(
    primary="redis-1",
    primaries=frozenset({"redis-1", "redis-2", "redis-3"}),
    shard=frozenset({"redis-1", "redis-4"}),
    running=frozenset(f"redis-{i}" for i in range(1, 7)),
)
SENTINEL = RoleView(
    primary="redis-1",
    primaries=frozenset({"redis-1"}),
    shard=frozenset({"redis-1", "redis-2", "redis-3"}),
    running=frozenset({"redis-1", "redis-2", "redis-3"}),
)


@pytest.mark.parametrize("view", [CLUSTER, SENTINEL], ids=["cluster", "sentinel"])
def test_replica_is_never_a_primary(view: RoleView) -> None:
    chosen = {pick("replica", view, seed) for seed in SEEDS}
    assert not chosen & view.primaries
    assert chosen <= view.shard
    assert {pick("primary", view, seed) for seed in SEEDS} == {view.primary}


def test_every_sentinel_replica_can_be_chosen() -> None:
    assert {pick("replica", SENTINEL, seed) for seed in SEEDS} == {"redis-2", "redis-3"}


def test_cluster_replica_after_a_failover_is_the_old_primary() -> None:
    """redis-4 promoted, redis-1 back as its replica: `replica` is now redis-1, `primary` redis-4."""
    view = RoleView("redis-4", frozenset({"redis-4", "redis-2", "redis-3"}), CLUSTER.shard, CLUSTER.running)
    assert {pick("replica", view, seed) for seed in SEEDS} == {"redis-1"}
    assert pick("primary", view, 1) == "redis-4"


def test_no_running_replica_in_the_shard_is_a_fault_error() -> None:
    view = RoleView(CLUSTER.primary, CLUSTER.primaries, CLUSTER.shard, CLUSTER.running - {"redis-4"})
    with pytest.raises(FaultError, match="kill: no running replica in redis-1's shard"):
        pick("replica", view, 3, "kill")


def test_a_name_is_taken_as_it_is() -> None:
    assert pick("redis-5", CLUSTER, 1) == "redis-5"


def test_partition_groups_keep_their_meaning_on_a_cluster() -> None:
    assert CLUSTER.other_primaries == {"redis-2", "redis-3"}
    assert CLUSTER.all_replicas == ("redis-4", "redis-5", "redis-6")
    assert CLUSTER.replicas == ("redis-4",)


def _calls(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
    return names


@pytest.mark.parametrize("module", sorted(p.name for p in FAULTS.glob("*.py") if p.name != "targets.py"))
def test_every_fault_kind_resolves_through_targets(module: str) -> None:
    """No fault module looks up the primary or draws a node itself: the copies drifted apart before."""
    names = _calls(FAULTS / module)
    assert "running_replicas" not in names
    assert "choice" not in names, f"{module} draws a node itself; use harness.faults.targets"
    if module in ("process.py", "pause.py", "server.py", "network.py", "partition.py"):
        assert names & {"resolve", "pick"}, f"{module} does not resolve its target through targets.py"
