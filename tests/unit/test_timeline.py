from harness.faults.timeline import due, schedule
from harness.scenario.model import FaultSpec

FAULTS = (
    FaultSpec(at=5.0, jitter=0.0, action="kill", target="primary"),
    FaultSpec(at=2.0, jitter=1.0, action="kill", target="replica"),
    FaultSpec(at=9.0, jitter=0.0, action="restart", target="last-killed"),
)


def test_schedule_is_sorted_and_deterministic_for_a_seed() -> None:
    plan = schedule(FAULTS, seed=7)
    assert plan == schedule(FAULTS, seed=7)
    assert [f.index for f in plan] == [1, 0, 2]
    assert 2.0 <= plan[0].at <= 3.0


def test_seed_changes_jitter_and_choices() -> None:
    a, b = schedule(FAULTS, seed=1), schedule(FAULTS, seed=2)
    assert (a[0].at, a[0].choice_seed) != (b[0].at, b[0].choice_seed)


def test_due_returns_each_fault_once_in_order() -> None:
    plan = schedule(FAULTS, seed=7)
    assert due(plan, 1.0, fired=0) == ()
    assert [f.index for f in due(plan, 6.0, fired=0)] == [1, 0]
    assert [f.index for f in due(plan, 6.0, fired=2)] == []
    assert [f.index for f in due(plan, 100.0, fired=2)] == [2]
