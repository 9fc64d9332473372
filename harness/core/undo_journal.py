"""The durable undo log of a run: for each fault that leaves something broken until it is undone (a cut, a
frozen process), what undoes it and by when at the latest (its `max:`), appended as JSON lines to a file in
the run's scratch dir as the fault fires, and marked done when the harness ends it itself. The watchdog
(harness/backends/watchdog.py), a process of its own, reads the same file: a harness that dies leaves the
undo behind it, not the fault."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

JOURNAL = "undo.jsonl"


@dataclass(frozen=True, slots=True)
class Undo:
    """One thing to undo: `op` names it (nft-delete-table, sigcont, ...), `args` say on what."""

    fault: int
    action: str  # the fault's action (partition, pause): the watchdog's fault_end record names it
    op: str
    args: dict[str, Any]
    deadline: float  # wall clock (time.time()): undone by then whatever the harness does


@dataclass(frozen=True, slots=True)
class Pending:
    """The journal as read: what is still to undo, and whether the harness closed it."""

    undos: tuple[Undo, ...] = ()
    closed: bool = False
    done: frozenset[int] = field(default_factory=frozenset)


class UndoJournal:
    """Appends one line per entry, each with one O_APPEND write, so a reader never sees half of one."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def add(self, undo: Undo) -> None:
        self._write(
            {
                "fault": undo.fault,
                "action": undo.action,
                "op": undo.op,
                "args": undo.args,
                "deadline": undo.deadline,
            }
        )

    def done(self, fault: int) -> None:
        """The harness ended this fault itself: nothing of it is left to undo."""
        self._write({"fault": fault, "op": "done"})

    def close(self) -> None:
        """Teardown is over: the watchdog may leave."""
        self._write({"op": "close"})

    def _write(self, entry: dict[str, Any]) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (json.dumps(entry) + "\n").encode())
        finally:
            os.close(fd)


def read_journal(path: Path) -> Pending:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return Pending()
    undos: list[Undo] = []
    done: set[int] = set()
    closed = False
    for line in lines:
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if entry.get("op") == "close":
            closed = True
        elif entry.get("op") == "done":
            done.add(int(entry["fault"]))
        else:
            fault, deadline = int(entry["fault"]), float(entry["deadline"])
            undos.append(Undo(fault, str(entry["action"]), entry["op"], entry["args"], deadline))
    pending = tuple(u for u in undos if u.fault not in done)
    return Pending(pending, closed, frozenset(done))
