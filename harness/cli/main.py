"""`drill`: the parser built from the verbs' registry; every outcome and error turned into an exit code."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import traceback
from pathlib import Path

from harness.cli.command import Parser
from harness.cli.commands import COMMANDS
from harness.cli.exit_codes import EXIT_CODES_HELP, ExitCode, exit_code
from harness.cli.interrupts import caused_by_interrupt, interrupt, redeliver_interrupt
from harness.core.errors import BackendError, ConfigError, DrillError, FaultError, UsageError

__all__ = ["ExitCode", "exit_code", "main", "parser"]


def parser() -> argparse.ArgumentParser:
    top = Parser(
        prog="drill",
        description="Chaos and load drills for Redis, judged by runbooks.",
        epilog=f"example:\n  drill run scenarios/primary-failover.yaml\n\n{EXIT_CODES_HELP}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verbs = top.add_subparsers(dest="command", required=True, parser_class=Parser)
    for command in COMMANDS:
        verb = verbs.add_parser(
            command.name,
            help=command.help,
            description=command.help,
            epilog=f"example:\n  {command.example}\n\n{EXIT_CODES_HELP}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.arguments(verb)
        verb.set_defaults(verb=command.run)
    return top


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    unraisable, sys.unraisablehook = sys.unraisablehook, redeliver_interrupt(sys.unraisablehook)
    try:
        return _main(argv)
    finally:
        sys.unraisablehook = unraisable


def _main(argv: list[str] | None) -> int:
    try:
        args = parser().parse_args(argv)
        return int(args.verb(args))
    except ConfigError as exc:
        print(f"drill: bad input ({len(exc.problems)} problem(s)):\n{exc}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    except UsageError as exc:
        print(str(exc), file=sys.stderr)
        return ExitCode.BAD_INPUT
    except (BackendError, FaultError) as exc:
        print(f"drill: environment error: {exc}", file=sys.stderr)
        return ExitCode.ENVIRONMENT_ERROR
    except DrillError as exc:
        print(f"drill: {exc}", file=sys.stderr)
        return ExitCode.ENVIRONMENT_ERROR
    except KeyboardInterrupt:
        print("drill: interrupted; everything the run started has been removed", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:  # `drill kinds | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return ExitCode.BROKEN_PIPE
    except Exception as exc:  # a bug in the harness: say so in one paragraph, keep the traceback in a file
        if caused_by_interrupt(exc):  # raised where Python wraps it (a class body's __set_name__, say)
            print("drill: interrupted; everything the run started has been removed", file=sys.stderr)
            return ExitCode.INTERRUPTED
        crash = Path(tempfile.mkstemp(prefix="redis-drill-crash-", suffix=".txt")[1])
        crash.write_text(traceback.format_exc(), encoding="utf-8")
        print(
            f"drill: internal error (a bug in redis-drill, not in your files): {type(exc).__name__}: {exc}. "
            f"Everything the run started has been removed. Traceback: {crash}",
            file=sys.stderr,
        )
        return ExitCode.ENVIRONMENT_ERROR
