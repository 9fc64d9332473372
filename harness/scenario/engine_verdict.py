"""An environment's `config:` directives checked by Redis itself, before anything starts.

`drill validate` cannot know every directive and value the installed engine accepts, and a bad one used to
surface only at start-up (exit 3). Redis reads a configuration from stdin and, told `port 0`, exits right
after reading it ("not listen anywhere"): its verdict on each directive, in its own words, without a
server ever listening, persisting or loading anything."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from functools import lru_cache

from harness.scenario.conf_values import render_value
from harness.scenario.model import ConfigValue

_AT_LINE = re.compile(r"at line (\d+)")


@lru_cache(maxsize=256)  # the fuzz tests and every scenario naming one environment ask the same question
def config_verdict(directives: tuple[tuple[str, ConfigValue], ...]) -> tuple[int, str] | None:
    """(index of the directive Redis rejects, Redis's words), or None when it accepts them all or no
    redis-server is installed here (start-up then reports it)."""
    binary = shutil.which("redis-server")
    if binary is None or not directives:
        return None
    text = "port 0\n" + "".join(f"{key} {render_value(value)}\n" for key, value in directives)
    with tempfile.TemporaryDirectory(prefix="redis-drill-verdict-") as scratch:
        try:
            done = subprocess.run(
                [binary, "-"],
                input=text,
                cwd=scratch,
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
    if "FATAL CONFIG FILE ERROR" not in done.stderr:
        return None
    match = _AT_LINE.search(done.stderr)
    words = [line for line in done.stderr.strip().splitlines() if line.strip()]
    index = int(match.group(1)) - 2 if match else 0  # line 1 is our port 0
    return max(0, min(index, len(directives) - 1)), words[-1] if words else "rejected"
