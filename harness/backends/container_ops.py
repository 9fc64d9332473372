"""What both container backends (the run's own containers and an existing Compose lab) do to a container."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from docker.errors import DockerException, NotFound
from docker.models.containers import Container

from harness.core.errors import BackendError

STOP_TIMEOUT_S = 5


def exit_reason(container: Container | None) -> str | None:
    """Why a container is not running, or None while it runs (a paused one still counts as running)."""
    if container is None:
        return "never created"
    try:
        container.reload()
    except NotFound:
        return "container removed"
    if container.status in ("running", "paused"):
        return None
    return f"container {container.status} (exit code {container.attrs['State'].get('ExitCode')})"


def kill(name: str, container: Container, sig: signal.Signals = signal.SIGKILL) -> float:
    """SIGKILL (or `sig`) the container's main process; returns time.monotonic() when the signal went out.
    With SIGKILL it waits for the container to stop; another signal leaves the process to its own end.

    The signal goes straight to the process (its host pid, fresh from the daemon): Docker's kill API takes
    40-120 ms here before the process dies, which would blur when the fault happened. Without the right to
    signal it (a rootless daemon), the API does it."""
    if exit_reason(container) is not None:
        raise BackendError(f"cannot kill {name}: it is not running")
    pid = int(container.attrs["State"].get("Pid") or 0)  # exit_reason reloaded the attributes just now
    sent = time.monotonic()
    try:
        if pid > 0:
            try:
                os.kill(pid, sig)
            except (PermissionError, ProcessLookupError):
                sent = time.monotonic()
                container.kill(signal=sig.name)
        else:
            container.kill(signal=sig.name)
        if sig == signal.SIGKILL:
            container.wait(timeout=10)
    except DockerException as exc:
        raise BackendError(f"cannot kill {name}: {exc}") from None
    return sent


def process_id(name: str, container: Container) -> int:
    """The host pid of the container's main process (to enter its network namespace)."""
    if exit_reason(container) is not None:
        raise BackendError(f"{name} is not running")
    pid = int(container.attrs["State"].get("Pid") or 0)
    if pid <= 0:
        raise BackendError(f"{name} has no process")
    return pid


def pause(name: str, container: Container) -> float:
    """Freeze every process of the container (cgroup freezer); returns time.monotonic() when asked."""
    return _freezer(name, container, container.pause, "pause")


def unpause(name: str, container: Container) -> float:
    return _freezer(name, container, container.unpause, "resume")


def _freezer(name: str, container: Container, action: Callable[[], None], what: str) -> float:
    sent = time.monotonic()
    try:
        action()
    except DockerException as exc:
        raise BackendError(f"cannot {what} {name}: {exc}") from None
    return sent


def stop_if_running(name: str, container: Container) -> None:
    if exit_reason(container) is None:
        try:
            container.stop(timeout=STOP_TIMEOUT_S)
        except DockerException as exc:
            raise BackendError(f"cannot stop {name}: {exc}") from None


def start(name: str, container: Container) -> None:
    try:
        container.start()
    except DockerException as exc:
        raise BackendError(f"cannot start the container of {name}: {exc}") from None


def save_logs(container: Container, path: Path, since: float | None = None) -> None:
    """The container's output (since a moment, for containers that outlive the run) into the run's logs."""
    with contextlib.suppress(DockerException, OSError):
        path.write_bytes(container.logs(since=since) if since else container.logs())
