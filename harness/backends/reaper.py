"""Find and remove what runs left behind: tagged processes and scratch directories."""

from __future__ import annotations

import os
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from harness.backends.netfilter import remove_table, table_run_ids
from harness.core.run_context import RUN_ID_ENV, started_at, work_root


@dataclass(frozen=True, slots=True)
class Tagged:
    pid: int
    run_id: str
    command: str


def tagged_processes(proc: Path = Path("/proc")) -> list[Tagged]:
    """Processes of runs: those whose environment carries a run id, and those working in a run's scratch
    dir. Redis and Sentinel write their process title over the memory that held their environment, so
    /proc shows theirs empty; but they chdir to their `dir`, which is under the run's scratch dir (kept in
    /proc even once that dir is deleted)."""
    found: list[Tagged] = []
    marker = f"{RUN_ID_ENV}=".encode()
    scratch = f"{work_root()}{os.sep}"
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue  # gone, or not ours to read
        run_id = next(
            (
                var[len(marker) :].decode(errors="replace")
                for var in environ.split(b"\0")
                if var.startswith(marker)
            ),
            cwd[len(scratch) :].split(os.sep, 1)[0] if cwd.startswith(scratch) else None,
        )
        if run_id:
            found.append(Tagged(int(entry.name), run_id, cmdline))
    return found


def unexeced_forks(proc: Path = Path("/proc")) -> list[int]:
    """Children of this process that have not exec'd yet: still running our own command line. An interrupt
    that lands while Popen waits for its child's exec loses the Popen and the pid with it, and the child
    carries neither the run's tag nor its scratch dir until it has exec'd (seen in CI: a SIGINT 0.73 s in
    left a redis-server running)."""
    me = str(os.getpid())
    try:
        own = (proc / "self" / "cmdline").read_bytes()
    except OSError:
        return []
    found: list[int] = []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or entry.name == me:
            continue
        try:
            ppid = (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
            if ppid == me and (entry / "cmdline").read_bytes() == own:
                found.append(int(entry.name))
        except (OSError, IndexError):
            continue  # gone, or not ours to read
    return found


def leftovers(run_id: str, work_dir: Path) -> set[int]:
    """The run's processes that no Popen of ours may know any more: registered in its scratch dir (started
    again by `drill node`), tagged with its run id, or forked by this process and not yet exec'd."""
    tagged = {t.pid for t in tagged_processes() if t.run_id == run_id}
    return tagged | set(registered_pids(work_dir)) | set(unexeced_forks())


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot: with the pid, it names one process for good."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def register_pid(work_dir: Path, name: str, pid: int) -> None:
    """Record a started process in the run's scratch dir. redis-server rewrites its environ and title
    (setproctitle), so the environment tag alone cannot find it again."""
    pids = work_dir / "pids"
    pids.mkdir(exist_ok=True)
    (pids / f"{name}.{pid}").write_text(str(start_time(pid) or ""))


def registered_pid(work_dir: Path, name: str) -> int | None:
    """The live process registered last under `name` (a node started again by `drill node` has a new one)."""
    pids = work_dir / "pids"
    live = []
    for entry in pids.glob(f"{name}.*") if pids.is_dir() else []:
        pid = int(entry.name.rsplit(".", 1)[1])
        recorded = entry.read_text().strip()
        if recorded and str(start_time(pid)) == recorded and process_exists(pid):
            live.append((entry.stat().st_mtime, pid))
    return max(live)[1] if live else None


def registered_pids(run_dir: Path) -> list[int]:
    """Registered processes of one run that are still the same processes (not a reused pid)."""
    found: list[int] = []
    pids = run_dir / "pids"
    if not pids.is_dir():
        return found
    for entry in pids.iterdir():
        pid = int(entry.name.rsplit(".", 1)[1])
        recorded = entry.read_text().strip()
        if recorded and str(start_time(pid)) == recorded:
            found.append(pid)
    return found


STARTING_S = 30.0  # a run this young may not have written its owner file yet


def owner_alive(run_id: str) -> bool:
    """True while the harness process that started the run is still running. A run whose owner file is
    not there (yet) counts as alive while it is younger than STARTING_S: its harness makes the scratch dir
    and then writes the file, and a cleanup in between (another drill's, say, in a parallel CI job) must
    not take the dir from under it."""
    try:
        pid = int((work_root() / run_id / "owner.pid").read_text())
    except (OSError, ValueError):
        began = started_at(run_id)
        return began is not None and time.time() - began < STARTING_S
    return pid != os.getpid() and process_exists(pid)


def kill_and_wait(pids: list[int], grace: float = 2.0) -> None:
    """SIGTERM, then SIGKILL whatever is still there after the grace period."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        alive = [pid for pid in pids if _signal(pid, sig)]
        deadline = time.monotonic() + grace
        while alive and time.monotonic() < deadline:
            alive = [pid for pid in alive if process_exists(pid)]
            time.sleep(0.02)
        pids = alive
        if not pids:
            return


def _signal(pid: int, sig: int) -> bool:
    try:
        os.kill(pid, sig)
        return True
    except ProcessLookupError:
        return False


def process_exists(pid: int) -> bool:
    """Alive: a zombie (killed, its parent has not reaped it yet) counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@dataclass(frozen=True, slots=True)
class Reaped:
    run_ids: tuple[str, ...]
    processes: int
    directories: int
    skipped_live: tuple[str, ...]
    containers: int = 0
    networks: int = 0
    volumes: int = 0


def reap(run_id: str | None = None) -> Reaped:
    """Remove the resources of one run, or of every run whose harness is no longer running."""
    # Imported here: the Docker SDK is needed only when cleaning up, not by every local run.
    from harness.backends.docker_reaper import docker_run_ids, reap_docker

    processes = tagged_processes()
    run_ids = {p.run_id for p in processes} | docker_run_ids() | table_run_ids()
    root = work_root()
    if root.is_dir():
        run_ids |= {d.name for d in root.iterdir() if d.is_dir()}
    if run_id is not None:
        run_ids &= {run_id}
    skipped = tuple(sorted(r for r in run_ids if run_id is None and owner_alive(r)))
    targets = sorted(run_ids - set(skipped))
    pids = {p.pid for p in processes if p.run_id in targets}
    for rid in targets:
        pids.update(registered_pids(root / rid))
    kill_and_wait(sorted(pids))
    docker = reap_docker(targets)
    for rid in targets:
        remove_table(rid)  # per-peer partitions cut in the harness's own namespace
    removed = 0
    for rid in targets:
        directory = root / rid
        if directory.is_dir():
            shutil.rmtree(directory, ignore_errors=True)
            removed += 1
    return Reaped(
        tuple(targets), len(pids), removed, skipped, docker.containers, docker.networks, docker.volumes
    )
