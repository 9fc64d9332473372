"""Durations ("500ms", "10s", "2m") and bounds ("down-after + 2s") as they appear in files."""

from __future__ import annotations

import re
from dataclasses import dataclass

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|m|h)\s*$")
_UNIT_SECONDS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}

# Names a bound may refer to, resolved from the environment's Sentinel, cluster or redis.conf settings.
BOUND_NAMES = ("down-after", "failover-timeout", "node-timeout", "min-replicas-max-lag")

# The same forms as JSON Schema (drill schema): what an editor can check before the loader does.
_DURATION_TEXT = r"\d+(\.\d+)?\s*(us|ms|s|m|h)"
DURATION_SCHEMA = {"type": "string", "pattern": rf"^\s*{_DURATION_TEXT}\s*$"}
_TERM = rf"({_DURATION_TEXT}|{'|'.join(BOUND_NAMES)})"
BOUND_SCHEMA = {"type": "string", "pattern": rf"^\s*{_TERM}(\s*\+\s*{_TERM})*\s*$"}


def parse_duration(value: object) -> float:
    """Seconds from a duration string; ValueError with a hint otherwise."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(f"expected a duration such as 500ms, 10s or 2m, got {value!r}")
    match = _DURATION.match(value)
    if match is None:
        raise ValueError(f"expected a duration such as 500ms, 10s or 2m, got {value!r}")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def format_seconds(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    return f"{seconds:.2f}s"


@dataclass(frozen=True, slots=True)
class Bound:
    """A time bound: a constant plus named settings of the environment (e.g. down-after)."""

    seconds: float
    names: tuple[str, ...] = ()

    def resolve(self, settings: dict[str, float]) -> float:
        return self.seconds + sum(settings[name] for name in self.names)

    def __str__(self) -> str:
        parts = [*self.names]
        if self.seconds or not parts:
            parts.append(format_seconds(self.seconds))
        return " + ".join(parts)


def parse_bound(value: object) -> Bound:
    """A duration, or a sum of durations and names from BOUND_NAMES."""
    if not isinstance(value, str):
        return Bound(parse_duration(value))
    seconds = 0.0
    names: list[str] = []
    for term in value.split("+"):
        term = term.strip()
        if term in BOUND_NAMES:
            names.append(term)
            continue
        try:
            seconds += parse_duration(term)
        except ValueError:
            known = ", ".join(BOUND_NAMES)
            raise ValueError(
                f"expected a duration or a sum like 'down-after + 2s' (names: {known}), got {value!r}"
            ) from None
    return Bound(seconds, tuple(names))
