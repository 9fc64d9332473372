"""ddmin finds the smallest failing subsequence within its budget of tests."""

from __future__ import annotations

from harness.run.ddmin import ddmin


def test_one_culprit_among_eight_is_found_in_few_tests() -> None:
    tried: list[tuple[int, ...]] = []

    def fails(subset: tuple[int, ...]) -> bool:
        tried.append(subset)
        return 6 in subset

    found, tests = ddmin(range(8), fails, budget=20)
    assert found == (6,) and tests == len(tried) <= 6, tried


def test_a_pair_that_only_fails_together_is_kept_together() -> None:
    found, _ = ddmin(range(8), lambda s: 1 in s and 5 in s, budget=40)
    assert found == (1, 5)


def test_the_budget_stops_it_with_the_smallest_found_so_far() -> None:
    found, tests = ddmin(range(16), lambda s: 13 in s, budget=2)
    assert tests == 2 and found == tuple(
        range(8, 16)
    )  # the first half passed, the second failed: halved once
    assert ddmin(range(5), lambda s: False, budget=20)[0] == (0, 1, 2, 3, 4)  # nothing smaller fails
