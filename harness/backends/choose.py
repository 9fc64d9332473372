"""The backend a run asked for."""

from __future__ import annotations

from harness.backends.base import Backend
from harness.backends.local import LocalBackend
from harness.run_context import RunContext
from harness.scenario.model import Environment


def make_backend(
    name: str,
    env: Environment,
    run: RunContext,
    scenario: str,
    seed: int,
    allow_external_faults: bool = False,
) -> Backend:
    if env.external_compose_project is not None:
        from harness.backends.compose_lab import ComposeLabBackend

        return ComposeLabBackend(env, run, allow_external_faults)
    if name == "docker":
        from harness.backends.containers import DockerBackend  # the Docker SDK loads only when asked for

        return DockerBackend(env, run, scenario, seed)
    return LocalBackend(env, run, seed)
