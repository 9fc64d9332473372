"""`drill node {status,stop,start,restart,kill} --run-id ID NAME`: what a team's runbook program would do
with systemctl or its orchestrator, on a node of a running drill (the run id is in the program's
environment, DRILL_RUN_ID). Local nodes are found through the run's scratch dir (each node's command and
log, and the pids the run registered); containers through their labels."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from harness.backends.local import NODES_FILE
from harness.backends.reaper import register_pid, registered_pid
from harness.core.errors import BackendError, UsageError
from harness.core.run_context import RUN_ID_ENV, work_root

ACTIONS = ("status", "stop", "start", "restart", "kill")
STOP_TIMEOUT_S = 10.0


def control(action: str, run_id: str, name: str) -> str:
    """Do it; returns one line saying what the node is now."""
    work_dir = work_root() / run_id
    if (work_dir / NODES_FILE).is_file():
        return _local(action, work_dir, run_id, name)
    return _container(action, run_id, name)


def _local(action: str, work_dir: Path, run_id: str, name: str) -> str:
    nodes = json.loads((work_dir / NODES_FILE).read_text())
    if name not in nodes:
        raise UsageError(f"drill node: run {run_id} has no node {name!r} (it has: {', '.join(nodes)})")
    pid = registered_pid(work_dir, name)
    if action == "status":
        return f"{name}: running (pid {pid})" if pid else f"{name}: not running"
    if action in ("stop", "kill", "restart") and pid is not None:
        os.kill(pid, signal.SIGKILL if action == "kill" else signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while os.path.exists(f"/proc/{pid}") and _state(pid) != "Z" and time.monotonic() < deadline:
            time.sleep(0.05)
        pid = None
    if action in ("start", "restart"):
        if pid is not None:
            return f"{name}: already running (pid {pid})"
        node = nodes[name]
        with open(node["log"], "ab") as log:
            process = subprocess.Popen(
                node["command"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, RUN_ID_ENV: run_id},
                start_new_session=True,  # not the caller's: a runbook program's timeout must not end it
            )
        register_pid(work_dir, name, process.pid)
        return f"{name}: started (pid {process.pid})"
    return f"{name}: {'stopped' if action == 'stop' else 'killed' if action == 'kill' else 'not running'}"


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "gone"


def _container(action: str, run_id: str, name: str) -> str:
    import docker
    from docker.errors import DockerException

    from harness.backends.docker_network import LABEL_NODE, LABEL_RUN

    try:
        client = docker.from_env()
        labels = [f"{LABEL_RUN}={run_id}", f"{LABEL_NODE}={name}"]
        found = client.containers.list(all=True, filters={"label": labels})
    except DockerException:
        found = []
    if not found:
        raise UsageError(f"drill node: no running drill {run_id} with a node {name!r} (local or Docker)")
    container = found[0]
    try:
        if action == "stop":
            container.stop(timeout=5)
        elif action == "kill":
            container.kill()
        elif action == "start":
            container.start()
        elif action == "restart":
            container.restart(timeout=5)
        container.reload()
    except DockerException as exc:
        raise BackendError(f"drill node {action} {name}: {exc}") from None
    return f"{name}: {container.status} (container {container.name})"
