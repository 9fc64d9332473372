"""Hosts for a deployment spread over machines, made on this one: network namespaces, each with its own
address on a Docker network of the test's own (whose rules let its members talk), its own sshd (Debian's
openssh-server) and a key the test makes. The harness, on the bridge's gateway, reaches the nodes at their
hosts' addresses and acts on the hosts only through `ssh HOST ...`, as a team drives its VMs."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import signal
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import docker

from tests.conftest import wait_until

SSHD = "/usr/sbin/sshd"
LABEL = "redis-drill.test"  # not the harness's run-id label: drill cleanup leaves the test's network alone


@dataclass(frozen=True, slots=True)
class Hosts:
    addresses: tuple[str, ...]
    namespaces: tuple[str, ...]
    network: str  # the hosts' network, for the environment's external.networks
    ssh_config: Path  # `ssh -F ssh_config HOST CMD` logs in as root with the test's key

    def launcher(self, host: str) -> tuple[str, ...]:
        """The argv prefix that runs a command on `host` the way its own init would: inside its namespace."""
        return ("ip", "netns", "exec", self.namespaces[self.addresses.index(host)])

    def ssh(self, host: str, command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ssh", "-F", str(self.ssh_config), host, command], capture_output=True, text=True, timeout=20
        )


def _run(*argv: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{' '.join(argv)}: {done.stderr}"


@contextmanager
def three_hosts(root: Path, count: int = 3) -> Iterator[Hosts]:
    tag = secrets.token_hex(3)
    subnet = ipaddress.ip_network(f"10.213.{secrets.randbelow(250) + 1}.0/24")
    client = docker.from_env()
    network = client.networks.create(
        f"drill-hosts-{tag}",
        driver="bridge",
        labels={LABEL: "their-hosts"},
        ipam=docker.types.IPAMConfig(
            pool_configs=[docker.types.IPAMPool(subnet=str(subnet), gateway=str(subnet[1]))]
        ),
    )
    bridge = f"br-{network.id[:12]}"
    root.mkdir(parents=True, exist_ok=True)
    key, host_key = root / "id_ed25519", root / "host_ed25519"
    namespaces = [f"dh{tag}{i}" for i in range(1, count + 1)]
    addresses = [str(subnet[10 + i]) for i in range(1, count + 1)]
    pidfiles: list[Path] = []
    try:
        wait_until(lambda: Path(f"/sys/class/net/{bridge}").exists(), 10, f"Docker's bridge {bridge}")
        _run("ip", "link", "set", bridge, "up")
        for path in (key, host_key):
            _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"drill-test-{tag}", "-f", str(path))
        (root / "authorized_keys").write_text(Path(f"{key}.pub").read_text())
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation directory
        for namespace, address in zip(namespaces, addresses, strict=True):
            _run("ip", "netns", "add", namespace)
            inside = ("ip", "netns", "exec", namespace)
            _run(*inside, "ip", "link", "set", "lo", "up")
            _run("ip", "link", "add", f"{namespace}h", "type", "veth", "peer", "name", f"{namespace}n",
                 "netns", namespace)  # fmt: skip
            _run("ip", "link", "set", f"{namespace}h", "master", bridge, "up")
            _run(*inside, "ip", "addr", "add", f"{address}/{subnet.prefixlen}", "dev", f"{namespace}n")
            _run(*inside, "ip", "link", "set", f"{namespace}n", "up")
            pidfile = root / f"sshd-{address}.pid"
            config = root / f"sshd-{address}.conf"
            config.write_text(
                f"ListenAddress {address}\nPort 22\nHostKey {host_key}\nPidFile {pidfile}\n"
                f"AuthorizedKeysFile {root / 'authorized_keys'}\nPermitRootLogin prohibit-password\n"
                "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
                "AcceptEnv none\nUseDNS no\n"
            )
            _run(*inside, SSHD, "-f", str(config), "-E", str(root / f"sshd-{address}.log"))
            pidfiles.append(pidfile)
        ssh_config = root / "ssh_config"
        ssh_config.write_text(
            f"Host {' '.join(addresses)}\n  User root\n  IdentityFile {key}\n  IdentitiesOnly yes\n"
            "  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  BatchMode yes\n"
            "  LogLevel ERROR\n  ConnectTimeout 5\n"
            # One connection per host for every command, as a team running many would: a command is a
            # channel on it, not a new handshake (0.4-1 s on this machine under load). A socket's path
            # must be short: /tmp, not the test's directory.
            f"  ControlMaster auto\n  ControlPath /tmp/dh{tag}-%C\n  ControlPersist 120\n"
        )
        hosts = Hosts(tuple(addresses), tuple(namespaces), str(subnet), ssh_config)
        for address in addresses:
            wait_until(partial(_answers, address, 22), 10, f"sshd on {address}")
            wait_until(partial(_logs_in, hosts, address), 15, f"ssh to {address}")
        yield hosts
    finally:
        for address in addresses:  # the shared connections' masters
            stop = ["ssh", "-F", str(root / "ssh_config"), "-O", "exit", address]
            subprocess.run(stop, capture_output=True, check=False)
        for pidfile in pidfiles:
            with contextlib.suppress(OSError, ValueError):
                os.kill(int(pidfile.read_text()), signal.SIGTERM)
        for namespace in namespaces:
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, check=False)
        network.remove()


def _logs_in(hosts: Hosts, address: str) -> bool:
    return hosts.ssh(address, "true").returncode == 0


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False
