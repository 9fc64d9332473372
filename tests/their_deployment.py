"""A Sentinel deployment started the way a team runs one, outside the harness: plain daemonized redis-server
and redis-sentinel processes with pid files, each on its own loopback address, with data of "theirs". Tests
drill it by address (environment `external.sentinels`) with control commands written as a team would."""

from __future__ import annotations

import os
import random
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from harness.backends.certificates import RunCertificates, make_certificates
from harness.core.access import Credentials
from harness.core.secrets import Secret
from tests.conftest import wait_until
from tests.their_hosts import Hosts

SENTINEL_PASSWORD_ENV = "THEIR_SENTINEL_PASSWORD"  # where a secured deployment's drill finds it
SERVER = "/usr/bin/redis-server"  # Debian's: the deployment's own build, not one of the harness's engines
DOWN_AFTER_MS = 1500
FAILOVER_TIMEOUT_MS = 5000
# The team's own packet filter: a table per node, dropping what its peers send to its port ({{ }}: braces).
TABLE = "ip theirs_{port}"
# One nft run of three commands: a process less on a busy host (over SSH, the cut lands sooner).
ISOLATE = (
    f"nft 'add table {TABLE}; add chain {TABLE} in {{{{ type filter hook input priority 0; }}}}; "
    f"add rule {TABLE} in ip saddr {{{{ {{peers}} }}}} ip daddr {{host}} tcp dport {{port}} drop'"
)
REJOIN = f"nft delete table {TABLE}"
# The team's start for a data node, as Helm charts' start scripts do it: a node the Sentinels no longer name
# primary comes back as a replica of the one they name, instead of as a second primary that Sentinel demotes
# 8-10 s later.
START_SCRIPT = """#!/bin/sh
conf=$1; host=$2; port=$3
{login}for sentinel in {sentinels}; do
  master=$(redis-cli {cli_tls}-h "${{sentinel%:*}}" -p "${{sentinel##*:}}" --raw \\
    sentinel get-master-addr-by-name mymaster 2>/dev/null | tr '\\n' ' ')
  [ -n "$master" ] && break
done
set -- $master
if [ -n "$1" ] && [ "$1:$2" != "$host:$port" ]; then
  exec {server} "$conf" --replicaof "$1" "$2"
fi
exec {server} "$conf"
"""


def _password() -> str:
    return secrets.token_hex(12)


@dataclass(frozen=True, slots=True)
class Secured:
    """A deployment's logins as a team that locks it down sets them: no default user on the data nodes; its
    own admin; the users it gives the drill tool (operator: everything; load: only keys under the drill's
    prefix); replication and Sentinel with users of their own; a requirepass on the Sentinels."""

    secrets_dir: Path
    certificates: RunCertificates  # their CA; the nodes' certificate; the one they give the drill tool
    admin: str = field(default_factory=_password)
    operator: str = field(default_factory=_password)
    load: str = field(default_factory=_password)
    replication: str = field(default_factory=_password)
    monitoring: str = field(default_factory=_password)  # Sentinel's user on the data nodes
    sentinels: str = field(default_factory=_password)  # the Sentinels' requirepass

    def acl_lines(self) -> list[str]:
        return [
            "user default off",
            f"user admin on >{self.admin} ~* &* +@all",
            f"user drill-ops on >{self.operator} ~* &* +@all",
            f"user drill-load on >{self.load} ~staging-drill:* ~{{staging-drill:* resetchannels "
            "+@read +@write +@transaction +@scripting +@connection -@dangerous",
            f"user replicator on >{self.replication} +psync +replconf +ping",
            f"user sentinel on >{self.monitoring} allchannels +multi +slaveof +ping +exec +subscribe "
            "+config|rewrite +role +publish +info +client|setname +client|kill +script|kill",
            "masteruser replicator",
            f"masterauth {self.replication}",
        ]

    def sentinel_lines(self) -> list[str]:
        return [
            f"requirepass {self.sentinels}",
            f"sentinel sentinel-pass {self.sentinels}",  # how they talk to each other
        ]

    def tls_lines(self, port: int) -> list[str]:
        """TLS only (no plain port), clients must present a certificate of their CA, replication and
        Sentinel's links too."""
        node = self.certificates.node
        return [
            "port 0",
            f"tls-port {port}",
            f"tls-cert-file {node.cert}",
            f"tls-key-file {node.key}",
            f"tls-ca-cert-file {node.ca}",
            "tls-auth-clients yes",
            "tls-replication yes",
        ]

    def cli_tls(self) -> str:
        client = self.certificates.client
        return f"--tls --cacert {client.ca} --cert {client.cert} --key {client.key} "

    def password_file(self, name: str) -> Path:
        """Where the drill's own password `name` (operator, load, sentinels) is kept."""
        return self.secrets_dir / name

    def write_password_files(self) -> None:
        """The drill's own passwords, each in a file only root reads, as a team hands them out."""
        self.secrets_dir.mkdir(mode=0o700, exist_ok=True)
        for name, value in (("operator", self.operator), ("load", self.load), ("sentinels", self.sentinels)):
            path = self.password_file(name)
            path.write_text(value + "\n")
            path.chmod(0o600)

    def values(self) -> tuple[str, ...]:
        return (self.admin, self.operator, self.load, self.replication, self.monitoring, self.sentinels)


@dataclass(frozen=True, slots=True)
class Process:
    name: str
    host: str
    port: int
    conf: Path
    pidfile: Path
    launch: tuple[str, ...] = ()  # how its host runs a command (inside the host's namespace), or nothing
    login: Credentials = field(default_factory=Credentials)  # the team's admin login, where secured

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def client(self) -> redis.Redis:
        return redis.Redis(self.host, self.port, socket_timeout=2, **self.login.redis_kwargs())


@dataclass(frozen=True, slots=True)
class Deployment:
    data: tuple[Process, ...]  # data[0] is the first primary
    sentinels: tuple[Process, ...]
    start_script: Path  # the team's start for a data node: START CONF HOST PORT
    secured: Secured | None = None

    def environment_yaml(self, name: str = "their-staging") -> str:
        """An environment file as the team would write it: Sentinels by address, their own commands."""
        every = (*self.data, *self.sentinels)
        nodes = "\n".join(f"    {p.address}: {{pidfile: {p.pidfile}, conf: {p.conf}}}" for p in every)
        sentinels = ", ".join(s.address for s in self.sentinels)
        return (
            f"name: {name}\nconfirm: {name}\nmaster_name: mymaster\nreplicas: {len(self.data) - 1}\n"
            f"sentinels: {{count: {len(self.sentinels)}, quorum: 2, "
            f"down-after-milliseconds: {DOWN_AFTER_MS}, failover-timeout: {FAILOVER_TIMEOUT_MS}, "
            "parallel-syncs: 1}\nreadiness_timeout: 20s\n"
            "external:\n"
            f"  sentinels: [{sentinels}]\n"
            "  key_prefix: staging-drill\n"  # every key of a run: staging-drill:<run id>:...
            "  control:\n"
            "    timeout: 10s\n"
            '    kill: [sh, -c, "kill -KILL $(cat {pidfile})"]\n'
            f"    start: [sh, {self.start_script}, '{{conf}}', '{{host}}', '{{port}}']\n"
            '    stop: [sh, -c, "kill -TERM $(cat {pidfile})"]\n'
            '    pause: [sh, -c, "kill -STOP $(cat {pidfile})"]\n'
            '    resume: [sh, -c, "kill -CONT $(cat {pidfile})"]\n'
            '    status: [sh, -c, "kill -0 $(cat {pidfile})"]\n'
            f'    isolate: [sh, -c, "{ISOLATE}"]\n'
            f'    rejoin: [sh, -c, "{REJOIN}"]\n'
            f"{self._logins_yaml()}"
            f"  nodes:\n{nodes}\n"
        )

    def _logins_yaml(self) -> str:
        """The drill's logins, where the deployment is secured: users by file, the Sentinels' by variable."""
        if self.secured is None:
            return ""
        secured = self.secured
        client = secured.certificates.client
        return (
            "  users:\n"
            f"    operator: {{user: drill-ops, password_file: {secured.password_file('operator')}}}\n"
            f"    load: {{user: drill-load, password_file: {secured.password_file('load')}}}\n"
            f"  sentinel_auth: {{password_env: {SENTINEL_PASSWORD_ENV}}}\n"
            f"  tls: {{ca: {client.ca}, cert: {client.cert}, key: {client.key}}}\n"
        )

    def ssh_environment_yaml(self, hosts: Hosts, name: str = "their-staging") -> str:
        """The same deployment as its team drives it over SSH: every command runs on the node's host."""
        ssh = f"ssh, -F, {hosts.ssh_config}, '{{host}}'"
        local = self.environment_yaml(name)
        head, _, _ = local.partition("  control:\n")
        nodes = local[local.index("  nodes:\n") :]
        return (
            head.replace("external:\n", f"external:\n  networks: [{hosts.network}]\n")
            + "  control:\n    timeout: 15s\n"
            f'    kill: [{ssh}, "kill -KILL $(cat {{pidfile}}) && echo killed {{node}} on $(hostname -I)"]\n'
            f'    start: [{ssh}, "sh {self.start_script} {{conf}} {{host}} {{port}}'
            ' && echo started {node} on $(hostname -I)"]\n'
            f'    stop: [{ssh}, "kill -TERM $(cat {{pidfile}})"]\n'
            f'    pause: [{ssh}, "kill -STOP $(cat {{pidfile}})"]\n'
            f'    resume: [{ssh}, "kill -CONT $(cat {{pidfile}})"]\n'
            f'    status: [{ssh}, "kill -0 $(cat {{pidfile}})"]\n'
            f'    isolate: [{ssh}, "{ISOLATE}"]\n'
            f'    rejoin: [{ssh}, "{REJOIN}"]\n' + nodes
        )

    def primary(self) -> Process:
        for process in self.data:
            try:
                if process.client().info("replication")["role"] == "master":
                    return process
            except redis.RedisError:
                continue
        raise AssertionError("no primary answers")

    def healthy(self) -> bool:
        """One primary with every replica online, and every Sentinel naming it."""
        try:
            primary = self.primary()
            info = primary.client().info("replication")
            named = {_named(s) for s in self.sentinels}
        except (redis.RedisError, AssertionError):
            return False
        links = [v for k, v in info.items() if k.startswith("slave") and isinstance(v, dict)]
        online = [link for link in links if link.get("state") == "online"]
        return len(online) == len(self.data) - 1 and named == {(primary.host, primary.port)}


def _named(sentinel: Process) -> tuple[str, int]:
    address: Any = sentinel.client().sentinel_get_master_addr_by_name("mymaster")
    host, port = address
    return (host.decode() if isinstance(host, bytes) else str(host)), int(port)


def _start(process: Process, *options: str) -> None:
    subprocess.run(
        [*process.launch, SERVER, str(process.conf), *options], check=True, stdout=subprocess.DEVNULL
    )


@contextmanager
def their_deployment(
    root: Path, replicas: int = 2, sentinels: int = 3, hosts: Hosts | None = None, secured: bool = False
) -> Iterator[Deployment]:
    """Start the deployment under `root` (each process on a loopback address of its own, or the i-th data
    node and the i-th Sentinel on the i-th of `hosts`), locked down with logins and TLS where `secured`; stop
    every process of it on the way out."""
    block = f"127.77.{random.randrange(1, 255)}"
    ports = iter(range(16000 + random.randrange(0, 2000) * 4, 65000))
    root.mkdir(parents=True, exist_ok=True)
    loopbacks = (*range(11, 12 + replicas), *range(21, 21 + sentinels))  # place()'s last octets
    addresses = hosts.addresses if hosts else tuple(f"{block}.{last}" for last in loopbacks)
    certificates = make_certificates(root / "certificates", "theirs", addresses) if secured else None
    locked = Secured(root / "secrets", certificates) if certificates else None
    if locked:
        locked.write_password_files()
    their_tls = locked.certificates.client if locked else None

    def place(i: int, loopback: int) -> tuple[str, tuple[str, ...]]:
        if hosts is None:
            return f"{block}.{loopback}", ()
        host = hosts.addresses[i % len(hosts.addresses)]
        return host, hosts.launcher(host)

    admin = Credentials("admin", Secret(locked.admin), their_tls) if locked else Credentials()
    data: list[Process] = []
    for i in range(replicas + 1):
        host, launch = place(i, 11 + i)
        data.append(_process(root, f"redis-{i + 1}", host, next(ports), launch, admin))
    for process in data:
        lines = [
            f"port {process.port}",
            f"bind {process.host}",
            f"bind-source-addr {process.host}",
            "daemonize yes",
            "protected-mode no",  # Redis counts only 127.0.0.1 as local, and these peers use 127.77.x.y
            f"pidfile {process.pidfile}",
            f"dir {process.conf.parent}",
            f"logfile {process.conf.parent / 'redis.log'}",
            'save ""',
            "appendonly no",
            "repl-diskless-sync yes",
            "repl-diskless-sync-delay 0",
            "enable-debug-command local",  # a team that allows DEBUG SLEEP drills
            "enable-protected-configs local",  # and CONFIG SET dir (misconf) from this host
            f"replica-announce-ip {process.host}",
        ]
        if process is not data[0]:
            lines.append(f"replicaof {data[0].host} {data[0].port}")
        lines += [*locked.acl_lines(), *locked.tls_lines(process.port)] if locked else []
        process.conf.write_text("\n".join(lines) + "\n")
    watchers: list[Process] = []
    for i in range(sentinels):
        host, launch = place(i, 21 + i)
        sentinel_login = Credentials(None, Secret(locked.sentinels), their_tls) if locked else Credentials()
        process = _process(root, f"sentinel-{i + 1}", host, next(ports), launch, sentinel_login)
        lines = [
            f"port {process.port}",
            f"bind {process.host}",
            f"bind-source-addr {process.host}",
            "daemonize yes",
            "protected-mode no",
            f"pidfile {process.pidfile}",
            f"dir {process.conf.parent}",
            f"logfile {process.conf.parent / 'sentinel.log'}",
            f"sentinel monitor mymaster {data[0].host} {data[0].port} 2",
            f"sentinel down-after-milliseconds mymaster {DOWN_AFTER_MS}",
            f"sentinel failover-timeout mymaster {FAILOVER_TIMEOUT_MS}",
            "sentinel parallel-syncs mymaster 1",
        ]
        if locked:
            lines += [
                "sentinel auth-user mymaster sentinel",
                f"sentinel auth-pass mymaster {locked.monitoring}",
                *locked.sentinel_lines(),
                *locked.tls_lines(process.port),
            ]
        process.conf.write_text("\n".join(lines) + "\n")
        watchers.append(process)
    start_script = root / "start-data-node.sh"
    # A secured deployment's script asks its Sentinels with their password, from the file only root reads.
    asking = f"export REDISCLI_AUTH=$(cat {locked.password_file('sentinels')})\n" if locked else ""
    start_script.write_text(
        START_SCRIPT.format(
            server=SERVER,
            sentinels=" ".join(f"{s.host}:{s.port}" for s in watchers),
            login=asking,
            cli_tls=locked.cli_tls() if locked else "",
        )
    )
    deployment = Deployment(tuple(data), tuple(watchers), start_script, locked)
    try:
        for process in data:
            _start(process)
        for process in watchers:
            _start(process, "--sentinel")
        wait_until(lambda: _sentinels_know_all(deployment), 30, "their Sentinels to know every node")
        yield deployment
    finally:
        for process in (*watchers, *data):
            _stop(process)


def _sentinels_know_all(deployment: Deployment) -> bool:
    try:
        for sentinel in deployment.sentinels:
            client = sentinel.client()
            master: Any = client.sentinel_master("mymaster")
            if int(master["num-slaves"]) != len(deployment.data) - 1:
                return False
            if int(master["num-other-sentinels"]) != len(deployment.sentinels) - 1:
                return False
    except redis.RedisError:
        return False
    return deployment.healthy()


def _process(
    root: Path,
    name: str,
    host: str,
    port: int,
    launch: tuple[str, ...],
    login: Credentials,
) -> Process:
    home = root / name
    home.mkdir(parents=True)
    return Process(name, host, port, home / f"{name}.conf", home / f"{name}.pid", launch, login)


def _stop(process: Process) -> None:
    try:
        pid = int(process.pidfile.read_text())
    except (OSError, ValueError):
        return
    for sig in (signal.SIGCONT, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and os.path.exists(f"/proc/{pid}"):
        time.sleep(0.02)
