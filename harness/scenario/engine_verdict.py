"""An environment's `config:` directives checked by Redis itself, before anything starts.

`drill validate` cannot know every directive and value the installed engine accepts, and a bad one used to
surface only at start-up (exit 3). Redis reads a configuration from stdin and, told `port 0`, exits right
after reading it ("not listen anywhere"): its verdict on each directive, in its own words, without a
server ever listening, persisting or loading anything."""

from __future__ import annotations

import re
from functools import lru_cache

from harness.core.engines import WITHOUT_LOSS, EngineMissing, engine_says, find_engine
from harness.scenario.conf_values import render_value
from harness.scenario.model import ConfigValue

_AT_LINE = re.compile(r"at line (\d+)")


@lru_cache(maxsize=256)  # the fuzz tests and every scenario naming one environment ask the same question
def config_verdict(directives: tuple[tuple[str, ConfigValue], ...], engine: str) -> tuple[int, str] | None:
    """(index of the directive the engine rejects, its words), or None when it accepts them all or the
    engine is not installed here (start-up then says what to install)."""
    try:
        found = find_engine(engine)
    except EngineMissing:
        return None
    binary = str(found.server)
    # What the engine leaves out without loss (engines.WITHOUT_LOSS) is not asked about.
    asked = [i for i, (key, _) in enumerate(directives) if key not in WITHOUT_LOSS or found.knows(key)]
    if not asked:
        return None
    text = "port 0\n" + "".join(f"{directives[i][0]} {render_value(directives[i][1])}\n" for i in asked)
    said = engine_says(binary, text)
    if "FATAL CONFIG FILE ERROR" not in said:
        return None
    match = _AT_LINE.search(said)
    words = [line for line in said.strip().splitlines() if line.strip()]
    index = int(match.group(1)) - 2 if match else 0  # line 1 is our port 0
    return asked[max(0, min(index, len(asked) - 1))], words[-1] if words else "rejected"
