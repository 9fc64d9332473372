"""Security probes at the start of a run: a client without credentials must be refused by every data node of
a password-protected topology. What each node answered goes into the log; runbooks/security.py judges it."""

from __future__ import annotations

import redis

from harness.backends.base import Topology
from harness.load.classify import reply_code
from harness.observe.log import ObservationLog
from harness.observe.probe import probe_client


def probe_without_credentials(topology: Topology, log: ObservationLog) -> None:
    for node in topology.data_nodes:
        try:
            with probe_client(node, timeout=1.0) as client:  # no password on purpose
                answer = str(client.ping())
            refused = False
        except redis.AuthenticationError as exc:
            answer, refused = f"NOAUTH {exc}"[:120], True
        except redis.ResponseError as exc:
            answer, refused = (
                f"{reply_code(exc)} {exc}"[:120],
                reply_code(exc) in ("NOAUTH", "NOPERM", "WRONGPASS"),
            )
        except redis.RedisError as exc:
            answer, refused = f"{type(exc).__name__}: {exc}"[:120], False
        log.append("security", check="unauthenticated", node=node.name, refused=refused, answer=answer)
