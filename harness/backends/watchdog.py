"""The run's dead man's switch: a process of its own (`python -m harness.backends.watchdog JOURNAL PID`,
in its own session, tagged with the run id) that reads the run's undo journal and undoes each entry when
its fault's `max:` runs out, or at once when the harness process is gone. It leaves when the harness closes
the journal, or when nothing is left to undo and the harness is gone or every deadline has passed: it never
outlives the longest `max:` by more than a few seconds.

What it undoes: cuts (per-fault nftables chains, in whichever namespace), frozen processes (SIGCONT) and
containers (docker unpause), proxy toxics and disabled links (the proxy's HTTP API: the same for the drill's
own proxy and a team's Toxiproxy, which has no heartbeat to expire them by), CONFIG SET values (put back with
the operator's credentials, handed over in its environment, never on disk or argv)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import redis
import requests

from harness.backends.netfilter import delete_table
from harness.backends.reaper import process_exists, register_pid
from harness.clients.probe import probe_client
from harness.core.access import Credentials, credentials_from_json, credentials_to_json
from harness.core.errors import BackendError
from harness.core.observation_log import ObservationLog
from harness.core.run_context import RunContext
from harness.core.topology import Node
from harness.core.undo_journal import JOURNAL, Undo, UndoJournal, read_journal

POLL_S = 0.2
LINGER_S = 2.0  # after the last deadline with nothing left to undo
CREDENTIALS_VAR = "REDIS_DRILL_WATCHDOG_CREDENTIALS"  # the operator's (data node, Sentinel) credentials
HTTP_TIMEOUT_S = 2.0
UNDO_ERRORS = (BackendError, OSError, subprocess.SubprocessError, redis.RedisError, requests.RequestException)


def start_watchdog(
    run: RunContext, log: ObservationLog, credentials: tuple[Credentials, Credentials]
) -> subprocess.Popen[bytes]:
    """Start the run's watchdog, detached from the harness (its own session: a Ctrl-C or a kill of the
    harness's process group does not reach it), tagged with the run id for `drill cleanup`. It writes a
    fault_end record for each fault it ends into the run's log, on the run's clock."""
    args = [str(run.work_dir / JOURNAL), str(os.getpid()), str(log.path), repr(log.start)]
    process = subprocess.Popen(
        [sys.executable, "-m", "harness.backends.watchdog", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=(run.run_dir / "logs" / "watchdog.log").open("ab"),
        env={**run.process_env(), CREDENTIALS_VAR: credentials_to_json(credentials)},
        start_new_session=True,
    )
    register_pid(run.work_dir, "watchdog", process.pid)
    return process


class DeadMansSwitch:
    """The harness's side: arm a fault with what undoes it and by when (the watchdog is started, or started
    again, as needed), disarm it when the harness ends it itself, close at teardown."""

    def __init__(self, run: RunContext, log: ObservationLog) -> None:
        self._run = run
        self._log = log
        self._journal = UndoJournal(run.work_dir / JOURNAL)
        self._process: subprocess.Popen[bytes] | None = None
        self._credentials = (Credentials(), Credentials())

    def authorize(self, credentials: tuple[Credentials, Credentials]) -> None:
        """The operator's credentials, for putting CONFIG values back (before the first fault is armed)."""
        self._credentials = credentials

    def arm(self, fault: int, action: str, undos: list[tuple[str, dict[str, Any]]], deadline: float) -> None:
        for op, args in undos:
            self._journal.add(Undo(fault, action, op, args, deadline))
        if undos and (self._process is None or self._process.poll() is not None):
            self._process = start_watchdog(self._run, self._log, self._credentials)

    def disarm(self, fault: int) -> None:
        if self._process is not None:
            self._journal.done(fault)

    def close(self) -> None:
        """Teardown is over (the backend healed and thawed everything itself): the watchdog leaves."""
        if self._process is None:
            return
        with contextlib.suppress(OSError):  # the scratch dir is gone: the watchdog has found no journal
            self._journal.close()
        try:
            self._process.wait(timeout=2 * POLL_S + 1)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def undo(entry: Undo, credentials: Credentials) -> None:
    """Carry one entry out; what is already undone (a table, a process, a toxic gone) is fine."""
    args = entry.args
    if entry.op == "nft-delete-chain":
        delete_table(str(args["table"]), args.get("namespace"), str(args["chain"]))
    elif entry.op == "sigcont":
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(args["pid"]), signal.SIGCONT)
    elif entry.op in ("docker-unpause", "docker-connect"):
        _docker_undo(entry.op, args)
    elif entry.op in ("proxy-toxic-delete", "proxy-enable"):
        _proxy_undo(entry.op, args)
    elif entry.op == "command":  # the team's own start or resume, from their environment's control
        done = subprocess.run(
            [str(a) for a in args["argv"]], stdin=subprocess.DEVNULL, capture_output=True,
            timeout=float(args["timeout"]), check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise BackendError(f"`{' '.join(args['argv'])}` exited {done.returncode}: {done.stderr[-300:]!r}")
    elif entry.op == "config-set":
        node = Node(str(args["node"]), "redis", str(args["host"]), int(args["port"]))
        with probe_client(node, 2.0, credentials) as client:
            client.config_set(str(args["parameter"]), str(args["value"]))
    else:
        raise BackendError(f"the watchdog does not know how to undo {entry.op!r}")


def _docker_undo(op: str, args: dict[str, Any]) -> None:
    """Unpause a frozen container, or connect a disconnected one again at its own address."""
    import docker  # here: most runs' watchdogs never drive Docker, and its import is slow to start
    from docker.errors import APIError, DockerException, NotFound

    try:
        client = docker.from_env()
        try:
            found = client.containers.get(str(args["container"]))
            if op == "docker-unpause" and found.status == "paused":
                found.unpause()
            elif op == "docker-connect":
                network = client.networks.get(str(args["network"]))
                with contextlib.suppress(APIError):  # connected already (the harness got there first)
                    network.connect(found, ipv4_address=str(args["address"]))
        finally:
            client.close()
    except NotFound:
        pass  # removed: nothing of it is left to undo
    except DockerException as exc:
        raise BackendError(f"{op} {str(args['container'])[:12]}: {exc}") from None


def _proxy_undo(op: str, args: dict[str, Any]) -> None:
    base = f"http://{args['api']}/proxies/{args['link']}"
    if op == "proxy-enable":
        reply = requests.post(base, json={"enabled": True}, timeout=HTTP_TIMEOUT_S)
    else:
        reply = requests.delete(f"{base}/toxics/{args['toxic']}", timeout=HTTP_TIMEOUT_S)
    if reply.status_code not in (200, 204, 404):  # 404: the link or toxic is gone already
        raise BackendError(f"the proxy answered {reply.status_code}: {reply.text[:200]}")


def watch(journal: Path, harness_pid: int, log: ObservationLog, credentials: Credentials) -> int:
    undone: set[tuple[int, str, str]] = set()
    ended: set[int] = set()
    while True:
        pending = read_journal(journal)
        if pending.closed:
            return 0
        harness_gone = not process_exists(harness_pid)
        now = time.time()
        left = 0
        for entry in pending.undos:
            key = (entry.fault, entry.op, repr(sorted(entry.args.items())))
            if key in undone:
                continue
            if harness_gone or now >= entry.deadline:
                why = "the harness is gone" if harness_gone else "its max ran out"
                try:
                    undo(entry, credentials)
                    outcome = f"ended by the watchdog: {why}"
                except (
                    BackendError,
                    OSError,
                    subprocess.SubprocessError,
                    redis.RedisError,
                    requests.RequestException,
                ) as exc:
                    outcome = f"the watchdog could not end it ({why}): {exc}"
                print(f"{time.strftime('%H:%M:%S')} fault {entry.fault} {entry.op} {entry.args}: {outcome}",
                      file=sys.stderr, flush=True)  # fmt: skip
                undone.add(key)
                if entry.fault not in ended:  # one record per fault, however many undos it had
                    ended.add(entry.fault)
                    log.fault_end(entry.fault, entry.action, outcome=outcome)
                    log.flush()
            else:
                left += 1
        last = max((u.deadline for u in pending.undos), default=0.0)
        if left == 0 and (harness_gone or now > last + LINGER_S):
            return 0
        time.sleep(POLL_S)


_OPEN = {"username": None, "password": None, "tls": None}


def main(argv: list[str]) -> int:
    journal, harness_pid, log_path, start = Path(argv[0]), int(argv[1]), Path(argv[2]), float(argv[3])
    credentials, _ = credentials_from_json(os.environ.pop(CREDENTIALS_VAR, json.dumps([_OPEN, _OPEN])))
    log = ObservationLog(log_path, start)  # the run's own log, on its clock (monotonic is machine-wide)
    try:
        return watch(journal, harness_pid, log, credentials)
    finally:
        log.close()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
