"""The backend a run asked for."""

from __future__ import annotations

from harness.backends.base import Backend
from harness.backends.local import LocalBackend
from harness.backends.netfilter import check_rights
from harness.core.observation_log import ObservationLog
from harness.core.run_context import RunContext
from harness.scenario.model import Environment


def require_partitions(name: str) -> None:
    """Before anything starts: the rights and tools per-peer partitions need on this backend (exit 3)."""
    check_rights(into_namespaces=name == "docker")


def make_backend(
    name: str,
    env: Environment,
    run: RunContext,
    scenario: str,
    seed: int,
    allow_external_faults: bool = False,
    log: ObservationLog | None = None,
) -> Backend:
    if env.external_deployment is not None:
        from harness.backends.addressed import AddressedBackend

        assert log is not None, "an addressed deployment's backend logs its control commands"
        return AddressedBackend(env, run, allow_external_faults, log)
    if env.external_compose_project is not None:
        from harness.backends.compose_lab import ComposeLabBackend

        return ComposeLabBackend(env, run, allow_external_faults)
    if name == "docker":
        from harness.backends.containers import DockerBackend  # the Docker SDK loads only when asked for

        return DockerBackend(env, run, scenario, seed)
    return LocalBackend(env, run, seed)
