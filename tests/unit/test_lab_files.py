"""The compose lab's Prometheus configuration is the one the harness writes for its own alert drills."""

from __future__ import annotations

from pathlib import Path

import yaml

from harness.alerting.stack import prometheus_config

ROOT = Path(__file__).resolve().parents[2]


def test_lab_prometheus_config_matches_the_harness_one() -> None:
    lab = yaml.safe_load((ROOT / "lab" / "prometheus.yml").read_text())
    targets = [f"redis://redis-{i}:6379" for i in (1, 2, 3)]
    assert lab == prometheus_config(targets, "redis-exporter:9121", 5.0, rules="redis-alerts.yml")
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    mounts = compose["services"]["prometheus"]["volumes"]
    assert "./monitoring/redis-alerts.yml:/etc/prometheus/redis-alerts.yml:ro" in mounts
    assert (ROOT / "monitoring" / "redis-alerts.yml").is_file()
