"""drill image build: the Docker backend's Redis image, from this machine's binaries."""

from __future__ import annotations

import argparse
import time

from harness.cli.command import Command
from harness.cli.exit_codes import ExitCode
from harness.core.engines import ENGINE_NAMES


def arguments(image: argparse.ArgumentParser) -> None:
    image.add_argument("action", choices=["build"], help="build: from this machine's Redis, offline")
    image.add_argument("--rebuild", action="store_true", help="build again even if the tag exists")
    image.add_argument("--engine", choices=ENGINE_NAMES, default=None, help="from this engine's binaries")


def run(args: argparse.Namespace) -> int:
    from harness.backends.image import MONITORING, connect, ensure_built, ensure_image, plan_image
    from harness.core.engines import find_engine
    from harness.core.errors import BackendError

    engine = find_engine(args.engine) if args.engine else None
    client = connect()
    started = time.monotonic()
    tag = ensure_image(client, rebuild=args.rebuild, engine=engine)
    print(f"drill image: {tag} ready ({time.monotonic() - started:.1f}s)")
    # The compose lab's exporter and Prometheus (`--profile monitoring`), when they are installed here.
    started = time.monotonic()
    try:
        plan = plan_image(MONITORING)
    except BackendError as exc:  # not installed: the lab runs without them
        print(f"drill image: no monitoring image: {exc}")
        return ExitCode.PASSED
    tag = ensure_built(client, plan, args.rebuild)
    print(f"drill image: {tag} ready ({time.monotonic() - started:.1f}s)")
    return ExitCode.PASSED


COMMAND = Command(
    name="image",
    help="the Docker backend's Redis image",
    example="drill image build --engine valkey-8.1",
    arguments=arguments,
    run=run,
)
