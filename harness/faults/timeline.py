"""The fault schedule: a pure function of the scenario's faults, the seed and elapsed time."""

from __future__ import annotations

import random
from dataclasses import dataclass

from harness.scenario.model import FaultSpec


@dataclass(frozen=True, slots=True)
class ScheduledFault:
    index: int  # position in the scenario's fault list
    at: float  # seconds after the load started, jitter applied
    spec: FaultSpec
    choice_seed: int  # seeds any random choice the fault makes (e.g. which replica)


def schedule(faults: tuple[FaultSpec, ...], seed: int) -> tuple[ScheduledFault, ...]:
    rng = random.Random(seed)
    planned = [
        ScheduledFault(i, fault.at + rng.uniform(0, fault.jitter), fault, rng.randrange(2**32))
        for i, fault in enumerate(faults)
    ]
    return tuple(sorted(planned, key=lambda f: (f.at, f.index)))


def due(plan: tuple[ScheduledFault, ...], elapsed: float, fired: int) -> tuple[ScheduledFault, ...]:
    """Faults not yet fired (the first `fired` are) whose time has come."""
    out = []
    for fault in plan[fired:]:
        if fault.at > elapsed:
            break
        out.append(fault)
    return tuple(out)
