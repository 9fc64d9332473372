"""Finding a deployment by address: the first of the given nodes (Sentinels, or a cluster's seeds) that
answers, within the readiness timeout, describes it; what it names must be reachable from here; and, at the
end, each primary has exactly the replicas online it was found with."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import redis

from harness.clients.probe import parse_replica_lines, probe_client
from harness.clients.waiting import wait_for
from harness.core.access import Access
from harness.core.errors import BackendError
from harness.core.loopback import RANGE, allowed
from harness.core.topology import Node, NodeKind, Topology
from harness.scenario.model import AddressedDeployment, Environment

T = TypeVar("T")


def first_answer(
    env: Environment,
    given: tuple[tuple[str, int], ...],
    kind: NodeKind,
    access: Access,
    ask: Callable[[redis.Redis], T],
    what: str,
    hint: str,
) -> T:
    """ask(client) on the first of `given` that answers; every address's error, with exit 3, when none
    does within the environment's readiness timeout."""
    assert env.external_deployment is not None
    deployment = env.external_deployment
    answers: list[T] = []
    errors: dict[str, str] = {}

    def attempt() -> str | None:
        for address in given:
            node = Node("{}:{}".format(*address), kind, *deployment.reach(address))
            try:
                with probe_client(node, 1.0, access.credentials("operator", kind)) as client:
                    answers.append(ask(client))
                    return None
            except redis.RedisError as exc:
                errors[node.name] = f"{type(exc).__name__}: {exc}"
        return "; ".join(f"{where}: {why}" for where, why in errors.items())

    wait_for(attempt, timeout=env.readiness_timeout, what=what, hint=hint)
    return answers[-1]


def require_reachable(deployment: AddressedDeployment, address: tuple[str, int], named: str) -> None:
    """A node the deployment names must be on loopback or in its networks (once mapped): a drill does not
    wander. `named`: who named it, as part of what, for the message."""
    if not allowed(deployment.reach(address)[0], deployment.networks):
        inside = ", ".join([RANGE, *map(str, deployment.networks)])
        raise BackendError(
            f"{named.format(address='{}:{}'.format(*address))}, which is in none of the networks this drill "
            f"may reach ({inside}). Hint: add its network to external.networks, or map it to a forwarded "
            "port in external.address_map"
        )


def replicas_differ(topology: Topology, primary: Node, expected: int) -> list[str]:
    """What differs from `expected` replicas online on the primary (exactly: readiness, in topology_ready,
    asks for at least as many; a deployment put back must be as it was found)."""
    try:
        with probe_client(primary, 0.5, topology.credentials("operator", primary)) as client:
            lines = parse_replica_lines(client.info("replication"))
    except redis.RedisError as exc:
        return [f"{primary.name} (a primary) does not answer ({type(exc).__name__})"]
    online = [line for line in lines if line.get("state") == "online"]
    return (
        [f"{primary.name} has {len(online)} of {expected} replicas online"] if len(online) != expected else []
    )
