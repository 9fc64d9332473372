"""How each client of a run connects: which user, which password, which TLS files, per role and node kind.

An open topology gives every role empty credentials (or the one requirepass of `auth:`); a secured one
(environment `security:`) gives each role its own ACL user and every client the run's TLS files. The roles:
- operator: the harness acting as the on-call engineer (faults, remediations, readiness, read-back);
- monitor: observers that must not change anything but probe keys (INFO sampler, probes, event watchers);
- load: the Locust users (their own keys, reads, writes, transactions, scripts);
- exporter: prometheus-redis-exporter;
- replication and sentinel are the nodes' own links (masteruser, Sentinel auth-user) and live in configs.
"""

from __future__ import annotations

import json
import ssl
from dataclasses import dataclass
from typing import Any, Literal

from harness.core.secrets import Secret

Role = Literal["operator", "monitor", "load", "exporter"]
Kind = Literal["redis", "sentinel"]
ROLES: tuple[Role, ...] = ("operator", "monitor", "load", "exporter")


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """PEM files of a run's certificates: the CA every side trusts, and one side's certificate and key."""

    ca: str
    cert: str | None  # None: a client that presents no certificate (servers without tls-auth-clients)
    key: str | None

    def client_context(self) -> ssl.SSLContext:
        """Verifies the server against the run's CA, address included (the certificates name every
        address a client is handed, proxies too), and presents this certificate (tls-auth-clients)."""
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=self.ca)
        if self.cert and self.key:
            context.load_cert_chain(self.cert, self.key)
        return context


@dataclass(frozen=True, slots=True)
class Credentials:
    """What one client presents: an ACL user (None: the default user), its password, TLS files."""

    username: str | None = None
    password: Secret | None = None
    tls: TlsFiles | None = None

    def auth_args(self) -> tuple[str, ...]:
        """The AUTH command's arguments, or () when there is nothing to authenticate with."""
        if self.password is None:
            return ()
        secret = self.password.reveal()
        return ("AUTH", self.username, secret) if self.username else ("AUTH", secret)

    def redis_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for redis.Redis."""
        kwargs: dict[str, Any] = {}
        if self.password is not None:
            kwargs.update(username=self.username, password=self.password.reveal())
        if self.tls is not None:
            kwargs.update(
                ssl=True,
                ssl_ca_certs=self.tls.ca,
                ssl_certfile=self.tls.cert,
                ssl_keyfile=self.tls.key,
                ssl_cert_reqs="required",
                ssl_check_hostname=True,
            )
        return kwargs

    def without_secrets(self) -> Credentials:
        """The same connection with no user and no password: what an unauthenticated client presents."""
        return Credentials(tls=self.tls)


@dataclass(frozen=True, slots=True)
class Access:
    """Every role's credentials for data nodes and for Sentinels. Frozen; secrets hide from repr."""

    data: tuple[tuple[Role, Credentials], ...] = ()  # per role, on data nodes
    sentinel: tuple[tuple[Role, Credentials], ...] = ()  # per role, on Sentinels
    tls: TlsFiles | None = None  # the harness's client certificate and the CA, when TLS is on
    acl: bool = False  # each role has its own ACL user; the default user is off
    internal: tuple[Secret, ...] = ()  # the nodes' own passwords (replication, Sentinel auth, peers)

    def credentials(self, role: Role, kind: Kind = "redis") -> Credentials:
        table = self.data if kind == "redis" else self.sentinel
        return next((c for r, c in table if r == role), Credentials(tls=self.tls))

    def secrets(self) -> tuple[str, ...]:
        """Every password in play: what must never reach a log, a report or the run directory."""
        given = [c.password for _, c in (*self.data, *self.sentinel) if c.password]
        return tuple(sorted({s.reveal() for s in (*given, *self.internal)}))


def open_access(password: Secret | None) -> Access:
    """An open topology's access: no TLS, and the one requirepass (or none) on data nodes for every role."""
    if password is None:
        return Access()
    same = Credentials(password=password)
    return Access(data=tuple((role, same) for role in ROLES))


LOAD_CREDENTIALS_VAR = "REDIS_DRILL_LOAD_CREDENTIALS"  # load worker processes get theirs here, never argv


def credentials_to_json(pair: tuple[Credentials, Credentials]) -> str:
    """The load's (data node, Sentinel) credentials for a worker process's environment."""
    return json.dumps([_credentials_dict(c) for c in pair])


def credentials_from_json(text: str) -> tuple[Credentials, Credentials]:
    data, sentinel = (_credentials(item) for item in json.loads(text))
    return data, sentinel


def _credentials_dict(c: Credentials) -> dict[str, Any]:
    return {
        "username": c.username,
        "password": c.password.reveal() if c.password else None,
        "tls": [c.tls.ca, c.tls.cert, c.tls.key] if c.tls else None,
    }


def _credentials(item: dict[str, Any]) -> Credentials:
    password = Secret(item["password"]) if item["password"] else None
    return Credentials(item["username"], password, TlsFiles(*item["tls"]) if item["tls"] else None)
