"""One verb of the command line: its name, help, a worked example, its arguments and what it does. The
parser is built from the registry in commands/__init__.py; each verb imports what it needs when it runs."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

from harness.core.errors import UsageError


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    help: str
    example: str  # a worked example, shown in the verb's --help with the exit codes
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {value!r}")
    return int(value)


def host_port(option: str, value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"{option}: expected HOST:PORT such as 10.0.0.5:5557, got {value!r}")
    return host, int(port)


def loopback_option(option: str, value: str) -> tuple[str, int]:
    """A HOST:PORT option that must stay on this machine (the loopback rule)."""
    from harness.core.loopback import loopback_address

    try:
        return loopback_address(value)
    except ValueError as exc:
        raise UsageError(f"{option} {value}: {exc}") from None
