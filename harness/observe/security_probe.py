"""Security probes at the start of a run, on a topology with a password, ACL users or TLS. Each asks every
node for something it must refuse; what each answered goes into the log and runbooks/security.py judges it:
- unauthenticated: a client with no user and no password (over TLS when TLS is on) sends PING;
- plaintext: with TLS, a client without TLS sends PING;
- least-privilege: with ACL users, the load's user sends CONFIG GET dir (an operator's command).
"""

from __future__ import annotations

import redis

from harness.clients.probe import probe_client
from harness.clients.replies import reply_code
from harness.core.access import Credentials
from harness.core.log_records import SecurityRecord
from harness.core.observation_log import ObservationLog
from harness.core.topology import Node, Topology

REFUSALS = ("NOAUTH", "NOPERM", "WRONGPASS")


def probe_security(topology: Topology, log: ObservationLog) -> None:
    access = topology.access
    if not access.secrets() and access.tls is None:
        return  # an open topology: nothing is supposed to be refused
    for node in topology.nodes:
        own = topology.credentials("operator", node)
        # Only where some login is required: TLS alone (or auth: on data nodes only) lets anyone in.
        if access.secrets() and (node.kind == "redis" or access.acl):
            _probe(log, "unauthenticated", node, own.without_secrets(), ("PING",))
        if access.tls is not None:
            _probe(log, "plaintext", node, Credentials(), ("PING",))
        if access.acl:
            _probe(log, "least-privilege", node, topology.credentials("load", node), _admin_command(node))


def _admin_command(node: Node) -> tuple[str, ...]:
    return ("CONFIG", "GET", "dir") if node.kind == "redis" else ("SENTINEL", "MASTERS")


def _probe(
    log: ObservationLog, check: str, node: Node, credentials: Credentials, command: tuple[str, ...]
) -> None:
    try:
        with probe_client(node, 1.0, credentials) as client:
            answer = str(client.execute_command(*command))[:80]
        refused = False
    except redis.AuthenticationError as exc:
        answer, refused = f"NOAUTH {exc}"[:120], True
    except redis.ResponseError as exc:
        answer, refused = f"{reply_code(exc)} {exc}"[:120], reply_code(exc) in REFUSALS
    except redis.ConnectionError as exc:
        # Refused at the transport: the right outcome for a client without TLS, a failure otherwise
        # (the node should have answered with an error reply).
        answer, refused = f"{type(exc).__name__}: {exc}"[:120], check == "plaintext"
    except redis.RedisError as exc:
        answer, refused = f"{type(exc).__name__}: {exc}"[:120], False
    log.write(
        SecurityRecord(
            t=log.now(),
            kind="security",
            check=check,
            node=node.name,
            command=command[0],
            refused=refused,
            answer=answer,
        )
    )
