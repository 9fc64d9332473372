"""A cursor over loaded YAML that reads typed fields and collects every problem with its line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from harness.core.errors import Problem
from harness.scenario.yamlsource import PathKey, Source, render_path

T = TypeVar("T")
_MISSING = object()


class Invalid(Exception):
    """Raised inside a field parser to report a message for that field."""


@dataclass(frozen=True, slots=True)
class Cursor:
    source: Source
    path: PathKey
    problems: list[Problem]

    @staticmethod
    def root(source: Source, problems: list[Problem]) -> Cursor:
        return Cursor(source, (), problems)

    @property
    def value(self) -> Any:
        node: Any = self.source.data
        for part in self.path:
            node = node[part]
        return node

    def child(self, key: str | int) -> Cursor:
        return Cursor(self.source, (*self.path, key), self.problems)

    def error(self, message: str, key: str | int | None = None) -> None:
        path = self.path if key is None else (*self.path, key)
        self.problems.append(Problem(self.source.file, self.source.line(path), render_path(path), message))

    def mapping(self, allowed: tuple[str, ...], what: str = "") -> bool:
        """True when the value is a mapping; unknown keys are reported."""
        value = self.value
        if not isinstance(value, dict):
            self.error(f"expected a mapping{' of ' + what if what else ''}, got {_kind(value)}")
            return False
        for key in value:
            if key not in allowed:
                self.error(f"unknown key (expected one of: {', '.join(allowed)})", key)
        return True

    def get(self, key: str, parse: Callable[[Any], T], default: Any = _MISSING) -> T | None:
        """Parse value[key]; report a missing required key or a parse failure and return None."""
        value = self.value
        if not isinstance(value, dict) or key not in value:
            if default is _MISSING:
                self.error("required field is missing", key)
                return None
            return default  # type: ignore[no-any-return]
        try:
            return parse(value[key])
        except (Invalid, ValueError) as exc:
            self.error(str(exc), key)
            return None

    def items(self) -> list[Cursor]:
        value = self.value
        if not isinstance(value, list):
            self.error(f"expected a list, got {_kind(value)}")
            return []
        return [self.child(i) for i in range(len(value))]


def _kind(value: object) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def integer(low: int | None = None, high: int | None = None) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(f"expected an integer, got {_kind(value)} {value!r}")
        if low is not None and value < low:
            raise Invalid(f"must be at least {low}, got {value}")
        if high is not None and value > high:
            raise Invalid(f"must be at most {high}, got {value}")
        return value

    return parse


def number(low: float, high: float) -> Callable[[Any], float]:
    def parse(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Invalid(f"expected a number, got {_kind(value)} {value!r}")
        if not low <= value <= high:
            raise Invalid(f"must be between {low} and {high}, got {value}")
        return float(value)

    return parse


def text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"expected a non-empty string, got {_kind(value)} {value!r}")
    return value


def choice(*options: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if value not in options:
            raise Invalid(f"expected one of {', '.join(options)}, got {value!r}")
        return str(value)

    return parse


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid(f"expected true or false, got {_kind(value)} {value!r}")
    return value
