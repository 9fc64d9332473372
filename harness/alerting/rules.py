"""The alert rules file, verbatim, and the time-scaled copy a drill runs (only `for:` changes). Pure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from harness.scenario.durations import parse_duration

RULES_FILE = Path(__file__).resolve().parents[2] / "monitoring" / "redis-alerts.yml"
ROUTING_FILE = RULES_FILE.parent / "alertmanager.yml"
# The key-metrics console (Prometheus console templates), /consoles/redis-drill.html on a drill's Prometheus.
CONSOLES_DIR = RULES_FILE.parent / "consoles"
CONSOLE_LIBRARIES_DIR = RULES_FILE.parent / "console_libraries"
CONSOLE_PAGE = "consoles/redis-drill.html"
ROUTE_DURATIONS = ("group_wait", "group_interval", "repeat_interval")


def scaled_routing(text: str, time_scale: float, webhook: str) -> str:
    """Alertmanager's routing with its waits divided by time_scale (like the rules' for:) and every
    webhook pointed at the drill's own receiver."""
    data: Any = yaml.safe_load(text)
    routes = [data["route"], *data["route"].get("routes", [])]
    for route in routes:
        for key in ROUTE_DURATIONS:
            if key in route:
                route[key] = format_prometheus(parse_duration(str(route[key])) / time_scale)
    for receiver in data["receivers"]:
        for hook in receiver.get("webhook_configs", []):
            hook["url"] = webhook
    return yaml.safe_dump(data, sort_keys=False)


def scaled_rules(text: str, time_scale: float) -> str:
    """The rules with every `for:` divided by time_scale (whole milliseconds, at least 1 ms)."""
    data: Any = yaml.safe_load(text)
    for group in data["groups"]:
        for rule in group["rules"]:
            if "for" in rule:
                rule["for"] = format_prometheus(parse_duration(str(rule["for"])) / time_scale)
    return yaml.safe_dump(data, sort_keys=False)


def rule_durations(text: str) -> dict[str, float]:
    """Alert name -> its `for:` in seconds."""
    data: Any = yaml.safe_load(text)
    return {
        rule["alert"]: parse_duration(str(rule.get("for", "0s")))
        for group in data["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }


def format_prometheus(seconds: float) -> str:
    """A Prometheus duration: "2s", "10s", "1500ms"."""
    millis = max(1, round(seconds * 1000))
    return f"{millis // 1000}s" if millis % 1000 == 0 else f"{millis}ms"
