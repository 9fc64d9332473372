"""Shared helpers: run the real CLI in a subprocess, find a run's processes, wait with deadlines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs the generated-input tests with fixed examples (a new random find must not decide whether a change
# lands); locally they explore.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent


def docker_unavailable() -> str | None:
    """Why the Docker backend's tests cannot run here, or None. REDIS_DRILL_SKIP_DOCKER=1 skips them too."""
    if os.environ.get("REDIS_DRILL_SKIP_DOCKER"):
        return "REDIS_DRILL_SKIP_DOCKER is set"
    import docker
    from docker.errors import DockerException

    try:
        docker.from_env().ping()
    except DockerException as exc:
        return f"no Docker Engine reachable ({type(exc).__name__}); scripts/ensure-docker.sh starts one"
    return None


def drill(
    *args: str, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess (env: its whole environment; default: this process's)."""
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=env,
    )


def start_proxy(*args: str) -> tuple[int, subprocess.Popen[str]]:
    """The drill's proxy as its own process (`python -m harness.proxy`) on a free port: its API port."""
    process = subprocess.Popen(
        [sys.executable, "-m", "harness.proxy", "--listen", "127.0.0.1:0", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("listening on "), line
    return int(line.rsplit(":", 1)[1]), process


def start_drill(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "harness", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def only_run_dir(runs: Path) -> Path:
    dirs = [d for d in runs.iterdir() if d.is_dir()] if runs.exists() else []
    assert len(dirs) == 1, f"expected one run directory in {runs}, found {dirs}"
    return dirs[0]


def run_ports(run_dir: Path) -> set[int]:
    """The ports of every node of a run, from the topology record of its observation log."""
    for line in (run_dir / "observations.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record["kind"] == "topology":
            return {int(n["address"].rsplit(":", 1)[1]) for n in record["nodes"].values()}
    raise AssertionError(f"no topology record in {run_dir}")


def configured_ports(run_dir: Path) -> set[int]:
    """Ports of a run's nodes from their generated configurations (written before any node starts)."""
    return {
        int(line.split()[1])
        for conf in run_dir.glob("config/*.conf")
        for line in conf.read_text().splitlines()
        if line.startswith("port ")
    }


def live_redis_processes(ports: set[int]) -> list[str]:
    """Running (not zombie) redis-server/redis-sentinel processes listening on any of the ports."""
    found: list[str] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state == "Z" or "redis-" not in cmdline:
            continue
        if any(f":{port}" in cmdline for port in ports):
            found.append(f"{entry.name} {cmdline.strip()}")
    return found


DOWN_AFTER_S = 1.5  # environments/sentinel-3.yaml's down-after-milliseconds
MAXMEMORY_LINE = "  maxmemory: 64mb"  # a line of environments/sentinel-3.yaml that tests edit around


def failover_on_edited_environment(tmp_path: Path, replacement: str) -> tuple[Path, Path, int]:
    """primary-failover on a copy of sentinel-3.yaml whose maxmemory line is replaced by `replacement`
    (one or more lines): (environment file, scenario file, the replacement's first line number)."""
    original = (ROOT / "environments" / "sentinel-3.yaml").read_text()
    env = tmp_path / "env.yaml"
    env.write_text(original.replace(f"{MAXMEMORY_LINE}\n", f"{replacement}\n"))
    scenario = tmp_path / "drill.yaml"
    scenario.write_text(
        (ROOT / "scenarios" / "primary-failover.yaml")
        .read_text()
        .replace("../environments/sentinel-3.yaml", str(env))
        .replace("../", f"{ROOT}/")
    )
    return env, scenario, original.splitlines().index(MAXMEMORY_LINE) + 1


def log_problems(run_dir: Path) -> list[str]:
    """Records of a run's log that do not match their kind's definition (harness/core/log_records.py)."""
    from harness.core.log_records import record_problems
    from harness.core.observation_log import read_log

    return sorted(record_problems(read_log(run_dir / "observations.jsonl")))


def run_id_of(run_dir: Path) -> str:
    first = json.loads((run_dir / "observations.jsonl").read_text().splitlines()[0])
    assert first["kind"] == "run"
    return str(first["run_id"])


def has_record(run_dir: Path, kind: str, **fields: object) -> bool:
    log = run_dir / "observations.jsonl"
    if not log.exists():
        return False
    for line in log.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if record["kind"] == kind and all(record.get(k) == v for k, v in fields.items()):
            return True
    return False


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    return tmp_path / "runs"
