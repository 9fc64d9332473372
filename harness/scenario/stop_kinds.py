"""Stop conditions (a scenario's `abort_if:`), declared once: each one's parameters, defaults and help, read
by the scenario loader and `drill kinds`. How each is judged lives in harness/runbooks/stop_conditions.py
(pure, over the observation log), run live during the drill by harness/run/guard.py and again by `drill
evaluate`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.scenario.fields import Invalid
from harness.scenario.params import ParamType, duration, param


def share(value: Any) -> float:
    """A share written as 5% or as 0.05."""
    text = str(value).strip()
    try:
        number = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise Invalid(f"expected a share such as 5% or 0.05, got {value!r}") from None
    if not 0.0 <= number <= 1.0:
        raise Invalid(f"expected a share between 0% and 100%, got {value!r}")
    return number


def percent() -> ParamType:
    return ParamType("share (5%, 0.05)", share, lambda v: f"{v:.0%}")


@dataclass(frozen=True, slots=True)
class ErrorRate:
    above: float = param("share of the load's operations that failed or were left uncertain", percent())
    seconds: float = param("how long it stays above, stats interval by interval", duration(), key="for")


@dataclass(frozen=True, slots=True)
class NoPrimary:
    seconds: float = param("no node answered as a writable primary for this long", duration(), key="for")


@dataclass(frozen=True, slots=True)
class MaxDuration:
    seconds: float = param("the drill's whole length, from its start", duration(), key="after")


STOP_CONDITIONS: dict[str, tuple[type, str]] = {
    "error_rate": (ErrorRate, "the load's failed or uncertain share stays above `above` for `for`"),
    "no_primary": (NoPrimary, "no data node answers INFO as a primary for `for` (on a cluster: of a shard)"),
    "max_duration": (MaxDuration, "the drill has run for `after` (written max_duration: 60s)"),
}
