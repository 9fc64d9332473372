"""Delta debugging (Zeller's ddmin) over a list: the smallest subsequence found for which a test still
fails, within a budget of tests. Pure: the test is the caller's (for `drill shrink`, a real drill)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def ddmin(
    items: Sequence[T], fails: Callable[[tuple[T, ...]], bool], budget: int
) -> tuple[tuple[T, ...], int]:
    """(the smallest failing subsequence found, tests run). Tries the parts of the current list, then their
    complements, splitting finer when neither fails; stops when no part can go or at `budget` tests (the
    list is then the smallest found so far). The whole list is taken to fail without a test."""
    current = tuple(items)
    parts = 2
    tests = 0
    while len(current) >= 2 and tests < budget:
        chunks = _split(current, parts)
        reduced = False
        candidates = [*chunks, *(_without(current, c) for c in chunks)] if parts > 2 else list(chunks)
        for index, candidate in enumerate(candidates):
            if tests >= budget:
                break
            tests += 1
            if fails(candidate):
                current = candidate
                parts = 2 if index < len(chunks) else max(parts - 1, 2)
                reduced = True
                break
        if not reduced:
            if parts >= len(current):
                break
            parts = min(len(current), parts * 2)
    return current, tests


def _split(items: tuple[T, ...], parts: int) -> list[tuple[T, ...]]:
    size, extra = divmod(len(items), parts)
    out, start = [], 0
    for i in range(parts):
        end = start + size + (1 if i < extra else 0)
        out.append(items[start:end])
        start = end
    return [chunk for chunk in out if chunk]


def _without(items: tuple[T, ...], chunk: tuple[T, ...]) -> tuple[T, ...]:
    return tuple(item for item in items if item not in chunk)
