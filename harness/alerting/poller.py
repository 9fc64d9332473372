"""Watch Prometheus's alerts during a drill and log every change: pending, firing, resolved (gone)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

from harness.core.log_records import AlertPollErrorRecord, AlertRecord
from harness.core.observation_log import ObservationLog
from harness.core.topology import Topology

POLL_INTERVAL_S = 0.25


def node_of(instance: str, topology: Topology) -> str:
    """The node an exporter target ("redis://host:port") names; the instance itself if none."""
    address = instance.split("://", 1)[-1]
    host, _, port = address.rpartition(":")
    node = topology.by_address(host, int(port)) if port.isdigit() else None
    return node.name if node else instance


def watch_alerts(api: str, topology: Topology, log: ObservationLog, stop: threading.Event) -> None:
    states: dict[tuple[str, str], str] = {}
    while not stop.wait(POLL_INTERVAL_S):
        try:
            with urllib.request.urlopen(f"{api}/api/v1/alerts", timeout=1) as response:
                alerts = json.load(response)["data"]["alerts"]
        except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:160]
            log.write(AlertPollErrorRecord(t=log.now(), kind="alert_poll_error", error=error))
            continue
        now: dict[tuple[str, str], str] = {}
        for alert in alerts:
            labels = alert.get("labels", {})
            key = (str(labels.get("alertname")), node_of(str(labels.get("instance", "")), topology))
            now[key] = str(alert.get("state"))
        for key, state in now.items():
            if states.get(key) != state:
                log.write(AlertRecord(t=log.now(), kind="alert", name=key[0], node=key[1], state=state))
        for key in set(states) - set(now):
            log.write(AlertRecord(t=log.now(), kind="alert", name=key[0], node=key[1], state="resolved"))
        states = now
