"""Parameters declared once, as frozen dataclasses, and read from files generically.

A kind (a check, a fault, a workload, ...) declares its parameters as a frozen dataclass whose fields are
made with `param()`: the field's name is the key in the file, its `ParamType` parses and validates the value,
its default (if any) makes it optional, and its help line is what `drill kinds` prints. `read_params` turns
a file's mapping into an instance, reporting every problem with its line like the rest of the loaders.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from harness.scenario.durations import BOUND_SCHEMA, DURATION_SCHEMA, parse_bound, parse_duration
from harness.scenario.fields import Cursor, Invalid, boolean, choice, integer, number, text

P = TypeVar("P")
_NO_DEFAULT = dataclasses.MISSING


@dataclass(frozen=True, slots=True)
class ParamType:
    """How one parameter's value is written (`shown` in `drill kinds`), read, and described to editors
    (`json`: the JSON Schema of its values, for `drill schema`)."""

    shown: str
    parse: Callable[[Any], Any]
    show_default: Callable[[Any], str] = str
    json: Mapping[str, Any] = field(default_factory=dict)  # empty: any value (the parser alone judges)


def param(doc: str, kind: ParamType, default: Any = _NO_DEFAULT, key: str = "") -> Any:
    """A dataclass field that is also a documented, validated file parameter (written `key` in files
    when that differs from the field's name, e.g. a Python keyword)."""
    metadata = {"help": doc, "kind": kind, "key": key}
    if default is _NO_DEFAULT:
        return dataclasses.field(metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def duration() -> ParamType:
    return ParamType("duration (500ms, 2s)", parse_duration, lambda s: f"{s:g}s", DURATION_SCHEMA)


def bound() -> ParamType:
    return ParamType("bound (10s, down-after + 1s)", parse_bound, json=BOUND_SCHEMA)


def ratio(high: float = 1.0) -> ParamType:
    return ParamType(f"number 0-{high:g}", number(0.0, high), json=number_schema(0.0, high))


def whole(low: int, high: int) -> ParamType:
    return ParamType(f"integer {low}-{high}", integer(low, high), json=integer_schema(low, high))


def number_schema(low: float, high: float) -> dict[str, Any]:
    return {"type": "number", "minimum": low, "maximum": high}


def integer_schema(low: int | None = None, high: int | None = None) -> dict[str, Any]:
    bounds = {"minimum": low, "maximum": high}
    return {"type": "integer", **{k: v for k, v in bounds.items() if v is not None}}


SIZE_SCHEMA = {
    "anyOf": [
        {"type": "integer", "minimum": 0},
        {"type": "string", "pattern": r"^\s*\d+([kKmMgG][bB]?)?\s*$"},
    ]
}
TEXT_SCHEMA = {"type": "string", "pattern": r"\S"}  # a non-empty string, as fields.text reads it


def size() -> ParamType:
    return ParamType("size (4mb, 512kb, 1048576)", parse_size, lambda n: f"{n}", SIZE_SCHEMA)


SIZE_UNITS = {"": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3, "gb": 1024**3}


def parse_size(value: Any) -> int:
    """Bytes, written as redis.conf writes memory sizes (1mb = 1024 * 1024, 1m = 1000 * 1000)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    word = str(value).strip().lower()
    digits = word.rstrip("kmgb")
    unit = word[len(digits) :]
    if not digits.isdigit() or unit not in SIZE_UNITS:
        raise Invalid(f"expected a size such as 4mb, 512kb or 1048576, got {value!r}")
    return int(digits) * SIZE_UNITS[unit]


def command_names() -> ParamType:
    names = {"type": "string", "pattern": r"^(\*|[A-Za-z0-9_ |]+)$"}
    shape = {"anyOf": [names, {"type": "array", "items": names, "minItems": 1}]}
    return ParamType('[NAME, ...] or ["*"]', parse_command_names, lambda names: ",".join(names), shape)


def parse_command_names(value: Any) -> tuple[str, ...]:
    """Redis command names (upper case), or "*" for every command that uses the data."""
    items = value if isinstance(value, list) else [value]
    names = tuple(str(i).strip().upper() for i in items if isinstance(i, str))
    if (
        not names
        or len(names) != len(items)
        or not all(n == "*" or n.replace("_", "").isalnum() for n in names)
    ):
        raise Invalid(f'expected command names such as [SET, INCR] or ["*"], got {value!r}')
    return names


def one_of(*options: str) -> ParamType:
    return ParamType(" | ".join(options), choice(*options), json={"enum": list(options)})


def flag() -> ParamType:
    return ParamType("true | false", boolean, json={"type": "boolean"})


def name() -> ParamType:
    return ParamType("text", text, json=TEXT_SCHEMA)


ARGV_SCHEMA = {
    "anyOf": [
        {"type": "string", "minLength": 1},
        {"type": "array", "items": {"type": ["string", "number"]}, "minItems": 1},
    ]
}


def argv() -> ParamType:
    return ParamType("[program, arg, ...]", parse_argv, lambda value: " ".join(value), ARGV_SCHEMA)


def parse_argv(value: Any) -> tuple[str, ...]:
    """A program and its arguments: a list of strings (or one string, the program alone)."""
    items = value if isinstance(value, list) else [value]
    if not items or not all(
        isinstance(i, str | int | float) and not isinstance(i, bool) and str(i) for i in items
    ):
        raise Invalid("expected a program and its arguments, as a list of strings")
    return tuple(str(i) for i in items)


def reply_class() -> ParamType:
    return ParamType(
        "error class (BUSY, OOM, ...)", parse_reply_class, json={"type": "string", "pattern": "^[A-Z]+$"}
    )


def parse_reply_class(value: Any) -> str:
    """An error reply's first word as Redis sends it (BUSY, OOM, MISCONF, ...)."""
    word = text(value)
    if not (word.isupper() and word.isalpha()):
        raise Invalid(f"expected an error reply class in capitals such as BUSY or OOM, got {value!r}")
    return word


@dataclass(frozen=True, slots=True)
class ParamDoc:
    key: str
    shown: str  # the value's form
    default: str | None  # None: required
    help: str


def describe(params: type) -> tuple[ParamDoc, ...]:
    """What `drill kinds` prints for a parameters class."""
    out = []
    for f in dataclasses.fields(params):
        kind: ParamType = f.metadata["kind"]
        default = None if f.default is _NO_DEFAULT else _show_default(f.default, kind)
        out.append(ParamDoc(_key(f), kind.shown, default, f.metadata["help"]))
    return tuple(out)


def _show_default(value: Any, kind: ParamType) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None or value == "":
        return "none"
    return kind.show_default(value)


def keys(params: type) -> tuple[str, ...]:
    return tuple(_key(f) for f in dataclasses.fields(params))


def _key(f: dataclasses.Field[Any]) -> str:
    return str(f.metadata.get("key") or f.name)


def read_params(
    cur: Cursor, params: type[P], extra: tuple[str, ...] = (), what: str = "parameters"
) -> P | None:
    """An instance of `params` from the mapping at `cur` (nothing at all: every default). Unknown keys,
    missing required ones and unreadable values are all reported; `extra` keys are allowed and left to
    the caller."""
    fields = dataclasses.fields(params)  # type: ignore[arg-type]
    if cur.value is None:
        required = [_key(f) for f in fields if f.default is _NO_DEFAULT]
        if required:
            cur.error(f"needs {', '.join(required)}")
            return None
        return params()
    if not cur.mapping((*(_key(f) for f in fields), *extra), what):
        return None
    before = len(cur.problems)
    values: dict[str, Any] = {}
    for f in fields:
        kind: ParamType = f.metadata["kind"]
        if f.default is _NO_DEFAULT:
            values[f.name] = cur.get(_key(f), kind.parse)
        else:
            values[f.name] = cur.get(_key(f), kind.parse, f.default)
    return params(**values) if len(cur.problems) == before else None
