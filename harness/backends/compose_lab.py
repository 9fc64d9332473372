"""An existing environment: the containers of a running Compose project (docker-compose.yml's lab).

The harness did not start these nodes, so it changes nothing unless the run allows faults on external nodes
(`drill run --allow-external-faults`); it checks that the lab is what the environment file says (replicas,
Sentinels, quorum, Sentinel timings, which the drill's time bounds come from), and it leaves the lab running
at the end: nodes a drill killed are started again.
"""

from __future__ import annotations

import dataclasses
import re
import time
from pathlib import Path

from docker.errors import DockerException
from docker.models.containers import Container

from harness.backends import container_ops
from harness.backends.base import Backend
from harness.backends.image import connect
from harness.backends.topology_ready import wait_until_ready
from harness.clients.primary import current_primary
from harness.clients.probe import probe_client
from harness.core.errors import BackendError, FaultError
from harness.core.run_context import RunContext
from harness.core.topology import Node, Topology
from harness.scenario.model import Environment

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
NODE_SERVICE = re.compile(r"(redis|sentinel)-\d+")  # redis-1, sentinel-2; not redis-exporter
PORTS = {"redis": 6379, "sentinel": 26379}


class ComposeLabBackend(Backend):
    def __init__(self, env: Environment, run: RunContext, allow_faults: bool) -> None:
        assert env.external_compose_project is not None
        self._env = env
        self._project = env.external_compose_project
        self._run = run
        self._allow_faults = allow_faults
        self._containers: dict[str, Container] = {}
        self._killed: set[str] = set()
        self._since = time.time()

    def up(self) -> Topology:
        client = connect()
        try:
            found = client.containers.list(filters={"label": f"{PROJECT_LABEL}={self._project}"})
        except DockerException as exc:
            raise BackendError(
                f"cannot list the containers of Compose project {self._project}: {exc}"
            ) from None
        nodes: list[Node] = []
        for container in sorted(found, key=lambda c: c.labels.get(SERVICE_LABEL, "")):
            service = container.labels.get(SERVICE_LABEL, "")
            networks = container.attrs["NetworkSettings"]["Networks"]
            node_service = NODE_SERVICE.fullmatch(service)
            if node_service is None or not networks:
                continue  # other services of the project (redis-exporter, prometheus) are not nodes
            address = next(iter(networks.values()))["IPAddress"]
            if node_service.group(1) == "sentinel":
                nodes.append(Node(service, "sentinel", address, PORTS["sentinel"]))
            else:
                nodes.append(Node(service, "redis", address, PORTS["redis"]))
            self._containers[service] = container
        if not nodes:
            raise BackendError(
                f"Compose project {self._project} has no running redis-N or sentinel-N container. Hint: "
                f"`drill image build && docker-compose -p {self._project} up -d` in the repository root"
            )
        found_nodes = Topology(self._env.master_name, tuple(nodes), initial_primary="")
        try:
            primary = current_primary(found_nodes)
        except FaultError:
            raise BackendError(
                f"no Sentinel of the lab names a primary for {self._env.master_name}"
            ) from None
        topology = dataclasses.replace(found_nodes, initial_primary=primary)
        self._check_matches(topology)
        wait_until_ready(topology, self._env, self.log_path, self._exited, sentinels=False)
        wait_until_ready(topology, self._env, self.log_path, self._exited, sentinels=True)
        return topology

    def _check_matches(self, topology: Topology) -> None:
        """The drill's time bounds come from the environment file: it must describe the lab as it runs."""
        env, spec = self._env, self._env.sentinels
        sentinel = topology.sentinels[0]
        with probe_client(sentinel, 0.5, topology.credentials("operator", sentinel)) as client:
            state = client.sentinel_master(env.master_name)
        expected = {
            "replicas": (env.replicas, len(topology.data_nodes) - 1),
            "sentinels.count": (spec.count, len(topology.sentinels)),
            "sentinels.quorum": (spec.quorum, int(state["quorum"])),
            "sentinels.down-after-milliseconds": (spec.down_after_ms, int(state["down-after-milliseconds"])),
            "sentinels.failover-timeout": (spec.failover_timeout_ms, int(state["failover-timeout"])),
        }
        wrong = [
            f"{field} {want} (the lab has {have})" for field, (want, have) in expected.items() if want != have
        ]
        if wrong:
            raise BackendError(
                f"{env.file} does not describe Compose project {self._project}: it says {'; '.join(wrong)}. "
                "Hint: make the environment file match the lab (lab/sentinel.conf, docker-compose.yml)"
            )

    def _exited(self, name: str) -> str | None:
        return container_ops.exit_reason(self._containers.get(name))

    def down(self) -> None:
        try:
            # Leave the lab running as it was found: whatever the drill killed comes back.
            for name in sorted(self._killed):
                if self._exited(name) is not None:
                    container_ops.start(name, self._containers[name])
        finally:
            for name, container in self._containers.items():
                container_ops.save_logs(container, self.log_path(name), since=self._since)
            self._run.remove_work_dir()

    def _refuse_unless_allowed(self, what: str, name: str) -> None:
        if not self._allow_faults:
            raise FaultError(
                f"refusing to {what} {name}: it belongs to Compose project {self._project}, which this run "
                "did not start. Pass --allow-external-faults to drill run to allow faults on external nodes"
            )

    def kill(self, name: str) -> float:
        self._refuse_unless_allowed("kill", name)
        sent = container_ops.kill(name, self._containers[name])
        self._killed.add(name)
        return sent

    def restart(self, name: str) -> None:
        self._refuse_unless_allowed("restart", name)
        container_ops.stop_if_running(name, self._containers[name])
        container_ops.start(name, self._containers[name])

    def is_running(self, name: str) -> bool:
        return self._exited(name) is None

    def log_path(self, name: str) -> Path:
        return self._run.run_dir / "logs" / f"{name}.log"
