"""Real alerting for a drill: Debian's prometheus-redis-exporter and prometheus, on loopback, scraping every
data node of the topology and evaluating the time-scaled copy of monitoring/redis-alerts.yml.

One exporter serves every node through its multi-target endpoint (/scrape?target=redis://host:port); the
`instance` label is the node's address, which the alert poller maps back to the node's name.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

import yaml

from harness.alerting.pager import Pager
from harness.alerting.rules import (
    CONSOLE_LIBRARIES_DIR,
    CONSOLES_DIR,
    ROUTING_FILE,
    RULES_FILE,
    format_prometheus,
    rule_durations,
    scaled_routing,
    scaled_rules,
)
from harness.backends.local import free_port
from harness.backends.reaper import kill_and_wait, register_pid
from harness.clients.waiting import wait_for
from harness.core.errors import BackendError
from harness.core.run_context import RunContext
from harness.core.topology import Topology

HOST = "127.0.0.1"
INSTALL_HINT = (
    "install prometheus, prometheus-redis-exporter and prometheus-alertmanager "
    "(Debian packages; `make setup` does)"
)
READY_TIMEOUT_S = 20.0


@dataclass(frozen=True, slots=True)
class AlertingSetup:
    api: str  # Prometheus's base URL
    time_scale: float
    scrape_interval: float
    durations: dict[str, float]  # alert -> the `for:` the drill runs with, in seconds


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackendError(
            f"{name} not found on PATH, and this scenario asks for alerts. Hint: {INSTALL_HINT}"
        )
    return found


def prometheus_config(
    targets: list[str], exporter: str, scrape_interval: float, rules: str = "rules.yml"
) -> dict[str, Any]:
    """Scrape every target through one exporter in multi-target mode (/scrape?target=...), with `rules`."""
    interval = format_prometheus(scrape_interval)
    return {
        "global": {
            "scrape_interval": interval,
            "evaluation_interval": interval,
            "scrape_timeout": format_prometheus(scrape_interval * 0.8),
        },
        "rule_files": [rules],
        "scrape_configs": [
            {
                "job_name": "redis",
                "metrics_path": "/scrape",
                "static_configs": [{"targets": targets}],
                "relabel_configs": [
                    {"source_labels": ["__address__"], "target_label": "__param_target"},
                    {"source_labels": ["__param_target"], "target_label": "instance"},
                    {"target_label": "__address__", "replacement": exporter},
                ],
            }
        ],
    }


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=1) as response:
        return json.load(response)["data"]


def _watching(api: str, targets: int) -> bool:
    """Every target scraped successfully and every rule group evaluated at least once."""
    active = _get(f"{api}/api/v1/targets")["activeTargets"]
    groups = _get(f"{api}/api/v1/rules")["groups"]
    scraped = len(active) == targets and all(t["health"] == "up" for t in active)
    evaluated = bool(groups) and all(not g["lastEvaluation"].startswith("0001") for g in groups)
    return scraped and evaluated


class AlertStack:
    """Starts the exporter and Prometheus for one run; stop() removes them (and is safe to call twice)."""

    def __init__(
        self, run: RunContext, time_scale: float, scrape_interval: float, pager: Pager | None = None
    ) -> None:
        """pager: where Alertmanager delivers its notifications; None runs no Alertmanager."""
        self._pager = pager
        self._run = run
        self._time_scale = time_scale
        self._scrape_interval = scrape_interval
        self._procs: list[subprocess.Popen[bytes]] = []
        self._logs: list[IO[bytes]] = []

    def start(self, topology: Topology) -> AlertingSetup:
        exporter_bin, prometheus_bin = _binary("prometheus-redis-exporter"), _binary("prometheus")
        directory = self._run.work_dir / "prometheus"
        directory.mkdir()
        text = scaled_rules(RULES_FILE.read_text(), self._time_scale)
        (directory / "rules.yml").write_text(text)
        (self._run.run_dir / "config" / "alert-rules.yml").write_text(text)
        exporter_port, prometheus_port = free_port(), free_port()
        env = self._run.process_env()
        login = topology.access.credentials("exporter")
        # Not argv: /proc/<pid>/cmdline is world-readable. The exporter reads both variables.
        if login.password is not None:
            env["REDIS_PASSWORD"] = login.password.reveal()
        if login.username is not None:
            env["REDIS_USER"] = login.username
        tls: list[str] = []
        if login.tls is not None:
            tls = [
                f"-tls-ca-cert-file={login.tls.ca}",
                f"-tls-client-cert-file={login.tls.cert}",
                f"-tls-client-key-file={login.tls.key}",
            ]
        self._spawn(
            "redis-exporter",
            [exporter_bin, "-web.listen-address", f"{HOST}:{exporter_port}", "-redis.addr", "", *tls],
            env,
        )
        scheme = "rediss" if login.tls else "redis"
        targets = [f"{scheme}://{node.host}:{node.port}" for node in topology.data_nodes]
        config = prometheus_config(targets, f"{HOST}:{exporter_port}", self._scrape_interval)
        if self._pager is not None:
            manager = self._start_alertmanager()
            config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [manager]}]}]}
        (directory / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
        (self._run.run_dir / "config" / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
        self._spawn(
            "prometheus",
            [
                prometheus_bin,
                f"--config.file={directory / 'prometheus.yml'}",
                f"--storage.tsdb.path={directory / 'data'}",
                f"--web.listen-address={HOST}:{prometheus_port}",
                f"--web.console.templates={CONSOLES_DIR}",  # the key-metrics dashboard
                f"--web.console.libraries={CONSOLE_LIBRARIES_DIR}",
                "--log.level=warn",
            ],
            self._run.process_env(),
        )
        api = f"http://{HOST}:{prometheus_port}"
        self._wait_ready(f"http://{HOST}:{exporter_port}/metrics", "redis-exporter")
        self._wait_ready(f"{api}/-/ready", "prometheus")
        # Ready is not yet watching: wait for every target scraped and the rules evaluated once, so the
        # drill's clock does not include Prometheus warming up.
        self._wait_until(
            lambda: _watching(api, len(targets)), "prometheus to scrape every node and evaluate the rules"
        )
        return AlertingSetup(api, self._time_scale, self._scrape_interval, rule_durations(text))

    def _start_alertmanager(self) -> str:
        """Debian's Alertmanager with the shipped routing, time-scaled, paging the drill's receiver;
        clustering off (it would listen on every interface). Returns its address."""
        assert self._pager is not None
        binary = _binary("prometheus-alertmanager")
        directory = self._run.work_dir / "alertmanager"
        directory.mkdir()
        text = scaled_routing(ROUTING_FILE.read_text(), self._time_scale, self._pager.url)
        (directory / "alertmanager.yml").write_text(text)
        (self._run.run_dir / "config" / "alertmanager.yml").write_text(text)
        port = free_port()
        self._spawn(
            "alertmanager",
            [
                binary,
                f"--config.file={directory / 'alertmanager.yml'}",
                f"--storage.path={directory / 'data'}",
                f"--web.listen-address={HOST}:{port}",
                "--cluster.listen-address=",
                "--log.level=warn",
            ],
            self._run.process_env(),
        )
        self._wait_ready(f"http://{HOST}:{port}/-/ready", "alertmanager")
        return f"{HOST}:{port}"

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        log = (self._run.run_dir / "logs" / f"{name}.log").open("ab")
        self._logs.append(log)
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        except OSError as exc:
            raise BackendError(f"cannot start {name}: {exc}. Hint: {INSTALL_HINT}") from None
        register_pid(self._run.work_dir, name, proc.pid)
        self._procs.append(proc)

    def _wait_ready(self, url: str, name: str) -> None:
        def answers() -> bool:
            with urllib.request.urlopen(url, timeout=1) as response:
                return bool(response.status == 200)

        self._wait_until(answers, f"{name} at {url} (see logs/{name}.log)")

    def _wait_until(self, condition: Callable[[], bool], what: str) -> None:
        def ready() -> str | None:
            if any(p.poll() is not None for p in self._procs):  # an exited process will not become ready
                raise BackendError(
                    f"the exporter or Prometheus exited while waiting for {what}; "
                    f"see logs/ in {self._run.run_dir}"
                )
            return None if condition() else "not yet"

        wait_for(
            ready,
            timeout=READY_TIMEOUT_S,
            what=what,
            hint=f"see logs/ in {self._run.run_dir}",
            interval=0.1,
            not_yet=(urllib.error.URLError, OSError, ValueError, KeyError),
        )

    def stop(self) -> None:
        kill_and_wait([p.pid for p in self._procs if p.poll() is None])
        for proc in self._procs:
            proc.wait()
        for log in self._logs:
            log.close()
        self._procs.clear()
        self._logs.clear()
