"""How a value is written in redis.conf and sentinel.conf (quoted when it has spaces or quotes)."""

from __future__ import annotations

from harness.scenario.model import ConfigValue


def render_value(value: ConfigValue) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    if text == "" or any(c.isspace() for c in text) or '"' in text:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text
