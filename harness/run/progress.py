"""What `drill run` shows while it runs: a live panel on a terminal, plain lines otherwise (or with NO_COLOR),
nothing with --quiet. Everything goes to stderr; the report goes to stdout."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import Protocol

from rich.console import Console as RichConsole
from rich.live import Live
from rich.table import Table

PLAIN_STATUS_EVERY_S = 2.0


@dataclass(frozen=True, slots=True)
class Status:
    elapsed: float  # of the load
    duration: float
    ops_per_s: float | None  # None: the users run in worker processes
    errors: dict[str, int]  # in the last stats interval
    faults: tuple[str, ...]  # applied so far, most recent last
    events: tuple[str, ...]  # Sentinel events (or cluster nodes' flags) seen so far
    load_started: float = 0.0  # t of the load's start on the run's clock
    guards: tuple[str, ...] = ()  # each stop condition's current value (abort_if)

    @property
    def t(self) -> float:
        """Now on the run's clock: the t every report shows."""
        return self.load_started + self.elapsed


class Console(Protocol):
    def line(self, text: str) -> None: ...

    def status(self, status: Status) -> None: ...

    def close(self) -> None: ...


class QuietConsole:
    def line(self, text: str) -> None:
        pass

    def status(self, status: Status) -> None:
        pass

    def close(self) -> None:
        pass


def _summary(status: Status) -> tuple[str, str, str]:
    ops = "-" if status.ops_per_s is None else f"{status.ops_per_s:,.0f} ops/s"
    errors = ", ".join(f"{k}={v}" for k, v in sorted(status.errors.items())) or "none"
    events = ", ".join(status.events[-6:]) or "none yet"
    if len(status.events) > 6:
        events = f"... {events}"  # the latest ones: a failover emits a dozen
    return ops, errors, events


class PlainConsole:
    """Lines as they happen, and a one-line status every couple of seconds."""

    def __init__(self) -> None:
        self._last_status = 0.0

    def line(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    def status(self, status: Status) -> None:
        now = time.monotonic()
        if now - self._last_status < PLAIN_STATUS_EVERY_S:
            return
        self._last_status = now
        ops, errors, events = _summary(status)
        guards = f"; guards: {', '.join(status.guards)}" if status.guards else ""
        self.line(f"t={status.t:7.3f}s  {ops}; errors: {errors}; events: {events}{guards}")

    def close(self) -> None:
        pass


class LiveConsole:
    """A panel that redraws in place: phase lines scroll above it."""

    def __init__(self) -> None:
        self._console = RichConsole(stderr=True)
        self._live: Live | None = None

    def line(self, text: str) -> None:
        self._console.print(text, highlight=False, markup=False)

    def status(self, status: Status) -> None:
        ops, errors, events = _summary(status)
        table = Table.grid(padding=(0, 2))
        table.add_row("t (since the run started)", f"{status.t:5.1f}s")
        table.add_row("load", f"{status.elapsed:5.1f}s of {status.duration:g}s")
        table.add_row("throughput", ops)
        table.add_row("errors (last 0.5 s)", errors)
        table.add_row("faults applied", ", ".join(status.faults[-3:]) or "none yet")
        table.add_row("events", events)
        if status.guards:
            table.add_row("stop conditions", ", ".join(status.guards))
        if self._live is None:
            self._live = Live(table, console=self._console, refresh_per_second=4, transient=True)
            self._live.start()
        else:
            self._live.update(table)

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None


def make_console(quiet: bool) -> Console:
    if quiet:
        return QuietConsole()
    if sys.stderr.isatty() and "NO_COLOR" not in os.environ:
        return LiveConsole()
    return PlainConsole()
