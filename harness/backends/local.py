"""Local backend: redis-server and redis-sentinel processes, each on its own loopback address.

Every node binds its own 127.a.b.n (the whole 127/8 is this host's) and makes its outgoing connections from
it (bind-source-addr), so replication, Sentinel and client traffic can be told apart by address: that is what
per-peer partitions (harness/backends/netfilter.py) cut. Clients, the proxy and the harness itself stay on
127.0.0.1."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from harness.backends.base import Backend
from harness.backends.cluster_create import start_cluster
from harness.backends.links import LinkControl, placed_links, start_proxy
from harness.backends.netfilter import Member, Partitions, check_rights
from harness.backends.node_configs import extra_node_conf, render_node_configs
from harness.backends.reaper import kill_and_wait, leftovers, register_pid, registered_pid
from harness.backends.secured import NodeSecurity, secure
from harness.backends.topology_ready import start_in_order
from harness.clients.waiting import tail, wait_for
from harness.core.engines import Engine, find_engine
from harness.core.errors import BackendError
from harness.core.run_context import RunContext
from harness.core.topology import CLIENTS, Node, Topology
from harness.scenario.model import Environment
from harness.scenario.plan import plan

HOST = "127.0.0.1"  # the harness, its clients and the proxy
NODES_FILE = "nodes.json"  # in the scratch dir: each node's command and log, for `drill node`
INSTALL_HINT = (
    "install Redis (Debian: apt-get install redis-server redis-sentinel redis-tools) or run `make setup`"
)


PORT_FLOOR = 10_000  # ports the harness picks lie between this and the kernel's ephemeral range


def free_port(host: str = HOST) -> int:
    """A port nothing listens on, chosen below the kernel's ephemeral range when there is room.

    A port from bind(0) is an ephemeral one: between our check and the node's own bind, any process's
    outgoing connection may get it as its local port, and the node then fails with EADDRINUSE (seen here
    about once in a hundred drills). The kernel never hands out ports below the range on its own."""
    low = _ephemeral_floor()
    chooser = random.Random()
    for _ in range(50 if low - PORT_FLOOR > 1000 else 0):
        port = chooser.randrange(PORT_FLOOR, low)
        if _bindable(host, port):
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


CLUSTER_BUS_OFFSET = 10_000  # a cluster node's bus listens on its port + 10000


def free_cluster_port(host: str = HOST) -> int:
    """A port for a cluster node: it and its bus port (+10000) both free and both below the kernel's
    ephemeral range (a bus port in the range may be taken by any outgoing connection, as free_port says).
    A scratch cluster's node failed to start here once that way, its bus port taken."""
    low = _ephemeral_floor() - CLUSTER_BUS_OFFSET
    chooser = random.Random()
    for _ in range(50 if low - PORT_FLOOR > 1000 else 0):
        port = chooser.randrange(PORT_FLOOR, low)
        if all(_bindable(host, p) for p in (port, port + CLUSTER_BUS_OFFSET)):
            return port
    return free_port(host)


def _bindable(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _ephemeral_floor() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return PORT_FLOOR  # unknown: leave the choice to the kernel


def node_block(run_id: str) -> str:
    """The first three octets of a run's node addresses: 127.a.b, chosen per run (never 127.0.0)."""
    chooser = random.Random(run_id)
    return f"127.{chooser.randrange(100, 255)}.{chooser.randrange(0, 256)}"


@dataclass(frozen=True, slots=True)
class _Spec:
    node: Node
    command: tuple[str, ...]
    log: Path


class LocalBackend(Backend):
    def __init__(self, env: Environment, run: RunContext, seed: int = 0) -> None:
        self._env = env
        self._run = run
        self._seed = seed
        self._engine: Engine | None = None  # found by up()
        self._proxy: subprocess.Popen[str] | None = None
        self._links: LinkControl | None = None  # set when the topology has proxied links
        self._link_names: tuple[str, ...] = ()
        self._specs: dict[str, _Spec] = {}
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: dict[str, IO[bytes]] = {}
        self._node_security = NodeSecurity()
        self._block = node_block(run.run_id)
        self._partitions = Partitions(run.run_id)
        self._paused: set[str] = set()

    def up(self) -> Topology:
        engine = self._engine = find_engine(self._env.engine)
        # From here on the environment is what this engine takes (extra nodes are configured from it too).
        self._env = dataclasses.replace(self._env, config=engine.adapted(self._env.config)[0])
        server = str(engine.server)
        topology = dataclasses.replace(self._plan(), engine=engine.name)
        if topology.links:
            api = self._env.proxy.server if self._env.proxy else None
            if api is None:
                self._proxy, port = start_proxy(
                    self._run, self._run.run_dir / "logs" / "proxy.log", self._seed
                )
                api = (HOST, port)
            topology = dataclasses.replace(topology, proxy_api=api)
            self._links = LinkControl(api)
            self._links.create(topology.links, topology)
            self._link_names = tuple(link.name for link in topology.links)
        addresses = {HOST, *(link.host for link in topology.links), *(n.host for n in topology.nodes)}
        access, security = secure(self._env, self._run.run_id, self._run.work_dir, addresses)
        self._node_security = security
        topology = dataclasses.replace(topology, access=access)
        configs = render_node_configs(
            self._env,
            topology,
            self._run,
            self._data_dir,
            security,
            source_addr=engine.knows("bind-source-addr"),
        )
        # With secrets the live configurations stay in the scratch dir (Redis and Sentinel rewrite their
        # files, and would write them back); the run dir has the copies with every secret blanked.
        conf_dir = self._run.work_dir / "config" if security.secrets() else self._run.run_dir / "config"
        conf_dir.mkdir(exist_ok=True)
        for node in topology.nodes:
            Path(self._data_dir(node)).mkdir()
            conf = conf_dir / f"{node.name}.conf"
            conf.write_text(configs[node.name])
            # Sentinel is the same binary in sentinel mode, on every engine.
            command = (server, str(conf.resolve()), *(("--sentinel",) if node.kind == "sentinel" else ()))
            self._specs[node.name] = _Spec(node, command, self._run.run_dir / "logs" / f"{node.name}.log")
        # What `drill node` (a runbook program's systemctl) needs to start a node of this run again.
        nodes = {name: {"command": list(s.command), "log": str(s.log)} for name, s in self._specs.items()}
        (self._run.work_dir / NODES_FILE).write_text(json.dumps(nodes))
        starter = start_cluster if topology.cluster else start_in_order
        starter(topology, self._env, self._start, self.log_path, self._exited)
        return topology

    def _data_dir(self, node: Node) -> str:
        return str(self._run.work_dir / node.name)

    def _plan(self) -> Topology:
        ports: set[int] = set()

        pick = free_cluster_port if self._env.cluster is not None else free_port

        def port(host: str = HOST) -> int:
            chosen = pick(host)
            while chosen in ports:
                chosen = pick(host)
            ports.add(chosen)
            return chosen

        layout = plan(self._env)
        proxied = {link.node for link in layout.links if link.kind == "clients"}
        nodes: list[Node] = []
        for planned in layout.nodes:
            host = f"{self._block}.{(11 if planned.kind == 'redis' else 21) + planned.index}"
            client_port = port() if planned.name in proxied else 0
            nodes.append(
                Node(planned.name, planned.kind, host, port(host), client_port, HOST if client_port else "")
            )
        links = placed_links(layout, nodes, port, HOST)
        return Topology(self._env.master_name, tuple(nodes), layout.primary, links, shards=layout.shards)

    def _start(self, name: str) -> None:
        spec = self._specs[name]
        log = self._logs.get(name)
        if log is None:
            log = self._logs[name] = spec.log.open("ab")
        try:
            self._procs[name] = subprocess.Popen(
                spec.command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self._run.process_env(),
                start_new_session=True,  # Ctrl-C reaches the harness only; it tears the nodes down itself
            )
        except OSError as exc:
            raise BackendError(
                f"cannot start {name} ({spec.command[0]}): {exc}. Hint: {INSTALL_HINT}"
            ) from None
        register_pid(self._run.work_dir, name, self._procs[name].pid)

    def _exited(self, name: str) -> str | None:
        """Why a node's process is gone, or None while it runs."""
        proc = self._procs.get(name)
        if proc is None:
            return "never started"
        code = proc.poll()
        if code is None:
            return None
        return f"process exited with code {code}"

    def down(self) -> None:
        self._partitions.heal()
        for name in self._paused:  # a stopped process would sit out the graceful stop
            self._signal(name, signal.SIGCONT)
        procs: list[subprocess.Popen[bytes] | subprocess.Popen[str]] = [*self._procs.values()]
        if self._proxy is not None:
            procs.append(self._proxy)
        # Nodes `drill node` started again are not our children, and a Ctrl-C that lands between a fork and
        # its Popen returning leaves a child no list knows: `leftovers` finds both.
        live = {p.pid for p in procs if p.poll() is None}
        kill_and_wait(sorted(live | leftovers(self._run.run_id, self._run.work_dir)))
        for proc in procs:
            proc.wait()
        if self._proxy is not None and self._proxy.stdout is not None:
            self._proxy.stdout.close()
        for log in self._logs.values():
            log.close()
        self._logs.clear()
        self._run.remove_work_dir()
        if self._links is not None and self._proxy is None:
            self._links.remove(self._link_names)  # an external Toxiproxy outlives the run: leave it clean

    def kill(self, name: str) -> float:
        sent, pid = self._send(name, signal.SIGKILL, "kill")
        self._reap(name, pid)
        return sent

    def terminate(self, name: str) -> float:
        return self._send(name, signal.SIGTERM, "terminate")[0]  # the engine ends in its own time

    def _send(self, name: str, sig: signal.Signals, what: str) -> tuple[float, int]:
        """Signal the node's process: (time.monotonic() when the signal went out, its pid)."""
        pid = self._pid(name)
        if pid is None:
            raise BackendError(f"cannot {what} {name}: it is not running")
        sent = time.monotonic()
        os.kill(pid, sig)
        return sent, pid

    def _pid(self, name: str) -> int | None:
        """The node's live process: the one this backend started, or one `drill node` started since."""
        proc = self._procs.get(name)
        if proc is not None and proc.poll() is None:
            return proc.pid
        return registered_pid(self._run.work_dir, name)

    def _reap(self, name: str, pid: int) -> None:
        """Wait until the signalled process is gone (our child: reap it; another's: watch it go)."""
        proc = self._procs.get(name)
        if proc is not None and proc.pid == pid:
            proc.wait()
            return
        wait_for(
            lambda: None if not os.path.exists(f"/proc/{pid}") else "still running",
            timeout=10,
            what=f"{name} to exit",
            hint="it was started by drill node",
        )

    def require_partitions(self) -> None:
        check_rights()

    def cut(self, senders: frozenset[str], receivers: frozenset[str]) -> str:
        members = {name: Member(name, spec.node.host, None) for name, spec in self._specs.items()}
        members[CLIENTS] = Member(CLIENTS, HOST, None)
        self._partitions.cut([members[n] for n in senders], [members[n] for n in receivers])
        return "nftables"

    def heal_cuts(self) -> None:
        self._partitions.heal()

    def undo_for(self, action: str, node: str | None) -> list[tuple[str, dict[str, Any]]]:
        if action == "partition":
            table = self._partitions.table
            return [
                ("nft-delete-chain", {"table": table, "namespace": ns, "chain": chain})
                for ns, chain in self._partitions.take_new_cuts()
            ]
        pid = self._pid(node) if action == "pause" and node else None
        return [("sigcont", {"pid": pid})] if pid else []

    def pause(self, name: str) -> float:
        sent = self._signal(name, signal.SIGSTOP)
        self._paused.add(name)
        return sent

    def resume(self, name: str) -> float:
        sent = self._signal(name, signal.SIGCONT)
        self._paused.discard(name)
        return sent

    def _signal(self, name: str, sig: signal.Signals) -> float:
        pid = self._pid(name)
        if pid is None:
            raise BackendError(f"cannot send {sig.name} to {name}: it is not running")
        sent = time.monotonic()
        os.kill(pid, sig)
        return sent

    def restart(self, name: str) -> None:
        pid = self._pid(name)
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            self._reap(name, pid)
        self._start(name)

    def start_extra_node(self, name: str, files: Path) -> Node:
        extra = len(self._specs) - self._env.replicas - 1 - self._env.sentinels.count  # nodes started so far
        host = f"{self._block}.{31 + extra}"
        node = Node(name, "redis", host, free_port(host))
        data_dir = Path(self._data_dir(node))
        shutil.copytree(files, data_dir)
        conf_dir = self._run.work_dir / "config"
        conf_dir.mkdir(exist_ok=True)
        conf = conf_dir / f"{name}.conf"
        conf.write_text(extra_node_conf(self._env, host, node.port, str(data_dir), self._node_security))
        assert self._engine is not None  # set by up(), which started the nodes this one is restored beside
        command = (str(self._engine.server), str(conf.resolve()))
        self._specs[name] = _Spec(node, command, self._run.run_dir / "logs" / f"{name}.log")
        self._start(name)
        return node

    def export_data(self, name: str, relative: str, dest: Path) -> None:
        shutil.copytree(Path(self._data_dir(self._specs[name].node)) / relative, dest, dirs_exist_ok=True)

    def import_data(self, name: str, src: Path, relative: str) -> None:
        target = Path(self._data_dir(self._specs[name].node)) / relative
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(src, target)

    def is_running(self, name: str) -> bool:
        return self._pid(name) is not None

    def log_path(self, name: str) -> Path:
        return self._specs[name].log

    def last_log_lines(self, name: str) -> str:
        return tail(self.log_path(name))
