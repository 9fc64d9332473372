"""One bridge network per run, on a subnet the harness picks so nodes keep their address across a restart
or a disconnect/connect (Sentinel knows nodes by address; Docker only pins addresses on such subnets)."""

from __future__ import annotations

import ipaddress
import random

import docker
from docker.errors import APIError
from docker.models.networks import Network

from harness.core.errors import BackendError

# A /16 rarely used by default pools; each run takes one /24 of it.
POOL = ipaddress.IPv4Network("10.213.0.0/16")
LABEL_RUN = "redis-drill.run-id"
LABEL_SCENARIO = "redis-drill.scenario"
LABEL_NODE = "redis-drill.node"


def used_subnets(client: docker.DockerClient) -> list[ipaddress.IPv4Network]:
    used: list[ipaddress.IPv4Network] = []
    for network in client.networks.list():
        for pool in (network.attrs.get("IPAM") or {}).get("Config") or []:
            subnet = pool.get("Subnet", "")
            try:
                parsed = ipaddress.ip_network(subnet)
            except ValueError:
                continue
            if isinstance(parsed, ipaddress.IPv4Network):
                used.append(parsed)
    return used


def create_run_network(
    client: docker.DockerClient, run_id: str, scenario: str, rng: random.Random
) -> tuple[Network, ipaddress.IPv4Network]:
    """A labelled bridge network on a free /24 of POOL; retried when a concurrent run takes the same one."""
    candidates = list(POOL.subnets(new_prefix=24))
    rng.shuffle(candidates)
    for subnet in candidates:
        if any(subnet.overlaps(used) for used in used_subnets(client)):
            continue
        gateway = str(subnet.network_address + 1)
        ipam = docker.types.IPAMConfig(
            pool_configs=[docker.types.IPAMPool(subnet=str(subnet), gateway=gateway)]
        )
        try:
            network = client.networks.create(
                f"drill-{run_id}",
                driver="bridge",
                ipam=ipam,
                labels={LABEL_RUN: run_id, LABEL_SCENARIO: scenario},
            )
        except APIError as exc:
            if "overlap" in str(exc).lower():
                continue  # another run took it between the listing and the create
            raise BackendError(f"cannot create the run's Docker network: {exc}") from None
        return network, subnet
    raise BackendError(f"no free /24 left in {POOL} for the run's Docker network. Hint: `drill cleanup`")


def host_address(subnet: ipaddress.IPv4Network, index: int) -> str:
    """Address `index` of the subnet (1 is the gateway: the host's side of the bridge)."""
    return str(subnet.network_address + index)
