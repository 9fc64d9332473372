"""YAML loading that remembers the line of every value, so errors can name it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.core.errors import ConfigError, Problem

PathKey = tuple[str | int, ...]
PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
)


@dataclass(frozen=True, slots=True)
class Source:
    """A parsed YAML document: plain Python data plus the line of each path in it."""

    file: str
    data: Any
    lines: dict[PathKey, int]

    def line(self, path: PathKey) -> int | None:
        # Fall back to the nearest enclosing value that has a line.
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path[:-1]


def render_path(path: PathKey) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def load_yaml(path: Path) -> Source:
    """Parse one YAML file; raise ConfigError naming the file and line on any failure."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            [Problem(name, None, "", f"file not found (looked for {path.resolve()})")]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(name, None, "", f"cannot read file: {exc}")]) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise ConfigError([Problem(name, line, "", f"invalid YAML: {exc.problem or exc}")]) from None
    except (
        yaml.reader.ReaderError
    ) as exc:  # a character YAML refuses (NUL, ...): it knows where, not the line
        line = text[: exc.position].count("\n") + 1
        raise ConfigError(
            [Problem(name, line, "", f"invalid YAML: {exc.reason} (#x{exc.character:04x})")]
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError([Problem(name, None, "", f"invalid YAML: {exc}")]) from None
    if node is None:
        raise ConfigError([Problem(name, 1, "", "file is empty")])
    lines: dict[PathKey, int] = {}
    problems: list[Problem] = []
    data = _convert(node, (), lines, problems, name)
    if problems:
        raise ConfigError(problems)
    return Source(name, data, lines)


def _convert(
    node: yaml.Node, path: PathKey, lines: dict[PathKey, int], problems: list[Problem], name: str
) -> Any:
    lines[path] = node.start_mark.line + 1
    if node.tag not in PLAIN_TAGS:  # e.g. "!1" or "!!python/object": nothing a drill file needs
        problems.append(
            Problem(name, node.start_mark.line + 1, render_path(path), f"unsupported YAML tag {node.tag}")
        )
        return None
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(
                    Problem(name, key_node.start_mark.line + 1, render_path(path), "keys must be scalars")
                )
                continue
            if key in out:
                problems.append(
                    Problem(name, key_node.start_mark.line + 1, render_path((*path, key)), "duplicate key")
                )
                continue
            out[key] = _convert(value_node, (*path, key), lines, problems, name)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, i), lines, problems, name) for i, item in enumerate(node.value)]
    # Scalars: let the safe constructor decide the type (int, float, bool, null, str, timestamp).
    try:
        return yaml.SafeLoader("").construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        problems.append(
            Problem(name, node.start_mark.line + 1, render_path(path), f"invalid YAML value: {exc}")
        )
        return None
