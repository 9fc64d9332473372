"""What a running Redis or Sentinel says about itself, for `drill init --from-redis / --from-sentinel`: its
configuration (CONFIG GET *) less what the same engine would have by default, its version and replicas,
and Sentinel's settings for the monitored primary. Read only; loopback only; the clients never retry."""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

import redis

from harness.clients.probe import no_retry
from harness.scenario.model import SentinelSpec

TIMEOUT_S = 2.0


def _client(host: str, port: int, password: str | None = None, socket: str | None = None) -> redis.Redis:
    if socket:
        return redis.Redis(
            unix_socket_path=socket, socket_timeout=TIMEOUT_S, retry=no_retry(), decode_responses=True
        )
    return redis.Redis(
        host=host,
        port=port,
        password=password,
        socket_timeout=TIMEOUT_S,
        socket_connect_timeout=TIMEOUT_S,
        retry=no_retry(),
        decode_responses=True,
        single_connection_client=True,
    )


def config_of(host: str, port: int, password: str | None) -> tuple[dict[str, str], str, int]:
    """(CONFIG GET *, the version INFO gives, connected replicas) of a data node."""
    with _client(host, port, password) as client:
        config = {str(k): str(v) for k, v in client.config_get("*").items()}
        server = client.info("server")
        replication = client.info("replication")
    name = "valkey" if "valkey_version" in server else "redis"
    version = f"{name} {server.get('valkey_version') or server.get('redis_version', '?')}"
    return config, version, int(replication.get("connected_slaves", 0))


def defaults_of(server: Path) -> dict[str, str]:
    """CONFIG GET * of the engine's own defaults: a throwaway server on a unix socket (no TCP port at all)."""
    with tempfile.TemporaryDirectory(prefix="redis-drill-defaults-") as scratch:
        socket = str(Path(scratch) / "s.sock")
        process = subprocess.Popen(
            [str(server), "--port", "0", "--unixsocket", socket, "--dir", scratch, "--save", ""],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    with _client("", 0, socket=socket) as client:
                        return {str(k): str(v) for k, v in client.config_get("*").items()}
                except (redis.ConnectionError, FileNotFoundError):
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise
                    time.sleep(0.05)
        finally:
            process.terminate()
            process.wait(timeout=10)


def sentinel_settings(
    host: str, port: int, master: str, password: str | None
) -> tuple[SentinelSpec, tuple[str, int], int]:
    """(Sentinel's settings for `master`, the primary's address, its replica count) from SENTINEL MASTER."""
    with _client(host, port, password) as client:
        state = client.execute_command("SENTINEL", "MASTER", master)
    fields = dict(zip(state[::2], state[1::2], strict=False)) if isinstance(state, list) else dict(state)
    settings = SentinelSpec(
        count=int(fields.get("num-other-sentinels", 2)) + 1,
        quorum=int(fields.get("quorum", 2)),
        down_after_ms=int(fields.get("down-after-milliseconds", 30000)),
        failover_timeout_ms=int(fields.get("failover-timeout", 180000)),
        parallel_syncs=int(fields.get("parallel-syncs", 1)),
    )
    return settings, (str(fields["ip"]), int(fields["port"])), int(fields.get("num-slaves", 0))
