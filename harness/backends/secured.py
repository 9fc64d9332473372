"""Secured topologies: an ACL user per role with least privilege, the default user off, and TLS on every
link (clients, replication, Sentinel), with passwords and certificates made for the run.

Each user's password derives from one secret (named by the environment file, else random per run) and
lives only in memory and in the scratch directory's live configurations; the run directory's copies have
them blanked (node_configs.py). The rules follow Redis's ACL documentation
("ACL rules for Sentinel and Replicas") and what each of the harness's roles actually sends.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from harness.backends.certificates import NODE_FILES, make_certificates
from harness.core.access import ROLES, Access, Credentials, Role, TlsFiles, open_access
from harness.core.secrets import Secret
from harness.scenario.conf_values import render_value
from harness.scenario.model import Environment

# What a cluster client reads to route its keys, and an observer to follow failovers (-@dangerous and
# -@all take them away; on a Sentinel topology's nodes they answer an error and change nothing).
_SLOT_MAP = "+cluster|slots +cluster|nodes +cluster|info +cluster|myid"
# The harness's keys: drill:<run>:..., and {drill:<run>:...}:... where a hash tag keeps a group in one slot.
_OWN_KEYS = "~drill:* ~{drill:*"
# Data nodes. Rules apply left to right: -@dangerous after a category takes KEYS, FLUSHALL, CLIENT KILL ...
# back out of it; the + after it adds the few such commands a role needs.
DATA_RULES: dict[str, str] = {
    "operator": "~* &* +@all",  # the on-call engineer: faults and remediations need DEBUG, CONFIG, SHUTDOWN
    "monitor": (
        f"{_OWN_KEYS} resetchannels -@all +@connection +@read -@dangerous +info +role +set +del {_SLOT_MAP}"
    ),
    "load": (
        f"{_OWN_KEYS} resetchannels -@all +@connection +@read +@write +@transaction +@scripting -@dangerous "
        + _SLOT_MAP
    ),
    # prometheus-redis-exporter's documented needs (its README), reading no key values
    "exporter": (
        "~* resetchannels -@all +@connection -@dangerous +info +config|get +slowlog|get +slowlog|len "
        "+latency|latest +latency|histogram +client|list +client|info +memory|stats +dbsize +select "
        "+scan +type +strlen +llen +scard +zcard +hlen +xlen +pfcount +cluster|info +command"
    ),
    "replication": "resetchannels -@all +psync +replconf +ping",
    "sentinel": (
        "allchannels -@all +multi +slaveof +replicaof +ping +exec +subscribe +config|rewrite +role "
        "+publish +info +client|setname +client|kill +script|kill"
    ),
}
# Sentinels take ACL users too (Redis >= 6.2); peers authenticate with sentinel-user/sentinel-pass.
SENTINEL_RULES: dict[str, str] = {
    "operator": "&* +@all",
    "monitor": "allchannels -@all +@connection +psubscribe +subscribe +sentinel|get-master-addr-by-name",
    "load": "resetchannels -@all +@connection +sentinel|get-master-addr-by-name",
    "peer": "allchannels +@all",
}


@dataclass(frozen=True, slots=True)
class AclUser:
    name: str
    password: Secret
    rules: str

    def line(self) -> str:
        return f"user {self.name} on >{self.password.reveal()} {self.rules}"


@dataclass(frozen=True, slots=True)
class NodeSecurity:
    """What node configurations need: users, the nodes' own logins, and where their TLS files are."""

    data_users: tuple[AclUser, ...] = ()
    sentinel_users: tuple[AclUser, ...] = ()
    tls: TlsFiles | None = None  # the nodes' certificate, as paths the node itself sees
    requirepass: Secret | None = None  # an open topology's one password (environment `auth:`)

    def user(self, name: str) -> AclUser:
        return next(u for u in (*self.data_users, *self.sentinel_users) if u.name == f"drill-{name}")

    def redis_lines(self) -> list[str]:
        lines = tls_lines(self.tls)
        if self.requirepass is not None:
            # masterauth too: any node may become a replica of another after a failover.
            secret = render_value(self.requirepass.reveal())
            lines += [f"requirepass {secret}", f"masterauth {secret}"]
        if self.data_users:
            replication = self.user("replication")
            lines += ["user default off", *(u.line() for u in self.data_users)]
            lines += [f"masteruser {replication.name}", f"masterauth {replication.password.reveal()}"]
        return lines

    def sentinel_lines(self, master_name: str) -> list[str]:
        lines = tls_lines(self.tls)
        if self.requirepass is not None:
            lines.append(f"sentinel auth-pass {master_name} {render_value(self.requirepass.reveal())}")
        if self.sentinel_users:
            peer, login = self.user("peer"), self.user("sentinel")
            lines += ["user default off", *(u.line() for u in self.sentinel_users)]
            lines += [
                f"sentinel sentinel-user {peer.name}",
                f"sentinel sentinel-pass {peer.password.reveal()}",
                f"sentinel auth-user {master_name} {login.name}",
                f"sentinel auth-pass {master_name} {login.password.reveal()}",
            ]
        return lines

    def secrets(self) -> tuple[str, ...]:
        """Every password a configuration holds, as rendered there: blanked in the run directory's copies."""
        users = (u.password.reveal() for u in (*self.data_users, *self.sentinel_users))
        given = (render_value(self.requirepass.reveal()),) if self.requirepass else ()
        return (*users, *given)


def tls_lines(tls: TlsFiles | None) -> list[str]:
    """TLS directives (the port itself is the caller's: tls-port N and port 0). tls-replication makes a
    replica's link to its primary and every link of a Sentinel TLS too."""
    if tls is None:
        return []
    return [
        f"tls-cert-file {tls.cert}",
        f"tls-key-file {tls.key}",
        f"tls-ca-cert-file {tls.ca}",
        "tls-auth-clients yes",  # a client must present a certificate of the run's CA
        "tls-replication yes",
    ]


def derive_password(master: Secret, user: str) -> Secret:
    """A user's password: HMAC-SHA256 of its name under the master secret, so one named secret (or one
    random per run) yields every user's, and no two users share one."""
    digest = hmac.new(master.reveal().encode(), f"redis-drill:{user}".encode(), hashlib.sha256).digest()
    return Secret(base64.urlsafe_b64encode(digest).decode().rstrip("="))


def secure(
    env: Environment,
    run_id: str,
    scratch: Path,
    addresses: Iterable[str],
    node_tls_dir: str | None = None,
) -> tuple[Access, NodeSecurity]:
    """The clients' access and the nodes' security for one run of `env`. Certificates go to scratch/tls,
    valid for `addresses`; nodes see them under `node_tls_dir` (their own filesystem), else there."""
    password = env.password.resolve() if env.password else None
    spec = env.security
    if spec is None:
        return open_access(password), NodeSecurity(requirepass=password)
    certs = make_certificates(scratch / "tls", run_id, addresses) if spec.tls else None
    client_tls = certs.client if certs else None
    node_tls = certs.node if certs else None
    if node_tls is not None and node_tls_dir is not None:
        node_tls = TlsFiles(*(f"{node_tls_dir}/{name}" for name in NODE_FILES))
    master = spec.secret.resolve() if spec.secret else Secret(secrets.token_urlsafe(32))

    def users(rules: dict[str, str], where: str) -> tuple[AclUser, ...]:
        if not spec.acl:
            return ()
        return tuple(
            AclUser(f"drill-{role}", derive_password(master, f"{where}:{role}"), rule)
            for role, rule in rules.items()
            if not (env.cluster and role == "sentinel")  # a cluster has no Sentinel to log in
        )

    data_users = users(DATA_RULES, "redis")
    sentinel_users = () if env.cluster else users(SENTINEL_RULES, "sentinel")
    nodes = NodeSecurity(data_users, sentinel_users, node_tls, None if spec.acl else password)

    def table(users: tuple[AclUser, ...], fallback: Secret | None) -> tuple[tuple[Role, Credentials], ...]:
        by_name = {u.name: u for u in users}
        out: list[tuple[Role, Credentials]] = []
        for role in ROLES:
            user = by_name.get(f"drill-{role}")
            if user is None:
                out.append((role, Credentials(None, fallback, client_tls)))
            else:
                out.append((role, Credentials(user.name, user.password, client_tls)))
        return tuple(out)

    internal = tuple(u.password for u in (*data_users, *sentinel_users))
    data_password = None if spec.acl else password
    access = Access(
        table(data_users, data_password), table(sentinel_users, None), client_tls, spec.acl, internal
    )
    return access, nodes
