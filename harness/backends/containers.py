"""Docker backend: every node a container on the run's own bridge network, with a fixed address.

The harness reaches the nodes at their container addresses (Linux routes the bridge to the host), which is
also what Sentinel hands out, so no address translation is needed. Each node's port is published on
127.0.0.1 as well, for people poking at a live drill. A partition is a real `docker network disconnect`;
latency and other toxics go through the harness's proxy, which runs on the host and listens on the
network's gateway address, the host's side of the bridge.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import ipaddress
import os
import random
import signal
import tarfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import docker
from docker.errors import DockerException, NotFound
from docker.models.containers import Container
from docker.models.networks import Network

from harness.backends import container_ops
from harness.backends.base import Backend
from harness.backends.certificates import NODE_FILES
from harness.backends.cluster_create import start_cluster
from harness.backends.docker_network import (
    LABEL_NODE,
    LABEL_RUN,
    LABEL_SCENARIO,
    create_run_network,
    host_address,
)
from harness.backends.image import connect, ensure_image
from harness.backends.links import LinkControl, placed_links, start_proxy
from harness.backends.local import free_port
from harness.backends.netfilter import Member, Partitions, check_rights
from harness.backends.node_configs import extra_node_conf, render_node_configs
from harness.backends.reaper import kill_and_wait, leftovers
from harness.backends.secured import NodeSecurity, secure
from harness.backends.topology_ready import start_in_order
from harness.core.engines import find_engine
from harness.core.errors import BackendError
from harness.core.run_context import RunContext
from harness.core.topology import CLIENTS, Node, Topology
from harness.scenario.model import Environment
from harness.scenario.plan import plan

IMAGE_ENV = "REDIS_DRILL_IMAGE"
REDIS_PORT, SENTINEL_PORT = 6379, 26379
DATA_DIR = "/data"


TLS_DIR = "/tls"  # the run's node certificate and key inside each container (secured topologies)


def _files_archive(files: dict[str, bytes]) -> bytes:
    """A tar of files readable by their owner only: configurations hold passwords, and keys are keys."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o600, int(time.time())
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _paths_archive(paths: Iterable[tuple[Path, str]]) -> bytes:
    """A tar of host files and directories (recursively), each under its name in the archive."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path, name in paths:
            tar.add(path, arcname=name)
    return buffer.getvalue()


class DockerBackend(Backend):
    def __init__(self, env: Environment, run: RunContext, scenario: str, seed: int = 0) -> None:
        self._env = env
        self._run = run
        self._scenario = scenario
        self._seed = seed
        self._network: Network | None = None
        self._containers: dict[str, Container] = {}
        self._addresses: dict[str, str] = {}
        self._disconnected: set[str] = set()
        self._followers: list[threading.Thread] = []
        self._proxy_pid: int | None = None
        self._proxy_out: IO[str] | None = None
        self._links: LinkControl | None = None
        self._client: docker.DockerClient | None = None
        self._image = ""
        self._subnet: ipaddress.IPv4Network | None = None
        self._node_security = NodeSecurity()
        self._tls_files: dict[str, bytes] = {}  # tar path -> content, put into every container
        self._gateway = ""  # where the harness's own connections come from, on the run's network
        self._partitions = Partitions(run.run_id)
        self._paused: set[str] = set()

    # --- lifecycle ----------------------------------------------------------------------------------------

    def up(self) -> Topology:
        client = self._client = connect()
        engine = find_engine(self._env.engine)
        # From here on the environment is what this engine takes (extra nodes are configured from it too).
        self._env = dataclasses.replace(self._env, config=engine.adapted(self._env.config)[0])
        image = self._image = ensure_image(
            client, self._env.image or os.environ.get(IMAGE_ENV), engine=engine
        )
        self._network, subnet = create_run_network(
            client, self._run.run_id, self._scenario, random.Random(self._seed)
        )
        self._subnet = subnet
        gateway = self._gateway = host_address(subnet, 1)
        topology = dataclasses.replace(self._plan(subnet, gateway), engine=engine.name)
        if topology.links:
            proxy, port = start_proxy(
                self._run, self._run.run_dir / "logs" / "proxy.log", self._seed, allow_upstream=str(subnet)
            )
            self._proxy_pid, self._proxy_out = proxy.pid, proxy.stdout
            topology = dataclasses.replace(topology, proxy_api=("127.0.0.1", port))
            self._links = LinkControl(("127.0.0.1", port))
            self._links.create(topology.links, topology)
        # Certificates name every address a client may be handed: the nodes', the extra nodes' a restore
        # starts (see start_extra_node), the proxies' on the gateway, and loopback for published ports.
        addresses = ["127.0.0.1", gateway, *(host_address(subnet, i) for i in range(10, 40))]
        access, security = secure(self._env, self._run.run_id, self._run.work_dir, addresses, TLS_DIR)
        self._node_security = security
        if security.tls is not None:
            made = self._run.work_dir / "tls"
            self._tls_files = {
                f"{TLS_DIR.strip('/')}/{name}": (made / name).read_bytes() for name in NODE_FILES
            }
        topology = dataclasses.replace(topology, access=access)
        # Bound to every address inside the container: it keeps listening across a disconnect/connect.
        configs = render_node_configs(
            self._env, topology, self._run, lambda _: DATA_DIR, security, bind="0.0.0.0"
        )
        for node in topology.nodes:
            self._create(client, image, node, configs[node.name])
        starter = start_cluster if topology.cluster else start_in_order
        starter(topology, self._env, self._start, self.log_path, self._exited)
        return topology

    def _plan(self, subnet: ipaddress.IPv4Network, gateway: str) -> Topology:
        layout = plan(self._env)
        proxied = {link.node for link in layout.links if link.kind == "clients"}
        nodes: list[Node] = []
        for planned in layout.nodes:
            offset = (10 if planned.kind == "redis" else 20) + planned.index
            address = self._addresses[planned.name] = host_address(subnet, offset)
            if planned.kind == "sentinel":
                nodes.append(Node(planned.name, "sentinel", address, SENTINEL_PORT))
                continue
            client_port = free_port(gateway) if planned.name in proxied else 0
            nodes.append(Node(planned.name, "redis", address, REDIS_PORT, client_port, gateway))
        links = placed_links(layout, nodes, lambda: free_port(gateway), gateway)
        return Topology(self._env.master_name, tuple(nodes), layout.primary, links, shards=layout.shards)

    def _create(self, client: docker.DockerClient, image: str, node: Node, config: str) -> None:
        assert self._network is not None
        api = client.api
        command = [f"{DATA_DIR}/{node.name}.conf"] + (["--sentinel"] if node.kind == "sentinel" else [])
        try:
            created = api.create_container(
                image,
                command=command,
                entrypoint=["redis-server"],
                name=f"drill-{self._run.run_id}-{node.name}",
                hostname=node.name,
                labels={LABEL_RUN: self._run.run_id, LABEL_SCENARIO: self._scenario, LABEL_NODE: node.name},
                ports=[node.port],
                host_config=api.create_host_config(port_bindings={node.port: ("127.0.0.1", None)}),
                networking_config=api.create_networking_config(
                    {self._network.name: api.create_endpoint_config(ipv4_address=node.host)}
                ),
            )
            container = client.containers.get(created["Id"])
            # The configuration goes in as a file (not argv or env): it may hold passwords.
            container.put_archive(DATA_DIR, _files_archive({f"{node.name}.conf": config.encode()}))
            if self._tls_files:
                container.put_archive("/", _files_archive(self._tls_files))
        except DockerException as exc:
            raise BackendError(f"cannot create the container for {node.name}: {exc}") from None
        self._containers[node.name] = container

    def _start(self, name: str) -> None:
        since = time.time()
        container_ops.start(name, self._containers[name])
        follower = threading.Thread(target=self._follow, args=(name, since), daemon=True, name=f"log-{name}")
        follower.start()
        self._followers.append(follower)

    def _follow(self, name: str, since: float) -> None:
        """Copy the container's output into its log file as it comes, so a failing start can show it."""
        with contextlib.suppress(DockerException, OSError, ValueError), self.log_path(name).open("ab") as out:
            for chunk in self._containers[name].logs(stream=True, follow=True, since=since):
                out.write(chunk)
                out.flush()

    def _exited(self, name: str) -> str | None:
        return container_ops.exit_reason(self._containers.get(name))

    def down(self) -> None:
        self._partitions.heal()
        for name in self._paused:
            with contextlib.suppress(BackendError):
                container_ops.unpause(name, self._containers[name])
        for name, container in self._containers.items():
            # The whole output, all incarnations: the followers' copy may miss lines at a restart.
            container_ops.save_logs(container, self.log_path(name))
            with contextlib.suppress(NotFound):
                try:
                    container.remove(force=True, v=True)
                except DockerException as exc:
                    raise BackendError(f"cannot remove the container of {name}: {exc}") from None
        for follower in self._followers:
            follower.join(timeout=1)
        if self._network is not None:
            with contextlib.suppress(NotFound):
                self._network.remove()
        # The proxy, and whatever an interrupt left between a fork and its Popen returning (the proxy too).
        known = {self._proxy_pid} if self._proxy_pid is not None else set()
        kill_and_wait(sorted(known | leftovers(self._run.run_id, self._run.work_dir)))
        if self._proxy_pid is not None:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self._proxy_pid, 0)
        if self._proxy_out is not None:
            self._proxy_out.close()
        self._run.remove_work_dir()

    # --- faults -------------------------------------------------------------------------------------------

    def kill(self, name: str) -> float:
        return container_ops.kill(name, self._containers[name])

    def terminate(self, name: str) -> float:
        return container_ops.kill(name, self._containers[name], signal.SIGTERM)

    def restart(self, name: str) -> None:
        container_ops.stop_if_running(name, self._containers[name])
        self._start(name)

    def container_name(self, name: str) -> str | None:
        container = self._containers.get(name)
        return str(container.name) if container is not None else None

    def require_partitions(self) -> None:
        check_rights(into_namespaces=True)

    def cut(self, senders: frozenset[str], receivers: frozenset[str]) -> str:
        """Rules in each receiving container's own network namespace (entered through its process), and in
        the harness's for the clients' side: the run's containers each have their own address."""
        members = {CLIENTS: Member(CLIENTS, self._gateway, None)}
        for name in (senders | receivers) - {CLIENTS}:
            pid = container_ops.process_id(name, self._containers[name])
            members[name] = Member(name, self._addresses[name], pid)
        self._partitions.cut([members[n] for n in senders], [members[n] for n in receivers])
        return "nftables in the nodes' network namespaces"

    def heal_cuts(self) -> None:
        self._partitions.heal()

    def undo_for(self, action: str, node: str | None) -> list[tuple[str, dict[str, Any]]]:
        """Cuts live in the containers' namespaces, which the watchdog enters as the harness does; a frozen
        container is unpaused through the Docker API."""
        if action == "pause" and node in self._paused:
            return [("docker-unpause", {"container": self._containers[node].id})]
        if action == "disconnect" and node in self._disconnected:
            assert self._network is not None
            where = {"network": self._network.id, "address": self._addresses[node]}
            return [("docker-connect", {"container": self._containers[node].id, **where})]
        if action != "partition":
            return []
        table = self._partitions.table
        return [
            ("nft-delete-chain", {"table": table, "namespace": ns, "chain": chain})
            for ns, chain in self._partitions.take_new_cuts()
        ]

    def pause(self, name: str) -> float:
        sent = container_ops.pause(name, self._containers[name])
        self._paused.add(name)
        return sent

    def resume(self, name: str) -> float:
        sent = container_ops.unpause(name, self._containers[name])
        self._paused.discard(name)
        return sent

    def is_running(self, name: str) -> bool:
        return self._exited(name) is None

    def start_extra_node(self, name: str, files: Path) -> Node:
        assert self._client is not None and self._subnet is not None
        self._addresses[name] = host_address(self._subnet, 30 + len(self._addresses))
        node = Node(name, "redis", self._addresses[name], REDIS_PORT)
        self._create(
            self._client,
            self._image,
            node,
            extra_node_conf(self._env, "0.0.0.0", REDIS_PORT, DATA_DIR, self._node_security),
        )
        try:
            self._containers[name].put_archive(DATA_DIR, _paths_archive((p, p.name) for p in files.iterdir()))
        except DockerException as exc:
            raise BackendError(f"cannot copy the files of {name} in: {exc}") from None
        self._start(name)
        return node

    def export_data(self, name: str, relative: str, dest: Path) -> None:
        """docker cp out of the container (stopped or not): its data lives in the container's own layer."""
        try:
            source = str(Path(DATA_DIR, relative))  # "/data" itself for "."
            stream, _ = self._containers[name].get_archive(source)
            with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
                for member in tar.getmembers():
                    # The archive holds `relative`'s last part as its top directory: keep what is below it.
                    parts = Path(member.name).parts[1:]
                    if member.isfile() and parts:
                        target = dest.joinpath(*parts)
                        target.parent.mkdir(parents=True, exist_ok=True)
                        extracted = tar.extractfile(member)
                        assert extracted is not None
                        target.write_bytes(extracted.read())
        except DockerException as exc:
            raise BackendError(f"cannot copy {relative} out of {name}: {exc}") from None

    def import_data(self, name: str, src: Path, relative: str) -> None:
        # "." is the whole data dir: src's contents go into it; else src replaces that entry of it.
        whole = Path(relative) == Path(".")
        parent = DATA_DIR if whole else str(Path(DATA_DIR, relative).parent)
        try:
            self._containers[name].put_archive(
                parent, _paths_archive([(src, "." if whole else Path(relative).name)])
            )
        except DockerException as exc:
            raise BackendError(f"cannot copy {relative} into {name}: {exc}") from None

    def disconnect(self, name: str) -> bool:
        assert self._network is not None
        try:
            self._network.disconnect(self._containers[name], force=True)
        except DockerException as exc:
            raise BackendError(f"docker network disconnect {name}: {exc}") from None
        self._disconnected.add(name)
        return True

    def reconnect(self, name: str) -> None:
        assert self._network is not None
        if name not in self._disconnected:
            return
        try:
            # The same address: Sentinel and the replicas know the node by it.
            self._network.connect(self._containers[name], ipv4_address=self._addresses[name])
        except DockerException as exc:
            raise BackendError(f"docker network connect {name}: {exc}") from None
        self._disconnected.discard(name)

    def disconnected(self) -> tuple[str, ...]:
        return tuple(sorted(self._disconnected))

    def log_path(self, name: str) -> Path:
        return self._run.run_dir / "logs" / f"{name}.log"
