"""`drill list`: the drill files of a directory, with their environment, load, faults and runbooks."""

from __future__ import annotations

from pathlib import Path

from tabulate import tabulate

from harness.core.errors import ConfigError
from harness.scenario.loader import load_drill
from harness.scenario.model import FaultSpec, Scenario, Sweep


def _fault(fault: FaultSpec) -> str:
    effect = f" {fault.network.effect}" if fault.network else ""
    return f"{fault.at:g}s {fault.action}{effect} {fault.target}"


def list_drills(directory: Path) -> str:
    rows = []
    invalid: list[str] = []
    for path in sorted(directory.glob("*.y*ml")):
        try:
            drill = load_drill(path)
        except ConfigError as exc:
            rows.append((path.name, "INVALID (below)", "", "", ""))
            invalid.extend(str(p) for p in exc.problems)
            continue
        if isinstance(drill, Sweep):
            spec = drill.sweep
            what = (
                f"sweep: rtt {'/'.join(f'{r * 1000:g}ms' for r in spec.rtts)} x batch "
                f"{'/'.join(map(str, spec.batches))} x connections {'/'.join(map(str, spec.connections))}"
            )
            rows.append((path.name, drill.environment.name, what, "", ""))
            continue
        rows.append(
            (
                path.name,
                drill.environment.name,
                _load(drill),
                "; ".join(_fault(f) for f in drill.faults) or "-",
                ", ".join(r.name for r in drill.runbooks) or "-",
            )
        )
    if not rows:
        return f"no drill files in {directory}"
    table = tabulate(
        rows,
        headers=["file", "environment", "load", "faults", "runbooks"],
        tablefmt="simple",
        maxcolwidths=[None, None, 40, 40, 30],
    )
    return table + ("\n\n" + "\n".join(invalid) if invalid else "")


def _load(drill: Scenario) -> str:
    load = drill.load
    users = ", ".join(f"{w.kind} x{w.users}" for w in load.workloads)
    return f"{load.duration:g}s: {users}"
