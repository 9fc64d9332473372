"""drill audit: the readiness and debug checklists against a live Redis, reading only."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from harness.cli.command import Command
from harness.cli.exit_codes import ExitCode
from harness.core.errors import UsageError


def arguments(audit: argparse.ArgumentParser) -> None:
    audit.add_argument(
        "--host", default="127.0.0.1", help="loopback address of the server (default 127.0.0.1)"
    )
    audit.add_argument("--port", type=int, default=6379)
    audit.add_argument("--user", help="ACL user to log in as (default: the default user)")
    audit.add_argument("--password-env", metavar="VAR", help="environment variable holding the password")
    audit.add_argument("--password-file", type=Path, help="file holding the password")
    audit.add_argument("--sentinel", metavar="HOST:PORT", help="a Sentinel watching this deployment")
    audit.add_argument(
        "--cluster",
        action="store_true",
        help="the server is a Redis Cluster node: add the cluster items (C1-C4) from its view of the cluster",
    )
    audit.add_argument(
        "--tls-ca-cert", type=Path, help="CA certificate: connect with TLS, verifying the server"
    )
    audit.add_argument("--tls-cert", type=Path, help="client certificate, for servers with tls-auth-clients")
    audit.add_argument("--tls-key", type=Path, help="the client certificate's key")
    audit.add_argument(
        "--runs-dir", type=Path, default=Path("runs"), help="where passed failover drills are found"
    )


def run(args: argparse.Namespace) -> int:
    from harness.audit.checklist import audit, loopback_only, read_snapshot, render
    from harness.core.access import Credentials, TlsFiles
    from harness.core.secrets import Secret

    host = loopback_only(args.host)
    password = None
    if args.password_env:
        password = os.environ.get(args.password_env)
        if password is None:
            raise UsageError(f"drill audit: environment variable {args.password_env} is not set")
    elif args.password_file:
        try:
            password = args.password_file.read_text().strip()
        except OSError as exc:
            raise UsageError(f"drill audit: cannot read {args.password_file}: {exc.strerror}") from None
    sentinel = None
    if args.sentinel:
        s_host, _, s_port = args.sentinel.rpartition(":")
        if not s_port.isdigit():
            raise UsageError(f"drill audit: --sentinel expects HOST:PORT, got {args.sentinel!r}")
        sentinel = (loopback_only(s_host), int(s_port))
    tls = None
    if args.tls_ca_cert:
        if bool(args.tls_cert) != bool(args.tls_key):
            raise UsageError("drill audit: --tls-cert and --tls-key go together")
        for path in (args.tls_ca_cert, args.tls_cert, args.tls_key):
            if path is not None and not path.is_file():
                raise UsageError(f"drill audit: {path} is not a file")
        cert, key = (str(args.tls_cert), str(args.tls_key)) if args.tls_cert else (None, None)
        tls = TlsFiles(str(args.tls_ca_cert), cert, key)
    elif args.tls_cert or args.tls_key:
        raise UsageError("drill audit: --tls-cert and --tls-key need --tls-ca-cert")
    login = Credentials(args.user, Secret(password) if password is not None else None, tls)
    items = audit(read_snapshot(host, args.port, login, sentinel, args.runs_dir, args.cluster))
    print(render(items, f"{host}:{args.port}"))
    return ExitCode.CHECK_FAILED if any(i.verdict == "fail" for i in items) else ExitCode.PASSED


COMMAND = Command(
    name="audit",
    help="readiness checklist against a live Redis (reads only)",
    example="drill audit --port 6379 --user ops --password-env REDIS_PASSWORD --sentinel 127.0.0.1:26379\n"
    "  (exit 1 when an item fails)",
    arguments=arguments,
    run=run,
)
