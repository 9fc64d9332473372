"""drill init: a first drill written from what the team already runs: an environment like theirs, a starter
scenario (primary failover under load) and its runbook."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from harness.cli.command import Command
from harness.cli.exit_codes import ExitCode
from harness.core.errors import UsageError


def arguments(init: argparse.ArgumentParser) -> None:
    source = init.add_mutually_exclusive_group(required=True)
    source.add_argument("--from-conf", type=Path, metavar="REDIS_CONF", help="the team's redis.conf")
    source.add_argument("--from-redis", metavar="HOST:PORT", help="a running node (CONFIG GET *, INFO)")
    source.add_argument(
        "--from-sentinel", metavar="HOST:PORT", help="a running Sentinel (SENTINEL MASTER, then its primary)"
    )
    init.add_argument(
        "--sentinel-conf", type=Path, metavar="FILE", help="with --from-conf: its sentinel.conf"
    )
    init.add_argument("--master", metavar="NAME", help="with --from-sentinel: the monitored primary's name")
    init.add_argument(
        "--password-env",
        metavar="VAR",
        help="the variable holding the nodes' password (read to connect; the files name the variable only)",
    )
    init.add_argument("--name", help="the environment's name (default: the primary's Sentinel name)")
    init.add_argument(
        "--dir",
        type=Path,
        default=Path("."),
        help="where environments/, scenarios/ and runbooks/ go (default: here)",
    )
    init.add_argument("--force", action="store_true", help="overwrite files that exist")


def run(args: argparse.Namespace) -> int:
    from harness.cli.schema import SCHEMA_KINDS, SCHEMAS_DIR, render
    from harness.run.starter import Written, write_starter

    if args.sentinel_conf is not None and args.from_conf is None:
        raise UsageError("drill init: --sentinel-conf goes with --from-conf")
    if args.from_sentinel is not None and not args.master:
        raise UsageError("drill init: --from-sentinel needs --master NAME (the primary's name in Sentinel)")
    password = None
    if args.password_env:
        password = os.environ.get(args.password_env)
        if password is None:
            raise UsageError(f"drill init: --password-env {args.password_env}: the variable is not set")
    written: Written = write_starter(
        directory=args.dir,
        name=args.name,
        force=args.force,
        conf=args.from_conf,
        sentinel_conf=args.sentinel_conf,
        redis_address=args.from_redis,
        sentinel_address=args.from_sentinel,
        master=args.master,
        password=password,
    )
    schemas = args.dir / SCHEMAS_DIR
    if not schemas.exists():  # the files' first lines point here, for editors
        schemas.mkdir(parents=True)
        for kind in SCHEMA_KINDS:
            (schemas / f"{kind}.json").write_text(render(kind), encoding="utf-8")
    print(f"drill init: from {written.found.source}")
    for path in written.files:
        print(f"  wrote {path}")
    print(f"  {len(written.carried)} directive(s) carried into config:, {len(written.skipped)} not:")
    for skipped in written.skipped:
        print(f"    {skipped.directive}: {skipped.reason}")
    if written.found.password:
        print(f"  the nodes ask for a password: the environment reads it from ${written.password_env}")
    print(f"next: drill run {written.files[1]}")
    return ExitCode.PASSED


COMMAND = Command(
    name="init",
    help="an environment, a starter failover scenario and its runbook, from the team's own configuration",
    example=(
        "drill init --from-conf /etc/redis/redis.conf --sentinel-conf /etc/redis/sentinel.conf\n"
        "  drill init --from-sentinel 127.0.0.1:26379 --master mymaster --password-env REDIS_PASSWORD"
    ),
    arguments=arguments,
    run=run,
)
