"""Subscribe to the events of every Sentinel: any single one may be the one that is cut off."""

from __future__ import annotations

import threading
from typing import Any

import redis

from harness.clients.probe import no_retry
from harness.observation_log import ObservationLog
from harness.topology import Node, Topology


def parse_event(topology: Topology, channel: str, data: str) -> dict[str, Any]:
    """Turn a Sentinel event message into log fields, naming nodes instead of addresses."""
    fields: dict[str, Any] = {"event": channel, "data": data}
    words = data.split()
    if channel == "+switch-master" and len(words) >= 5:
        old = topology.by_address(words[1], int(words[2])) if words[2].isdigit() else None
        new = topology.by_address(words[3], int(words[4])) if words[4].isdigit() else None
        fields.update(type="master", old=old.name if old else None, new=new.name if new else None)
        fields["node"] = fields["old"]
        return fields
    if len(words) >= 4 and words[0] in ("master", "slave", "sentinel") and words[3].isdigit():
        node = topology.by_address(words[2], int(words[3]))
        fields.update(type=words[0], node=node.name if node else f"{words[2]}:{words[3]}")
    return fields


def watch_sentinel(sentinel: Node, topology: Topology, log: ObservationLog, stop: threading.Event) -> None:
    """Log every event of one Sentinel until stop is set; reconnect (and log it) when the link breaks."""
    connected = False
    while not stop.is_set():
        client = redis.Redis(
            host=sentinel.host,
            port=sentinel.port,
            **topology.credentials("monitor", sentinel).redis_kwargs(),
            socket_timeout=1.0,
            socket_connect_timeout=0.5,
            retry=no_retry(),
            decode_responses=True,
        )
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.psubscribe("*")
            if not connected:
                log.append("observer", observer="sentinel-events", sentinel=sentinel.name, state="subscribed")
                connected = True
            while not stop.is_set():
                message = pubsub.get_message(timeout=0.2)
                if message is None or str(message["channel"]).startswith("__sentinel__"):
                    continue
                log.append(
                    "sentinel",
                    sentinel=sentinel.name,
                    **parse_event(topology, str(message["channel"]), str(message["data"])),
                )
        except redis.RedisError as exc:
            if connected:
                log.append(
                    "observer",
                    observer="sentinel-events",
                    sentinel=sentinel.name,
                    state="lost",
                    error=str(exc),
                )
                connected = False
            stop.wait(0.2)
        finally:
            pubsub.close()
            client.close()
