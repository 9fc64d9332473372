"""One item of `drill audit`'s checklists: what was judged, the verdict and the value seen."""

from __future__ import annotations

from dataclasses import dataclass

Verdict = str  # "pass" | "warn" | "fail"


@dataclass(frozen=True, slots=True)
class Item:
    key: str
    title: str
    verdict: Verdict
    seen: str
    expected: str


def expect(key: str, title: str, seen: str, expected: str, ok: bool, bad: Verdict = "fail") -> Item:
    return Item(key, title, "pass" if ok else bad, seen, expected)
