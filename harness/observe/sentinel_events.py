"""Subscribe to the events of every Sentinel: any single one may be the one that is cut off."""

from __future__ import annotations

import threading

import redis

from harness.clients.probe import no_retry
from harness.core.log_records import ObserverRecord, SentinelRecord
from harness.core.observation_log import ObservationLog
from harness.core.topology import Node, Topology


def parse_event(t: float, sentinel: str, topology: Topology, channel: str, data: str) -> SentinelRecord:
    """Turn a Sentinel event message into its log record, naming nodes instead of addresses."""
    record = SentinelRecord(t=t, kind="sentinel", sentinel=sentinel, event=channel, data=data)
    words = data.split()
    if channel == "+switch-master" and len(words) >= 5:
        old = topology.by_address(words[1], int(words[2])) if words[2].isdigit() else None
        new = topology.by_address(words[3], int(words[4])) if words[4].isdigit() else None
        record["type"] = "master"
        record["old"] = record["node"] = old.name if old else None
        record["new"] = new.name if new else None
    elif len(words) >= 4 and words[0] in ("master", "slave", "sentinel") and words[3].isdigit():
        node = topology.by_address(words[2], int(words[3]))
        record["type"] = words[0]
        record["node"] = node.name if node else f"{words[2]}:{words[3]}"
    return record


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
                log.write(_observer(log, sentinel, "subscribed"))
                connected = True
            while not stop.is_set():
                message = pubsub.get_message(timeout=0.2)
                if message is None or str(message["channel"]).startswith("__sentinel__"):
                    continue
                log.write(
                    parse_event(
                        log.now(), sentinel.name, topology, str(message["channel"]), str(message["data"])
                    )
                )
        except redis.RedisError as exc:
            if connected:
                lost = _observer(log, sentinel, "lost")
                lost["error"] = str(exc)
                log.write(lost)
                connected = False
            stop.wait(0.2)
        finally:
            pubsub.close()
            client.close()


def _observer(log: ObservationLog, sentinel: Node, state: str) -> ObserverRecord:
    return ObserverRecord(
        t=log.now(), kind="observer", observer="sentinel-events", sentinel=sentinel.name, state=state
    )
