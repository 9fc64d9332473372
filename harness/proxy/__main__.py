"""`python -m harness.proxy`: the Toxiproxy-compatible proxy as its own process (no gevent here).

Prints "listening on HOST:PORT" once the API accepts requests, then serves until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import signal
import sys

import uvloop

from harness.proxy.api import start_api
from harness.proxy.server import ProxyServer, split_address


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="drill proxy", description="Toxiproxy-compatible TCP proxy")
    parser.add_argument("--listen", default="127.0.0.1:8474", help="API address (default 127.0.0.1:8474)")
    parser.add_argument(
        "--allow-any-upstream",
        action="store_true",
        help="forward to non-loopback upstreams too (default: 127.0.0.0/8 only)",
    )
    parser.add_argument(
        "--allow-upstream",
        action="append",
        default=[],
        metavar="CIDR",
        help="also forward into this IPv4 network (repeatable), e.g. a drill's own Docker network",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed for jitter, slicer and toxicity rolls")
    args = parser.parse_args(argv)
    try:
        host, port = split_address(args.listen, "--listen")
        networks = tuple(ipaddress.IPv4Network(cidr) for cidr in args.allow_upstream)
    except Exception as exc:
        print(f"drill proxy: {exc}", file=sys.stderr)
        return 2
    server = ProxyServer(
        allow_any_upstream=args.allow_any_upstream, seed=args.seed, allowed_networks=networks
    )
    # uvloop's libuv loop moves bytes with much less per-chunk overhead than the default selector loop.
    return uvloop.run(_serve(host, port, server))


async def _serve(host: str, port: int, server: ProxyServer) -> int:
    try:
        api = await start_api(server, host, port)
    except OSError as exc:
        print(f"drill proxy: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 3
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    bound = api.sockets[0].getsockname()
    print(f"listening on {bound[0]}:{bound[1]}", flush=True)
    await stop.wait()
    api.close()
    await server.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
