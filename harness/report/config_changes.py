"""Each CONFIG parameter the drill changed on a node: the value it found, the values it set (and who set
them), and the value it left (the end of the run puts back what it found). Pure, from `config` records."""

from __future__ import annotations

from dataclasses import dataclass

from harness.core.log_records import ConfigRecord
from harness.runbooks.history import History

FAILED = "the end of the run could not"  # a restore that failed: its record has no value


@dataclass(frozen=True, slots=True)
class ConfigChange:
    node: str
    parameter: str
    before: str  # the value the drill found
    during: tuple[str, ...]  # each value set, "VALUE (by WHO)", in order
    after: str  # the value the run left
    restored: bool  # after equals before

    def text(self) -> str:
        steps = " -> ".join((_shown(self.before), *self.during))
        left = "as found" if self.restored else f"NOT as found: {_shown(self.after)}"
        return f"{self.node} {self.parameter}: {steps}; left {left}"


def _shown(value: str) -> str:
    return value if value else '""'


def config_changes(history: History) -> tuple[ConfigChange, ...]:
    by_parameter: dict[tuple[str, str], list[ConfigRecord]] = {}
    for record in history.configs:
        by_parameter.setdefault((record["node"], record["parameter"]), []).append(record)
    out = []
    for (node, parameter), records in sorted(by_parameter.items()):
        made = [r for r in records if not r["by"].startswith(FAILED)]
        if not made:
            continue
        during = tuple(
            f"{r['by']}" if r["by"].startswith(FAILED) else f"{_shown(r['value'])} (by {r['by']})"
            for r in records
        )
        before, after = made[0]["before"], made[-1]["value"]
        if records[-1]["by"].startswith(FAILED):
            after = f"unknown ({records[-1]['by']})"
        out.append(ConfigChange(node, parameter, before, during, after, after == before))
    return tuple(out)
