"""Find and remove the Docker resources of runs: containers, networks and volumes labelled with a run id."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass

from docker.errors import DockerException, NotFound

from harness.backends.docker_network import LABEL_RUN
from harness.backends.image import connect
from harness.core.errors import BackendError


@dataclass(frozen=True, slots=True)
class DockerReaped:
    containers: int
    networks: int
    volumes: int


def docker_run_ids() -> set[str]:
    """Run ids that own a container, network or volume; empty when Docker is not reachable."""
    try:
        client = connect()
    except BackendError:
        return set()
    found: set[str] = set()
    with contextlib.suppress(DockerException):
        found |= {c.labels.get(LABEL_RUN, "") for c in client.containers.list(all=True, filters=_ANY)}
        found |= {_label(n.attrs) for n in client.networks.list(filters=_ANY)}
        found |= {_label(v.attrs) for v in client.volumes.list(filters=_ANY)}
    found.discard("")
    return found


_ANY = {"label": LABEL_RUN}


def _label(attrs: dict[str, object]) -> str:
    labels = attrs.get("Labels") or {}
    return str(labels.get(LABEL_RUN, "")) if isinstance(labels, dict) else ""


def reap_docker(run_ids: Iterable[str]) -> DockerReaped:
    """Remove every container, then network, then volume labelled with one of the run ids."""
    ids = set(run_ids)
    if not ids:
        return DockerReaped(0, 0, 0)
    try:
        client = connect()
    except BackendError:
        return DockerReaped(0, 0, 0)
    counts = [0, 0, 0]
    for run_id in sorted(ids):
        label = {"label": f"{LABEL_RUN}={run_id}"}
        for container in client.containers.list(all=True, filters=label):
            with contextlib.suppress(NotFound):
                container.remove(force=True, v=True)
                counts[0] += 1
        for network in client.networks.list(filters=label):
            with contextlib.suppress(NotFound):
                network.remove()
                counts[1] += 1
        for volume in client.volumes.list(filters=label):
            with contextlib.suppress(NotFound):
                volume.remove(force=True)
                counts[2] += 1
    return DockerReaped(*counts)
