"""Server faults: failures Redis is driven into through its own commands, as real incidents start.

- long-script: a Lua busy loop. After lua-time-limit (busy-reply-threshold, 5 s by default) every other client
  gets BUSY; SCRIPT KILL ends it, unless the script wrote first (then only SHUTDOWN NOSAVE does: UNKILLABLE).
- oom: fill the node with keys (TTL 1 h, so a volatile policy can evict them) until writes get OOM under
  noeviction, or until 1.5 x maxmemory went in under an evicting policy.
- misconf: point `dir` at /proc, where no snapshot can be written, and BGSAVE: with
  stop-writes-on-bgsave-error (the default) writes then get MISCONF until a snapshot succeeds again.
  CONFIG SET dir needs `enable-protected-configs yes` in the environment's config.
- slow-command: create many small keys, then one client runs KEYS * over and over (the P2 latency
  incident: a command that walks the whole keyspace blocks everyone) until its connection is killed.
- client-flood: open many idle connections and hold them (a connection leak), until they are killed.
- loading: create many keys, then restart the node: it saves on shutdown (the environment needs a save
  point) and answers LOADING while it reads the snapshot back.
- truncate-aof: cut the tail off the newest AOF file of a node that is down (a torn write on a crash);
  with aof-load-truncated no, Redis then refuses to start until redis-check-aof repairs the file.
- snapshot-restore: BGSAVE under the load, copy the snapshot out, start a fresh node from it and read back
  every write acknowledged before BGSAVE was sent: all must be there (a tested restore, SEED-FACTS R5).
- full-sync: write a dataset to the primary, then make a replica copy all of it: REPLICAOF NO ONE and back in
  one MULTI gives the replica a replication ID the primary does not know, so its PSYNC gets FULLRESYNC (as a
  replica restarted without its data does). Ends when the replica's link is up and the sync done.
- reshard: cluster slots moved to another primary under load, as redis-cli does it (faults/reshard.py).
- switchover: SENTINEL FAILOVER, a planned switch of primary. Redis keeps the old primary's client
  connections open when it is demoted, so a client pinned to it gets READONLY.
Threads and sockets of these faults end when their connection is killed or at stop().
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

import redis

from harness.backends.base import Backend
from harness.clients.primary import current_primary
from harness.clients.probe import probe_client, reported_role
from harness.clients.waiting import wait_for
from harness.core.errors import BackendError, FaultError
from harness.core.log_records import RestoreCheckRecord
from harness.core.observation_log import ObservationLog, read_log
from harness.core.topology import Node, Topology
from harness.faults.config_ledger import ConfigLedger
from harness.faults.reshard import Move, fill_slots, move_slots, plan_move
from harness.faults.targets import observed_role, resolve
from harness.faults.timeline import ScheduledFault
from harness.load.resp import encode
from harness.scenario.model import ServerFaultSpec

BUSY_LOOP = """
if ARGV[2] == '1' then redis.call('SET', KEYS[1], 'written-by-the-long-script') end
local start = redis.call('TIME')
local limit = tonumber(ARGV[1])
while true do
  local now = redis.call('TIME')
  if (now[1] - start[1]) + (now[2] - start[2]) / 1000000 >= limit then break end
end
return 'finished'
"""
AOF_DIR = "appendonlydir"  # Redis 7's default appenddirname, inside dir
SINGLE_AOF = "appendonly.aof"  # before 7.0: one file, the default appendfilename
RDB_FILE = "dump.rdb"  # the default dbfilename
RESTORE_NODE = "restore-1"
UNWRITABLE_DIR = "/proc"  # exists on every Linux host and container; nothing can create a file in it
FILL_BATCH = 16


# When a server fault's incident began (after any preparation), and the details for its fault record.
Started = tuple[float, dict[str, Any]]
# Told before a fault changes a node's CONFIG: (fault index, node, parameter, the value to put back).
BeforeConfigSet = Callable[[int, Node, str, str], None]


class ServerFaults:
    def __init__(
        self,
        backend: Backend,
        topology: Topology,
        log: ObservationLog,
        key_prefix: str,
        before_config_set: BeforeConfigSet | None = None,
    ) -> None:
        """before_config_set: written ahead (the dead man's switch), so no CONFIG value is left changed
        by a harness that dies between the change and its return."""
        self._before_config_set = before_config_set
        self.config = ConfigLedger(topology, log)  # every CONFIG SET of the drill, put back at its end
        self._backend = backend
        self._topology = topology
        self._log = log
        self._prefix = key_prefix
        self._original_dirs: dict[str, str] = {}
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._sockets: list[socket.socket] = []

    def apply(self, fault: ScheduledFault) -> str:
        spec = fault.spec.server
        assert spec is not None
        name = resolve(fault.spec.target, self._topology, self._backend, fault.choice_seed, spec.kind)
        node = self._topology.node(name)
        role = observed_role(self._topology, name, self._backend)
        invoked, details = self._starter(spec.kind)(node, spec, fault.index)
        self._log.fault(
            invoked,
            fault.index,
            spec.kind,
            fault.spec.target,
            name,
            role=role,
            incident=fault.spec.incident,
            details=details,
        )
        return name

    # What each server fault does, by the name harness/scenario/fault_kinds.py declares it under.
    STARTERS: ClassVar[Mapping[str, str]] = MappingProxyType(
        {
            "long-script": "_long_script",
            "oom": "_oom",
            "misconf": "_misconf",
            "slow-command": "_slow_command",
            "client-flood": "_client_flood",
            "loading": "_loading",
            "switchover": "_planned_switch",
            "truncate-aof": "_truncate_fault",
            "snapshot-restore": "_restore_fault",
            "full-sync": "_full_sync",
            "reshard": "_reshard",
            "debug-sleep": "_debug_sleep",
            "client-pause": "_client_pause",
            "client-kill": "_client_kill",
        }
    )

    def _starter(self, kind: str) -> Callable[[Node, ServerFaultSpec, int], Started]:
        """The method that starts a server fault: it returns when its incident began (after any
        preparation) and the details for its fault record."""
        method: Callable[[Node, ServerFaultSpec, int], Started] = getattr(self, self.STARTERS[kind])
        return method

    def _long_script(self, node: Node, spec: ServerFaultSpec, index: int) -> Started:
        invoked = self._log.now()
        self._spawn(self._run_script, node, spec, index)
        return invoked, {"seconds": spec.seconds, "writes": spec.writes}

    def _debug_sleep(self, node: Node, spec: ServerFaultSpec, index: int) -> Started:
        invoked = self._log.now()
        self._spawn(self._sleep, node, spec, index)
        return invoked, {"seconds": spec.seconds}

    def _client_pause(self, node: Node, spec: ServerFaultSpec, index: int) -> Started:
        """CLIENT PAUSE ends by itself on the server: nothing of it outlives the harness."""
        with self._client(node, 2.0) as client:
            invoked = self._log.now()
            client.execute_command("CLIENT", "PAUSE", int(spec.seconds * 1000), spec.mode.upper())
        return invoked, {"seconds": spec.seconds, "mode": spec.mode}

    def _client_kill(self, node: Node, spec: ServerFaultSpec, index: int) -> Started:
        with self._client(node, 2.0) as client:
            invoked = self._log.now()
            closed = client.execute_command("CLIENT", "KILL", "TYPE", spec.client_type)
        return invoked, {"type": spec.client_type, "closed": int(closed)}

    def _oom(self, node: Node, spec: ServerFaultSpec, index: int) -> Started:
        invoked = self._log.now()
        self._spawn(self._fill, node, spec, index)
        return invoked, {"value_bytes": spec.value_bytes}

    def _misconf(self, node: Node, spec: ServerFaultSpec, index: int) -> Started:
        invoked = self._log.now()
        return invoked, {"dir": self._break_snapshots(node, index)}

    def _slow_command(self, node: Node, spec: ServerFaultSpec, index: int) -> Started:
        self._fill_keyspace(node, spec)  # before the incident: the fill itself is not the incident
        invoked = self._log.now()
        self._spawn(self._slow_commands, node, spec, index)
        return invoked, {"keys": spec.keys, "every": spec.every}

    def _client_flood(self, node: Node, spec: ServerFaultSpec, index: int) -> Started:
        invoked = self._log.now()
        return invoked, {"connections": self._flood(node, spec)}

    def _loading(self, node: Node, spec: ServerFaultSpec, index: int) -> Started:
        self._fill_keyspace(node, spec)
        invoked = self._log.now()
        self._backend.restart(node.name)
        return invoked, {"keys": spec.keys}

    def _planned_switch(self, node: Node, spec: ServerFaultSpec, index: int) -> Started:
        if self._topology.cluster:
            return self._cluster_failover()
        invoked = self._log.now()
        return invoked, {"sentinel": self._switchover()}

    def _cluster_failover(self) -> Started:
        """A cluster's planned switch: CLUSTER FAILOVER on a replica of the first shard (its primary and the
        replica swap roles once the replica has caught up; no write is lost)."""
        shard = self._topology.shards[0]
        for name in shard.nodes:
            member = self._topology.node(name)
            if reported_role(member, self._topology.credentials("operator", member), 1.0) != "replica":
                continue
            with self._client(member, 5.0) as client:
                invoked = self._log.now()
                client.execute_command("CLUSTER", "FAILOVER")
            return invoked, {"replica": name, "command": "CLUSTER FAILOVER"}
        raise FaultError(f"switchover: no replica of {shard.primary}'s shard answers as a replica")

    def _truncate_fault(self, node: Node, spec: ServerFaultSpec, index: int) -> Started:
        invoked = self._log.now()
        return invoked, self._truncate_aof(node.name, spec.cut_bytes)

    def _restore_fault(self, node: Node, spec: ServerFaultSpec, index: int) -> Started:
        invoked = self._log.now()
        return invoked, self._snapshot_restore(node)

    def _full_sync(self, node: Node, spec: ServerFaultSpec, index: int) -> Started:
        primary = self._topology.node(current_primary(self._topology))
        if primary.name == node.name:
            raise FaultError(f"full-sync: {node.name} is the primary, not a replica")
        # Before the incident: the dataset is not the incident.
        self._fill_keyspace(primary, spec, b"d" * spec.value_bytes, per_call=1000, timeout=30.0)
        try:
            with self._client(primary, 5.0) as client:
                syncs = int(client.info("stats").get("sync_full", 0))
            with self._client(node, 5.0) as client:
                # The primary's address as this replica reaches it (through a proxy, inside Docker's network).
                replication = client.info("replication")
                host, port = replication.get("master_host"), replication.get("master_port")
                if replication.get("role") != "slave" or not host:
                    raise FaultError(f"full-sync: {node.name} is not a replica ({replication.get('role')})")
                invoked = self._log.now()
                pipe = client.pipeline(transaction=True)
                pipe.execute_command("REPLICAOF", "NO", "ONE")
                pipe.execute_command("REPLICAOF", str(host), str(port))
                pipe.execute()
        except redis.RedisError as exc:
            raise FaultError(f"full-sync on {node.name}: {type(exc).__name__}: {exc}") from None
        thread = threading.Thread(
            target=self._synced, args=(node, primary, syncs, index), daemon=True, name=f"fault-{index}"
        )
        thread.start()
        self._threads.append(thread)
        details = {"primary": primary.name, "keys": spec.keys, "value_bytes": spec.value_bytes}
        return invoked, details

    def _reshard(self, node: Node, spec: ServerFaultSpec, index: int) -> Started:
        move = plan_move(self._topology, node, spec.to, spec.slots, spec.batch)
        fill_slots(self._topology, move, spec.keys, spec.value_bytes, self._prefix)  # before the incident
        invoked = self._log.now()
        thread = threading.Thread(
            target=self._resharded, args=(move, index), daemon=True, name=f"fault-{index}"
        )
        thread.start()
        self._threads.append(thread)
        first, last = move.slots[0], move.slots[-1]
        return invoked, {
            "to": move.target.name,
            "slots": len(move.slots),
            "first_slot": first,
            "last_slot": last,
        }

    def _resharded(self, move: Move, index: int) -> None:
        try:
            moved = move_slots(self._topology, move, self._stop)
        except FaultError as exc:
            self._log.fault_end(index, "reshard", node=move.target.name, outcome=str(exc))
            return
        outcome = (
            f"moved {moved.slots} slots ({moved.keys} keys) from {move.source.name} to {move.target.name}"
            f" in {moved.seconds:.2f}s"
        )
        self._log.fault_end(
            index, "reshard", node=move.target.name, outcome=outcome, slots=moved.slots, keys=moved.keys
        )

    def _synced(self, node: Node, primary: Node, syncs_before: int, index: int) -> None:
        """The fault ends when the replica's link is up with no sync in progress, after a full sync."""
        outcome = "the replica did not finish its sync before the drill ended"
        started = self._log.now()
        while not self._stop.wait(0.1):
            try:
                with self._client(node, 2.0) as client:
                    replication = client.info("replication")
                with self._client(primary, 2.0) as client:
                    syncs = int(client.info("stats").get("sync_full", 0))
            except redis.RedisError:
                continue
            up = replication.get("master_link_status") == "up"
            if up and not int(replication.get("master_sync_in_progress", 0)):
                full = "a full sync" if syncs > syncs_before else "no full sync (a partial resync?)"
                took = self._log.now() - started
                outcome = f"{node.name} back in sync with {primary.name} after {full}, {took:.2f}s"
                break
        self._log.fault_end(index, "full-sync", node=node.name, outcome=outcome)

    def stop(self) -> None:
        """End what the faults still do (KEYS loops, held connections): the drill is over."""
        self._stop.set()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()
        self._sockets.clear()
        for thread in self._threads:
            thread.join(timeout=2)

    def kill_script(self, node: str) -> bool:
        """SCRIPT KILL on the node (a rollback); False when no script was running."""
        try:
            with self._client(self._topology.node(node), 5.0) as client:
                client.script_kill()
        except redis.ResponseError as exc:
            if "NOTBUSY" in str(exc):
                return False
            raise
        return True

    def restore_dir(self, node: str) -> str | None:
        """Put back the snapshot directory misconf moved (a rollback); returns it, or None if unmoved."""
        original = self._original_dirs.pop(node, None)
        if original is not None:
            where = self._topology.node(node)
            with self._client(where, 5.0) as client:
                client.config_set("dir", original)
            self.config.changed(where, "dir", UNWRITABLE_DIR, original, "the rollback")
        return original

    def original_dir(self, node: str) -> str | None:
        """Where the node wrote snapshots before misconf moved it: what the remediation puts back."""
        return self._original_dirs.get(node)

    def _client(self, node: Node, timeout: float) -> redis.Redis:
        return probe_client(node, timeout, self._topology.credentials("operator", node))

    def _spawn(self, target: Any, node: Node, spec: ServerFaultSpec, index: int) -> None:
        thread = threading.Thread(target=target, args=(node, spec, index), daemon=True, name=f"fault-{index}")
        thread.start()
        self._threads.append(thread)

    def _run_script(self, node: Node, spec: ServerFaultSpec, index: int) -> None:
        """The script runs in the server; this connection only waits for its end, whatever ends it."""
        key = f"{self._prefix}:long-script"
        try:
            with self._client(node, spec.seconds + 10) as client:
                reply = client.eval(BUSY_LOOP, 1, key, str(spec.seconds), "1" if spec.writes else "0")
            outcome = str(reply)
        except redis.RedisError as exc:
            outcome = f"{type(exc).__name__}: {str(exc)[:120]}"
        self._log.fault_end(index, "long-script", node=node.name, outcome=outcome)

    def _sleep(self, node: Node, spec: ServerFaultSpec, index: int) -> None:
        """The server sleeps inside DEBUG SLEEP; this connection waits for it to wake."""
        try:
            with self._client(node, spec.seconds + 10) as client:
                client.execute_command("DEBUG", "SLEEP", f"{spec.seconds:g}")
            outcome = "woke up"
        except redis.RedisError as exc:
            outcome = f"{type(exc).__name__}: {str(exc)[:120]}"
        self._log.fault_end(index, "debug-sleep", node=node.name, outcome=outcome)

    def _fill(self, node: Node, spec: ServerFaultSpec, index: int) -> None:
        value = b"x" * spec.value_bytes
        written, outcome = 0, "stopped"
        try:
            with self._client(node, 5.0) as client:
                limit = int(client.config_get("maxmemory").get("maxmemory", 0))
                if limit <= 0:
                    raise FaultError(f"oom on {node.name}: maxmemory is not set, so memory cannot run out")
                while written < 1.5 * limit:
                    pipe = client.pipeline(transaction=False)
                    for i in range(FILL_BATCH):
                        pipe.set(f"{self._prefix}:fill:{written // spec.value_bytes + i}", value, ex=3600)
                    pipe.execute()
                    written += FILL_BATCH * spec.value_bytes
                outcome = "filled 1.5 x maxmemory without an OOM reply (an evicting policy)"
        except redis.ResponseError as exc:
            outcome = f"{str(exc).split(' ', 1)[0]} reply after {written} bytes"
        except (redis.RedisError, FaultError) as exc:
            outcome = f"{type(exc).__name__}: {str(exc)[:120]}"
        self._log.fault_end(index, "oom", node=node.name, outcome=outcome, bytes=written)

    def _slow_commands(self, node: Node, spec: ServerFaultSpec, index: int) -> None:
        runs, outcome = 0, "drill ended"
        try:
            with self._client(node, 10.0) as client:
                client.client_setname("drill-slow-command")
                while not self._stop.wait(spec.every):
                    client.keys("*")
                    runs += 1
        except redis.RedisError as exc:
            outcome = f"{type(exc).__name__}: {str(exc)[:120]}"
        self._log.fault_end(index, "slow-command", node=node.name, outcome=outcome, runs=runs)

    def _truncate_aof(self, name: str, cut: int) -> dict[str, Any]:
        if self._backend.is_running(name):
            raise FaultError(f"truncate-aof on {name}: the node is running; kill it first")
        with tempfile.TemporaryDirectory(prefix="redis-drill-aof-") as tmp:
            directory = Path(tmp)
            self._backend.export_data(name, ".", directory)  # the whole data dir: AOFs of every engine
            newest = aof_appended_to(directory)
            size = newest.stat().st_size
            with newest.open("r+b") as handle:
                handle.truncate(max(0, size - cut))
            self._backend.import_data(name, directory, ".")
        return {"file": newest.name, "bytes_cut": min(cut, size), "size_before": size}

    def _snapshot_restore(self, node: Node) -> dict[str, Any]:
        point = self._bgsave(node)
        with tempfile.TemporaryDirectory(prefix="redis-drill-rdb-") as tmp:
            data, snapshot = Path(tmp) / "data", Path(tmp) / "snapshot"
            self._backend.export_data(node.name, ".", data)
            if not (data / RDB_FILE).is_file():
                raise FaultError(f"snapshot-restore on {node.name}: no {RDB_FILE} after BGSAVE")
            snapshot.mkdir()
            shutil.copy2(data / RDB_FILE, snapshot / RDB_FILE)
            size = (snapshot / RDB_FILE).stat().st_size
            restored = self._backend.start_extra_node(RESTORE_NODE, snapshot)
        self._log.flush()
        expected = {
            str(r["key"]): str(r["value"])
            for r in read_log(self._log.path)
            if r["kind"] == "op" and r.get("f") == "write" and r["type"] == "ok" and float(r["t"]) < point
        }
        missing = self._missing_on(restored, expected)
        self._log.write(
            RestoreCheckRecord(
                t=self._log.now(),
                kind="restore_check",
                node=restored.name,
                source=node.name,
                point=round(point, 6),
                snapshot_bytes=size,
                expected=len(expected),
                missing=len(missing),
                first_missing=missing[:5],
            )
        )
        return {"point": round(point, 6), "restored_to": restored.name, "snapshot_bytes": size}

    def _bgsave(self, node: Node) -> float:
        """BGSAVE; returns the log time just before it was sent: every write acknowledged before that is in
        the snapshot. Waits for the save to finish."""
        try:
            with self._client(node, 5.0) as client:
                before = _save_count(client.info("persistence"))
                point = self._log.now()
                client.bgsave()

                def saved() -> str | None:
                    info = client.info("persistence")
                    if _save_count(info) <= before or info.get("rdb_bgsave_in_progress"):
                        return "BGSAVE in progress"
                    if info.get("rdb_last_bgsave_status") != "ok":
                        raise FaultError(f"snapshot-restore: BGSAVE on {node.name} failed")
                    return None

                _wait(saved, 30, f"snapshot-restore: BGSAVE on {node.name}")
                return point
        except redis.RedisError as exc:
            raise FaultError(f"snapshot-restore on {node.name}: {type(exc).__name__}: {exc}") from None

    def _missing_on(self, node: Node, expected: dict[str, str]) -> list[str]:
        """Keys whose acknowledged value the node does not have, once it has loaded its snapshot."""
        missing: list[str] = []

        def compared() -> None:
            missing.clear()  # a try cut short by LOADING starts over
            with self._client(node, 2.0) as client:
                keys = list(expected)
                for start in range(0, len(keys), 500):
                    chunk = keys[start : start + 500]
                    values = client.mget(chunk)
                    missing.extend(k for k, v in zip(chunk, values, strict=True) if v != expected[k])

        not_up = (redis.ConnectionError, redis.BusyLoadingError)
        _wait(compared, 20, f"snapshot-restore: {node.name} up from the snapshot", not_up)
        return missing

    def _switchover(self) -> str:
        for sentinel in self._topology.sentinels:
            try:
                with probe_client(sentinel, 2.0, self._topology.credentials("operator", sentinel)) as client:
                    client.execute_command("SENTINEL", "FAILOVER", self._topology.master_name)
                return sentinel.name
            except redis.ConnectionError:
                continue
            except redis.ResponseError as exc:
                raise FaultError(f"SENTINEL FAILOVER on {sentinel.name}: {exc}") from None
        raise FaultError("switchover: no Sentinel answered")

    def _fill_keyspace(
        self,
        node: Node,
        spec: ServerFaultSpec,
        value: bytes = b"v",
        per_call: int = 10_000,
        timeout: float = 10.0,
    ) -> None:
        """spec.keys keys holding `value`, by MSET of up to `per_call` keys (and about 1 MB) at a time."""
        per_call = max(1, min(per_call, (1 << 20) // len(value)))
        try:
            with self._client(node, timeout) as client:
                for start in range(0, spec.keys, per_call):
                    end = min(start + per_call, spec.keys)
                    client.mset({f"{self._prefix}:keyspace:{i}": value for i in range(start, end)})
        except redis.RedisError as exc:
            raise FaultError(f"{spec.kind} on {node.name}: filling the keyspace failed: {exc}") from None

    def _flood(self, node: Node, spec: ServerFaultSpec) -> int:
        """Open the connections (each sends one PING, so it counts as a client) and keep them open."""
        credentials = self._topology.credentials("operator", node)
        context = credentials.tls.client_context() if credentials.tls else None
        auth = credentials.auth_args()
        opened = 0
        for _ in range(spec.connections):
            try:
                sock = socket.create_connection((node.host, node.port), timeout=2)
                if context is not None:
                    sock = context.wrap_socket(sock, server_hostname=node.host)
                sock.sendall((encode(*auth) if auth else b"") + encode("PING"))
            except OSError:
                break  # maxclients reached, or the node is gone: the flood is as big as it gets
            self._sockets.append(sock)
            opened += 1
        return opened

    def _break_snapshots(self, node: Node, index: int) -> str:
        try:
            with self._client(node, 2.0) as client:
                original = str(client.config_get("dir").get("dir", ""))
                if self._before_config_set is not None:
                    self._before_config_set(index, node, "dir", original)
                self._original_dirs[node.name] = original
                client.config_set("dir", UNWRITABLE_DIR)
                self.config.changed(node, "dir", original, UNWRITABLE_DIR, f"fault {index} misconf")
                client.bgsave()

                def failed() -> str | None:
                    status = client.info("persistence").get("rdb_last_bgsave_status")
                    return None if status == "err" else f"rdb_last_bgsave_status {status}"

                _wait(failed, 10, f"misconf on {node.name}: BGSAVE into {UNWRITABLE_DIR} failing")
        except redis.ResponseError as exc:
            raise FaultError(
                f"misconf on {node.name}: {exc}. Hint: CONFIG SET dir needs enable-protected-configs yes in "
                "the environment's config"
            ) from None
        except redis.RedisError as exc:
            raise FaultError(f"misconf on {node.name}: {type(exc).__name__}: {exc}") from None
        return original


def _save_count(persistence: dict[str, Any]) -> int:
    """What grows with each finished RDB save: rdb_saves (7.0+), else the time of the last one (6.2 has no
    rdb_saves; its rdb_last_save_time is in seconds, and a save seconds after the previous one moves it)."""
    return int(persistence.get("rdb_saves", persistence.get("rdb_last_save_time", 0)))


def aof_to_check(data_dir: Path) -> Path | None:
    """What redis-check-aof takes in a node's data dir: the manifest of a multi-part AOF (7.0+), else the
    single appendonly.aof of older engines; None when there is no AOF."""
    manifest = next((data_dir / AOF_DIR).glob("*.manifest"), None)
    if manifest is not None:
        return manifest
    single = data_dir / SINGLE_AOF
    return single if single.is_file() else None


def aof_appended_to(data_dir: Path) -> Path:
    """The AOF file the node appends to: the last `type i` entry of the manifest (7.0+), or the single
    appendonly.aof of older engines."""
    found = aof_to_check(data_dir)
    if found is None:
        raise FaultError(
            f"no AOF in the node's data dir (neither {AOF_DIR}/ nor {SINGLE_AOF}): is appendonly yes?"
        )
    if found.name == SINGLE_AOF:
        return found
    incr = [
        line.split()[1]
        for line in found.read_text().splitlines()
        if line.startswith("file ") and line.split()[-1] == "i"
    ]
    if not incr:
        raise FaultError(f"{found.name} lists no incremental AOF file")
    return found.parent / incr[-1]


def _wait(
    condition: Callable[[], str | None],
    timeout: float,
    what: str,
    not_yet: tuple[type[BaseException], ...] = (),
) -> None:
    """readiness.wait_for, failing as the fault's error."""
    try:
        wait_for(condition, timeout=timeout, what=what, hint="see the node's log", not_yet=not_yet)
    except BackendError as exc:
        raise FaultError(str(exc)) from None


def preflight(topology: Topology, kinds: set[str]) -> None:
    """Before the drill starts: what a planned fault needs from the servers, with their own reason when
    they refuse (DEBUG is off unless enable-debug-command allows it)."""
    if "debug-sleep" not in kinds:
        return
    for node in topology.data_nodes:
        try:
            with probe_client(node, 2.0, topology.credentials("operator", node)) as client:
                client.execute_command("DEBUG", "HELP")
        except redis.ResponseError as exc:
            raise FaultError(
                f"debug-sleep: {node.name} ({node.address}) refuses DEBUG: {exc}. Hint: "
                "enable-debug-command local (or yes) in its configuration allows it"
            ) from None
        except redis.RedisError as exc:
            raise FaultError(f"debug-sleep: cannot ask {node.name} ({node.address}): {exc}") from None
