"""How the harness logs in to a deployment it did not start (environment `external.users`,
`external.sentinel_auth`, `external.tls`, and `auth:`): each role with the team's own ACL user and password,
read from the variable or file the environment names when the run starts, and the team's TLS files."""

from __future__ import annotations

from collections.abc import Collection

import redis

from harness.clients.probe import probe_client
from harness.core.access import ROLES, Access, Credentials, Role, TlsFiles
from harness.core.topology import Topology
from harness.scenario.model import Environment, ExternalLogin


def external_access(env: Environment) -> Access:
    """Every role's credentials. A role the file gives no user logs in as the operator's user, else with
    auth:'s password (the default user), else with none. Their ACL rules are theirs: the run does not judge
    least privilege on their deployment (`acl` stays off)."""
    deployment = env.external_deployment
    assert deployment is not None
    files = deployment.tls
    tls = (
        TlsFiles(
            str(files.ca), str(files.cert) if files.cert else None, str(files.key) if files.key else None
        )
        if files
        else None
    )

    def login(given: ExternalLogin) -> Credentials:
        return Credentials(given.user, given.password.resolve(), tls)

    logins = {role: login(given) for role, given in deployment.logins}
    default = Credentials(password=env.password.resolve() if env.password else None, tls=tls)
    sentinel = login(deployment.sentinel_login) if deployment.sentinel_login else Credentials(tls=tls)

    def credentials(role: Role) -> Credentials:
        whose = login_of(role, logins)
        return logins[whose] if whose else default

    return Access(
        data=tuple((role, credentials(role)) for role in ROLES),
        sentinel=tuple((role, sentinel) for role in ROLES),
        tls=tls,
    )


def login_of(role: Role, given: Collection[str]) -> Role | None:
    """Whose login the role uses: its own where the file gives one, else the operator's, else None (the
    default user, with auth:'s password if there is one). `drill plan` says the same."""
    if role in given:
        return role
    return "operator" if "operator" in given else None


def refused_logins(topology: Topology) -> list[str]:
    """Each distinct login tried once (PING) on the first data node and the first Sentinel: a wrong user or
    password is said at the start, by role and user, instead of as a drill whose load fails every command.
    A node that does not answer is readiness's to report, and a login the server accepts but that may not
    PING is the team's ACL, not a refusal."""
    refused: list[str] = []
    for node in (*topology.data_nodes[:1], *topology.sentinels[:1]):
        tried: list[Credentials] = []
        for role in ROLES:
            credentials = topology.credentials(role, node)
            if credentials in tried:
                continue
            tried.append(credentials)
            try:
                with probe_client(node, 2.0, credentials) as client:
                    client.ping()
            except redis.AuthenticationError as exc:
                user = credentials.username or "the default user"
                login = role if node.kind == "redis" else "sentinel_auth"  # one login for every role there
                refused.append(f"{login} ({user}) on {node.name} {node.address}: {str(exc).rstrip('.')}")
            except redis.RedisError:
                continue
    return refused
