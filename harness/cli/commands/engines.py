"""drill engines: the engines installed here."""

from __future__ import annotations

import argparse

from harness.cli.command import Command
from harness.cli.exit_codes import ExitCode


def arguments(engines: argparse.ArgumentParser) -> None:
    """No options."""


def run(args: argparse.Namespace) -> int:
    """Every engine: found (version, binaries, what it lacks) or not (what to install)."""
    from tabulate import tabulate

    from harness.core.engines import Engine, installed_engines

    rows = []
    for name, found in installed_engines():
        if isinstance(found, Engine):
            rows.append([name, found.version, found.source, str(found.server), ", ".join(found.lacks) or "-"])
        else:
            rows.append([name, "-", "not installed", found, "-"])
    print(tabulate(rows, headers=["engine", "version", "from", "server (or why missing)", "lacks"]))
    return ExitCode.PASSED


COMMAND = Command(
    name="engines",
    help="the engines installed here, with versions and what each lacks",
    example="drill engines",
    arguments=arguments,
    run=run,
)
