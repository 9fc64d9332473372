"""Security probes at the start of a run, on a topology with a password, ACL users or TLS. Each asks every
node for something it must refuse; what each answered goes into the log and runbooks/security.py judges it:
- unauthenticated: a client with no user and no password (over TLS when TLS is on) sends PING;
- plaintext: with TLS, a client without TLS sends PING;
- least-privilege: with ACL users, the load's user sends CONFIG GET dir (an operator's command);
- plaintext-bus: on a cluster with TLS, a plaintext cluster-bus message header is sent to each node's bus.
"""

from __future__ import annotations

import socket

import redis

from harness.clients.probe import probe_client
from harness.clients.replies import reply_code
from harness.core.access import Credentials
from harness.core.log_records import SecurityRecord
from harness.core.observation_log import ObservationLog
from harness.core.topology import Node, Topology

REFUSALS = ("NOAUTH", "NOPERM", "WRONGPASS")
BUS_OFFSET = 10_000  # cluster-port's default: each node's bus listens on its client port + 10000
# A bus message's first 8 bytes: the signature and a total length. A plaintext bus waits for the rest of the
# message; a TLS bus reads them as a broken handshake and closes the link.
BUS_HEADER = b"RCmb" + (2256).to_bytes(4, "big")
ANSWER_CHARS = 120


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
        if access.tls is not None and topology.cluster and node.kind == "redis":
            _log(log, "plaintext-bus", node, "bus header", *_bus_probe(node))


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
        answer, refused = f"NOAUTH {exc}", True
    except redis.ResponseError as exc:
        answer, refused = f"{reply_code(exc)} {exc}", reply_code(exc) in REFUSALS
    except redis.ConnectionError as exc:
        # Refused at the transport: the right outcome for a client without TLS, a failure otherwise
        # (the node should have answered with an error reply).
        answer, refused = f"{type(exc).__name__}: {exc}", check == "plaintext"
    except redis.RedisError as exc:
        answer, refused = f"{type(exc).__name__}: {exc}", False
    _log(log, check, node, command[0], refused, answer)


def _bus_probe(node: Node) -> tuple[bool, str]:
    """(refused, what happened) for a plaintext bus message header sent to the node's cluster bus."""
    try:
        with socket.create_connection((node.host, node.port + BUS_OFFSET), timeout=1.0) as sock:
            sock.sendall(BUS_HEADER)
            reply = sock.recv(64)
    except TimeoutError:
        return False, "waited for the rest of a plaintext bus message (the bus reads plaintext)"
    except ConnectionResetError:
        return True, "reset the link at a plaintext bus header (the bus speaks TLS)"
    except OSError as exc:
        return False, f"bus port {node.port + BUS_OFFSET}: {exc}"
    if not reply or reply[:1] == b"\x15":  # closed, or a TLS alert record
        return True, "closed the link at a plaintext bus header (the bus speaks TLS)"
    return False, f"answered {reply[:16]!r} to a plaintext bus header"


def _log(log: ObservationLog, check: str, node: Node, command: str, refused: bool, answer: str) -> None:
    log.write(
        SecurityRecord(
            t=log.now(),
            kind="security",
            check=check,
            node=node.name,
            command=command,
            refused=refused,
            answer=_short(answer),
        )
    )


def _short(text: str) -> str:
    """At most ANSWER_CHARS, cut at a word with an ellipsis: evidence quotes it inside a sentence."""
    if len(text) <= ANSWER_CHARS:
        return text
    return text[:ANSWER_CHARS].rsplit(" ", 1)[0] + " …"
