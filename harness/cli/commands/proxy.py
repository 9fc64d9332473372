"""drill proxy: the Toxiproxy-compatible proxy on its own."""

from __future__ import annotations

import argparse
import os
import sys

from harness.cli.command import Command
from harness.cli.exit_codes import ExitCode


def arguments(proxy: argparse.ArgumentParser) -> None:
    proxy.add_argument("--listen", default="127.0.0.1:8474", help="API address (default 127.0.0.1:8474)")
    proxy.add_argument(
        "--allow-any-upstream", action="store_true", help="forward to non-loopback upstreams too"
    )
    proxy.add_argument("--seed", type=int, help="seed for jitter, slicer and toxicity rolls")


def run(args: argparse.Namespace) -> int:
    # The proxy is asyncio; this process is gevent-patched. Replace it with a clean interpreter.
    argv = [sys.executable, "-m", "harness.proxy", "--listen", args.listen]
    argv += ["--allow-any-upstream"] if args.allow_any_upstream else []
    argv += ["--seed", str(args.seed)] if args.seed is not None else []
    os.execv(sys.executable, argv)
    return ExitCode.ENVIRONMENT_ERROR  # not reached


COMMAND = Command(
    name="proxy",
    help="run the Toxiproxy-compatible proxy on its own (for other tools)",
    example="drill proxy --listen 127.0.0.1:8474   (then toxiproxy-cli or toxiproxy-python against it)",
    arguments=arguments,
    run=run,
)
