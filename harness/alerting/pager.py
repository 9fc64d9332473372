"""The drill's paging end: Alertmanager's webhook receiver, on loopback.

Every notification Alertmanager delivers is logged (a `page` record per alert: name, node, firing or
resolved), and the responder can wait for one: a runbook's procedure may start on the page, as an on-call
engineer's would (`respond: {when: {alert: RedisDown, state: firing}}`)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from harness.alerting.poller import node_of
from harness.core.log_records import PageRecord
from harness.core.observation_log import ObservationLog
from harness.core.topology import Topology

HOST = "127.0.0.1"


class Pager:
    def __init__(self, topology: Topology, log: ObservationLog) -> None:
        self._topology = topology
        self._log = log
        self._pages: list[tuple[float, str, str, str]] = []  # (t, alert, node, firing|resolved)
        self._lock = threading.Lock()
        pager = self

        class Receiver(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                try:
                    pager.received(json.loads(self.rfile.read(length)))
                    self.send_response(200)
                except (ValueError, KeyError, TypeError):
                    self.send_response(400)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
                """Requests are logged as pages, not on stderr."""

        self._server = ThreadingHTTPServer((HOST, 0), Receiver)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="pager")

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._server.server_address[1]}/page"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def received(self, notification: dict[str, Any]) -> None:
        """One webhook notification: each alert in it is a page for its node."""
        for alert in notification["alerts"]:
            labels = alert.get("labels", {})
            name = str(labels.get("alertname"))
            node = node_of(str(labels.get("instance", "")), self._topology)
            state = "resolved" if alert.get("status") == "resolved" else "firing"
            t = self._log.now()
            self._log.write(
                PageRecord(
                    t=t, kind="page", name=name, node=node, state=state, receiver=notification.get("receiver")
                )
            )
            with self._lock:
                self._pages.append((t, name, node, state))
        self._log.flush()

    def paged(self, name: str, state: str, node: str, since: float) -> bool:
        """Whether a page for this alert, state and node arrived at or after `since`."""
        with self._lock:
            return any(t >= since and (a, n, s) == (name, node, state) for t, a, n, s in self._pages)
