"""A nemesis: a fault schedule drawn from a catalogue with the scenario's seed (`nemesis:` in a scenario).
Faults come one after another, about `every` apart (± `jitter`), each ended after a drawn `heal_after`
(a kill by a restart of the node it killed, a partition by its heal, a network fault by its link's heal, a
pause or a script by its own length), the next never before the last is healed; each drawn fault is an
incident of its own. Pure: the same nemesis, load length and seed draw the same schedule."""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from pathlib import Path

from harness.scenario.model import FaultSpec, NemesisSpec, PauseSpec, Scenario

# What a nemesis may draw: faults with an end the nemesis can give them.
NEMESIS_ACTIONS = (
    "kill", "terminate", "partition", "pause", "network", "long-script", "debug-sleep", "client-pause"
)  # fmt: skip
# A catalogue entry without `runbooks:` is judged by the shipped runbook its kind maps to (runbooks: []
# opts out); kinds not listed get none. The shipped runbooks sit beside the package in a checkout.
SHIPPED_RUNBOOKS = Path(__file__).resolve().parents[2] / "runbooks"
DEFAULT_RUNBOOKS: dict[tuple[str, str], str] = {
    ("kill", "primary"): "p1-redis-down.yaml",
    ("terminate", "primary"): "p1-redis-down.yaml",
    ("kill", "replica"): "replication-broken.yaml",
    ("terminate", "replica"): "replication-broken.yaml",
    ("partition", "primary | sentinels+replicas"): "p1-primary-partitioned.yaml",
    ("network", "replication:replica"): "replication-lag.yaml",
}
SALT = 0x6E656D  # the schedule's own stream of the seed: drawing it changes no other seeded choice
FIRST_AFTER_S = 3.0  # the load's baseline before the first fault
END_MARGIN_S = 3.0  # the last heal at least this long before the load ends


@dataclass(frozen=True, slots=True)
class Drawn:
    """A drawn fault and its end, as plain timeline entries; `kind` is its catalogue entry."""

    fault: FaultSpec
    heal: FaultSpec | None  # None: it ends by itself (a pause, a script)
    kind: int


def draw(nemesis: NemesisSpec, duration: float, seed: int) -> tuple[Drawn, ...]:
    rng = random.Random(seed ^ SALT)
    weights = [f.weight for f in nemesis.faults]
    out: list[Drawn] = []
    at = max(FIRST_AFTER_S, nemesis.every + rng.uniform(-nemesis.jitter, nemesis.jitter))
    while True:
        kind = rng.choices(range(len(nemesis.faults)), weights)[0]
        lasts = rng.uniform(*nemesis.heal_after)
        if at + lasts > duration - END_MARGIN_S:
            return tuple(out)
        fault, heal = _with_end(
            dataclasses.replace(nemesis.faults[kind].spec, starts_incident=kind), at, lasts
        )
        out.append(Drawn(fault, heal, kind))
        at = max(at + nemesis.every + rng.uniform(-nemesis.jitter, nemesis.jitter), at + lasts + 1.0)


def _with_end(spec: FaultSpec, at: float, lasts: float) -> tuple[FaultSpec, FaultSpec | None]:
    fault = dataclasses.replace(spec, at=round(at, 3), jitter=0.0, incident=False)
    end = round(at + lasts, 3)
    if spec.pause is not None:
        return dataclasses.replace(fault, pause=PauseSpec(lasts)), None
    if spec.server is not None:  # long-script, debug-sleep, client-pause: their own length
        return dataclasses.replace(fault, server=dataclasses.replace(spec.server, seconds=lasts)), None
    if spec.action in ("kill", "terminate"):
        return fault, FaultSpec(at=end, jitter=0.0, action="restart", target="last-killed")
    if spec.action == "partition":
        return fault, FaultSpec(at=end, jitter=0.0, action="heal", target="partition")
    return fault, FaultSpec(at=end, jitter=0.0, action="heal", target=spec.target)  # a network fault's link


def timeline(drawn: tuple[Drawn, ...]) -> tuple[FaultSpec, ...]:
    """The drawn schedule as a scenario's fault list, each fault followed by its end."""
    return tuple(f for d in drawn for f in (d.fault, d.heal) if f is not None)


def with_seed(scenario: Scenario, seed: int) -> Scenario:
    """The scenario with another seed (`drill run --seed`): a nemesis draws its schedule again."""
    if scenario.nemesis is None:
        return dataclasses.replace(scenario, seed=seed)
    faults = timeline(draw(scenario.nemesis, scenario.load.duration, seed))
    return dataclasses.replace(scenario, seed=seed, faults=faults)


def default_runbook(spec: FaultSpec) -> Path | None:
    """The shipped runbook a catalogue entry's kind maps to, where this checkout has it."""
    name = DEFAULT_RUNBOOKS.get((spec.action, spec.target))
    path = SHIPPED_RUNBOOKS / name if name else None
    return path if path is not None and path.is_file() else None
