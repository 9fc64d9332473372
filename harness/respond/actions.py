"""What each runbook procedure step does on the live system (the names are in scenario/procedures.py).

Gatherers read and return a short piece of evidence for the report; remediations act and say what happened.
Each returns (ok, evidence). Clients are the probes' own: short timeouts, no retries.
"""

from __future__ import annotations

import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from harness.backends.base import Backend
from harness.clients.primary import current_primary
from harness.clients.probe import probe_client
from harness.clients.waiting import tail, wait_for
from harness.core.engines import SYSTEM_ENGINE, EngineMissing, find_engine
from harness.core.errors import BackendError, FaultError
from harness.core.topology import Node, Topology
from harness.faults.server import ServerFaults, aof_to_check

EVIDENCE_CHARS = 400
BIG_KEYS_SCAN = 2000  # keys looked at by big-keys: enough to find the fillers, bounded in time


@dataclass(frozen=True, slots=True)
class ActionContext:
    topology: Topology
    backend: Backend
    server_faults: ServerFaults
    node: Node  # the incident's node
    argument: str
    stop: threading.Event  # set when the drill ends: nothing may be started after it
    reroute: Callable[[str], None]  # point the responder's pinned client at another node


Outcome = tuple[bool, str]
Act = Callable[[ActionContext], Outcome]


def _client(ctx: ActionContext, timeout: float = 1.0) -> redis.Redis:
    return probe_client(ctx.node, timeout, ctx.topology.credentials("operator", ctx.node))


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= EVIDENCE_CHARS else text[:EVIDENCE_CHARS] + " ..."


def _info(section: str, fields: tuple[str, ...]) -> Act:
    def gather(ctx: ActionContext) -> Outcome:
        with _client(ctx) as client:
            info = client.info(section)
        return True, ", ".join(f"{f}={_named(ctx, f, info)}" for f in fields if f in info)

    return gather


def _named(ctx: ActionContext, field: str, info: dict[str, object]) -> object:
    """A primary's address as a reader wants it: the node's name first, then where it was reached."""
    value = info.get(field)
    if field != "master_host":
        return value
    port = int(str(info.get("master_port", 0)))
    node = ctx.topology.by_address(str(value), port)
    return f"{node.name} ({value}:{port})" if node else value


def _slowlog(ctx: ActionContext) -> Outcome:
    with _client(ctx) as client:
        entries = client.slowlog_get(25)
    shown = [f"{e['duration']} µs {_command(e['command'])}" for e in entries[:3]]
    return True, f"{len(entries)} entries, newest first: " + "; ".join(shown) if entries else "empty"


def _command(command: bytes | str) -> str:
    text = command.decode(errors="replace") if isinstance(command, bytes) else str(command)
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:60] + " ..."


def _client_list(ctx: ActionContext) -> Outcome:
    with _client(ctx) as client:
        clients = client.client_list()
    commands: dict[str, int] = {}
    for entry in clients:
        commands[entry.get("cmd", "?")] = commands.get(entry.get("cmd", "?"), 0) + 1
    top = ", ".join(f"{cmd} x{n}" for cmd, n in sorted(commands.items(), key=lambda kv: -kv[1])[:5])
    return True, f"{len(clients)} clients; last commands: {top}"


def _doctor(command: str) -> Act:
    def gather(ctx: ActionContext) -> Outcome:
        with _client(ctx) as client:
            return True, _short(" ".join(str(client.execute_command(command, "DOCTOR")).split()))

    return gather


def _big_keys(ctx: ActionContext) -> Outcome:
    sizes: list[tuple[int, str]] = []
    with _client(ctx, 2.0) as client:
        for i, key in enumerate(client.scan_iter(count=500)):
            if i >= BIG_KEYS_SCAN:
                break
            usage = client.memory_usage(key)
            if usage:
                sizes.append((int(usage), str(key)))
    sizes.sort(reverse=True)
    top = ", ".join(f"{key} {size} B" for size, key in sizes[:3])
    return True, f"{len(sizes)} keys sampled by SCAN + MEMORY USAGE; biggest: {top or 'none'}"


def _maxclients(ctx: ActionContext) -> Outcome:
    with _client(ctx) as client:
        return True, f"maxclients={client.config_get('maxclients').get('maxclients')}"


def _script_kill(ctx: ActionContext) -> Outcome:
    try:
        with _client(ctx) as client:
            client.script_kill()
    except redis.ResponseError as exc:
        # Carried out, with Redis's answer as evidence: UNKILLABLE (the script wrote) or NOTBUSY (nothing to
        # kill). Whether the procedure worked is for the verify steps to say.
        return True, f"SCRIPT KILL: {exc}"
    return True, "SCRIPT KILL: OK"


def _shutdown_nosave_failover(ctx: ActionContext) -> Outcome:
    """SHUTDOWN NOSAVE drops what the script half-did; the node comes back only after Sentinel promoted a
    replica, so it rejoins as a replica and the data the replicas have is kept."""
    name = ctx.node.name
    said = "OK"
    try:
        with _client(ctx) as client:
            try:
                # NOW: from 7.0 a SHUTDOWN waits for lagging replicas first, and under a running script
                # that wait never ends (the cron that finishes it does not run): seen in CI as a SHUTDOWN
                # without reply and a server left BUSY whenever the replicas' last ack was behind.
                client.shutdown(nosave=True, now=True)
            except redis.ResponseError as exc:
                if "syntax" not in str(exc).lower():
                    raise
                client.shutdown(nosave=True)  # 6.2: no NOW, and no waiting either
    except redis.ConnectionError:
        pass  # the expected end of the connection
    except redis.TimeoutError:
        # The shutdown may still be under way: the promotion below tells whether it happened.
        said = "no reply in time"
    except redis.RedisError as exc:
        return False, f"SHUTDOWN NOSAVE: {exc}"
    chosen: list[str] = []

    def other_primary() -> str | None:
        if ctx.stop.is_set():
            raise BackendError("the drill ended first")
        current = current_primary(ctx.topology)
        if current == name:
            return f"Sentinel still names {name}"
        chosen.append(current)
        return None

    try:
        wait_for(
            other_primary,
            timeout=30,
            what="another primary",
            hint="Sentinel promotes a replica down-after plus the election after the node stopped",
            interval=0.1,
            not_yet=(FaultError,),
        )
    except BackendError as exc:
        return False, f"SHUTDOWN NOSAVE: {said}, but no other node was promoted ({exc}); {name} left down"
    promoted = chosen[-1]
    try:
        ctx.backend.restart(name)
        _wait_answering(ctx)
    except BackendError as exc:
        return False, f"SHUTDOWN NOSAVE: {said}, {promoted} promoted, restart of {name} failed: {exc}"
    return (
        True,
        f"SHUTDOWN NOSAVE: {said}; Sentinel promoted {promoted}; {name} started again (rejoins as a replica)",
    )


def _set_policy(ctx: ActionContext) -> Outcome:
    with _client(ctx) as client:
        before = str(client.config_get("maxmemory-policy").get("maxmemory-policy"))
        client.config_set("maxmemory-policy", ctx.argument)
    ctx.server_faults.config.changed(
        ctx.node, "maxmemory-policy", before, ctx.argument, "runbook remediation"
    )
    return True, f"CONFIG SET maxmemory-policy {ctx.argument} (was {before})"


def _restore_snapshot_dir(ctx: ActionContext) -> Outcome:
    original = ctx.server_faults.original_dir(ctx.node.name)
    if original is None:
        return False, f"no snapshot directory of {ctx.node.name} was recorded before the fault"
    with _client(ctx, 2.0) as client:
        before = str(client.config_get("dir").get("dir", ""))
        client.config_set("dir", original)
        ctx.server_faults.config.changed(ctx.node, "dir", before, original, "runbook remediation")
        client.bgsave()

        def saved() -> str | None:
            persistence = client.info("persistence")
            if persistence.get("rdb_bgsave_in_progress"):
                return "BGSAVE in progress"
            status = persistence.get("rdb_last_bgsave_status")
            return None if status == "ok" else f"rdb_last_bgsave_status {status}"

        try:
            wait_for(saved, timeout=10, what="BGSAVE", hint="the directory must be writable")
        except BackendError as exc:
            return False, f"CONFIG SET dir {original}; {exc}"
    return True, f"CONFIG SET dir {original}; BGSAVE succeeded"


def _wait_answering(ctx: ActionContext, timeout: float = 10.0) -> None:
    """After a restart: until the node answers PING (LOADING counts as answering: it is up)."""

    def answers() -> str | None:
        if ctx.stop.is_set():
            raise BackendError(f"the drill ended before {ctx.node.name} answered after the restart")
        try:
            with _client(ctx, 0.5) as client:
                client.ping()
        except redis.BusyLoadingError:
            pass
        return None

    wait_for(
        answers,
        timeout=timeout,
        what=f"{ctx.node.name} after the restart",
        hint="see the node's log in the run's logs/",
        log=ctx.backend.log_path(ctx.node.name),
        not_yet=(redis.RedisError,),
    )


def _route_to_primary(ctx: ActionContext) -> Outcome:
    primary = current_primary(ctx.topology)
    ctx.reroute(primary)
    node = ctx.topology.node(primary)
    return (
        True,
        f"Sentinel names {primary} ({node.client_address[0]}:{node.client_address[1]}); writes go there now",
    )


def _process_status(ctx: ActionContext) -> Outcome:
    running = ctx.backend.is_running(ctx.node.name)
    return True, f"{ctx.node.name}: {'running' if running else 'not running'}"


def _node_log(ctx: ActionContext) -> Outcome:
    """The last warnings (Redis marks them with #) of the log's tail, else its last lines."""
    lines = tail(ctx.backend.log_path(ctx.node.name), 20).strip().splitlines()
    warnings = [line for line in lines if " # " in line]
    shown = warnings[-2:] if warnings else lines[-3:]
    return True, " | ".join(line.strip()[:160] for line in shown) or "empty log"


def _host_memory(ctx: ActionContext) -> Outcome:
    fields = dict(
        line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines() if ":" in line
    )
    available, total = int(fields["MemAvailable"].split()[0]), int(fields["MemTotal"].split()[0])
    return True, f"MemAvailable {available // 1024} MiB of {total // 1024} MiB ({available / total:.0%})"


def _ping(ctx: ActionContext) -> Outcome:
    """A node that answers LOADING is up and answering (a restart just read its AOF or RDB): that is the
    evidence, not a failure to gather it; whether it serves writes is the verify steps' question."""
    started = time.perf_counter()
    try:
        with _client(ctx) as client:
            client.ping()
    except redis.BusyLoadingError:
        return True, f"LOADING in {(time.perf_counter() - started) * 1000:.2f} ms: up, loading its dataset"
    return True, f"PONG in {(time.perf_counter() - started) * 1000:.2f} ms"


def _restart_if_down(ctx: ActionContext) -> Outcome:
    if ctx.backend.is_running(ctx.node.name):
        return True, f"{ctx.node.name} is running: no restart needed"
    ok, evidence = _restart_node(ctx)
    return ok, f"{ctx.node.name} was not running; {evidence}"


def _repair_aof(ctx: ActionContext) -> Outcome:
    """The engine's AOF checker (its server binary called redis-check-aof; the Docker image holds the same
    binary) on a copy of the node's AOF directory, answering its "Continue?" with y; the repaired files go
    back and the node starts."""
    try:
        server = str(find_engine(ctx.topology.engine or SYSTEM_ENGINE).server)
    except EngineMissing as exc:
        return False, str(exc)
    name = ctx.node.name
    if ctx.backend.is_running(name):
        return True, f"{name} is running: its AOF loaded, nothing to repair"
    with tempfile.TemporaryDirectory(prefix="redis-drill-aof-") as tmp:
        directory = Path(tmp)
        ctx.backend.export_data(name, ".", directory)  # the whole data dir: AOFs of every engine
        aof = aof_to_check(directory)
        if aof is None:
            return False, f"no AOF in {name}'s data dir"
        fixed = subprocess.run(
            ["redis-check-aof", "--fix", str(aof)],
            executable=server,  # a multi-call binary: the name it is called by picks the checker
            input="y\n",
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        said = " | ".join(line.strip() for line in fixed.stdout.splitlines() if line.strip())[-300:]
        if fixed.returncode != 0:
            return False, f"redis-check-aof --fix exited {fixed.returncode}: {said}"
        ctx.backend.import_data(name, directory, ".")
    ok, evidence = _restart_node(ctx)
    return ok, f"redis-check-aof --fix: {said}; {evidence}"


def _restart_node(ctx: ActionContext) -> Outcome:
    if ctx.stop.is_set():
        return False, "the drill ended before the restart"
    ctx.backend.restart(ctx.node.name)
    _wait_answering(ctx)
    return True, f"{ctx.node.name} restarted"


# SEED-FACTS P2: KEYS -> SCAN, SMEMBERS -> SSCAN, HGETALL -> HMGET
SLOW_COMMANDS = ("keys", "smembers", "hgetall")
IDLE_S = 2


def _kill_clients(ctx: ActionContext, wanted: Callable[[dict[str, Any]], bool], what: str) -> Outcome:
    with _client(ctx, 5.0) as client:
        me = client.client_id()
        victims = [c for c in client.client_list() if int(c["id"]) != me and wanted(c)]
        pipe = client.pipeline(transaction=False)
        for victim in victims:
            pipe.client_kill_filter(_id=int(victim["id"]))
        pipe.execute(raise_on_error=False)
    return True, f"CLIENT KILL of {len(victims)} {what}"


def _ordinary(entry: dict[str, Any]) -> bool:
    """Not a replica (S), a primary link (M) or a subscriber such as Sentinel's hello channel (P)."""
    return not set(str(entry.get("flags", ""))) & set("SMP")


ACTIONS: dict[str, Act] = {
    "slowlog": _slowlog,
    "info-memory": _info(
        "memory", ("used_memory_human", "maxmemory_human", "maxmemory_policy", "mem_fragmentation_ratio")
    ),
    "info-clients": _info("clients", ("connected_clients", "blocked_clients", "maxclients")),
    "info-persistence": _info(
        "persistence",
        (
            "loading",
            "loading_loaded_perc",
            "loading_eta_seconds",
            "rdb_last_bgsave_status",
            "rdb_bgsave_in_progress",
            "aof_enabled",
            "aof_last_write_status",
        ),
    ),
    "info-replication": _info(
        "replication", ("role", "master_host", "master_link_status", "master_link_down_since_seconds")
    ),
    "info-stats": _info(
        "stats", ("evicted_keys", "keyspace_hits", "keyspace_misses", "rejected_connections")
    ),
    "client-list": _client_list,
    "memory-doctor": _doctor("MEMORY"),
    "latency-doctor": _doctor("LATENCY"),
    "big-keys": _big_keys,
    "maxclients": _maxclients,
    "script-kill": _script_kill,
    "shutdown-nosave-failover": _shutdown_nosave_failover,
    "set-maxmemory-policy": _set_policy,
    "restore-snapshot-dir": _restore_snapshot_dir,
    "restart-node": _restart_node,
    "restart-if-down": _restart_if_down,
    "repair-aof": _repair_aof,
    "process-status": _process_status,
    "node-log": _node_log,
    "host-memory": _host_memory,
    "ping": _ping,
    "route-to-primary": _route_to_primary,
    "kill-slow-clients": lambda ctx: _kill_clients(
        ctx,
        lambda c: _ordinary(c) and c.get("cmd") in SLOW_COMMANDS,
        "client(s) running " + "/".join(SLOW_COMMANDS),
    ),
    "kill-idle-clients": lambda ctx: _kill_clients(
        ctx, lambda c: _ordinary(c) and int(c.get("idle", 0)) >= IDLE_S, f"client(s) idle {IDLE_S}s or more"
    ),
}
