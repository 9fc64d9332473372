"""Starts and stops the Locust worker processes of a multi-process load, tagged with the run."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

from harness.backends.reaper import kill_and_wait, register_pid
from harness.core.run_context import RunContext
from harness.load.worker_config import WorkerConfig


class WorkerPool:
    def __init__(self, run: RunContext) -> None:
        self._run = run
        self._procs: list[subprocess.Popen[bytes]] = []

    def start(self, count: int, template: WorkerConfig, secrets_env: dict[str, str]) -> None:
        """secrets_env: variables only the workers get (their credentials)."""
        log = (self._run.run_dir / "logs" / "load-workers.log").open("ab")
        try:
            for index in range(count):
                config = dataclasses.replace(template, index=index + 1)
                proc = subprocess.Popen(
                    [sys.executable, "-m", "harness.load.worker", config.to_json()],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env={**self._run.process_env(), **secrets_env},
                    start_new_session=True,
                )
                register_pid(self._run.work_dir, f"load-worker-{index + 1}", proc.pid)
                self._procs.append(proc)
        finally:
            log.close()

    def exited(self) -> list[int]:
        """Exit codes of workers that are gone."""
        return [code for code in (p.poll() for p in self._procs) if code is not None]

    def stop(self, grace: float = 5.0) -> None:
        """Wait for the workers to leave (the master told them to quit); end those that do not."""
        for proc in self._procs:
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                kill_and_wait([proc.pid])
                proc.wait()
