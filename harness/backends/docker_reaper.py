"""Find and remove the Docker resources of runs: containers, networks and volumes labelled with a run id."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from docker.errors import APIError, DockerException, NotFound

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

# How long a container, network or volume that another cleanup is removing may take to be gone.
GONE_WAIT_S = 30.0


class _Resource(Protocol):
    def reload(self) -> None: ...


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
            counts[0] += removed(container, partial(container.remove, force=True, v=True), "container")
        for network in client.networks.list(filters=label):
            counts[1] += removed(network, network.remove, "network")
        for volume in client.volumes.list(filters=label):
            counts[2] += removed(volume, partial(volume.remove, force=True), "volume")
    return DockerReaped(*counts)


def removed(resource: _Resource, remove: Callable[[], object], kind: str, wait: float = GONE_WAIT_S) -> bool:
    """Remove it: True when this call did, False when it was already gone or someone else removed it.
    Two cleanups at once (two CI jobs, or a drill's own teardown) meet here: Docker answers the second
    with a conflict ("removal ... already in progress") or, for a network, its endpoints still attached;
    then wait until the thing is gone, so that a network is not left behind its containers."""
    try:
        remove()
        return True
    except NotFound:
        return False
    except APIError as exc:
        if gone_within(resource, wait):
            return False
        raise BackendError(f"cannot remove the {kind} {_name(resource)}: {exc.explanation or exc}") from None


def gone_within(resource: _Resource, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        try:
            resource.reload()
        except NotFound:
            return True
        except DockerException:
            pass  # Docker busy removing it: ask again
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


def _name(resource: _Resource) -> str:
    return str(getattr(resource, "name", None) or getattr(resource, "id", "?"))
