"""Reading a drill file and the files it names, collecting problems (shared by every file kind)."""

from __future__ import annotations

import os
from pathlib import Path

from harness.core.errors import ConfigError, Problem
from harness.scenario.fields import Cursor, Invalid, text
from harness.scenario.yamlsource import load_yaml


def parse_file(path: Path, problems: list[Problem]) -> Cursor | None:
    try:
        return Cursor.root(load_yaml(path), problems)
    except ConfigError as exc:
        problems.extend(exc.problems)
        return None


def referenced(cur: Cursor) -> Path | None:
    """A path named in a file (the cursor's value), relative to that file."""
    try:
        name = text(cur.value)
    except Invalid as exc:
        cur.error(str(exc))
        return None
    target = Path(os.path.normpath(Path(cur.source.file).parent / name))
    if not target.is_file():
        cur.error(f"file not found: {name} (looked for {target.resolve()})")
        return None
    return target
