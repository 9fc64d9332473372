"""The users of a traffic surge (faults: surge), in whichever process runs load users.

The drill's runner sends Locust's own message `surge` with each process's share; every process (the drill's
own with load.processes 1, else each Locust worker) spawns its share here, for the surge's length, running
the scenario's workloads like its other users: their ops and stats are the load's."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import gevent
from locust.env import Environment

from harness.core.log_records import SurgeRecord
from harness.load.users import WORKLOADS
from harness.load.workloads.base import LoadContext
from harness.scenario.model import WorkloadSpec

MESSAGE = "surge"


def shares(total: int, weights: list[int]) -> list[int]:
    """`total` split in proportion to `weights`, whole numbers that add up (largest remainders first)."""
    exact = [total * w / sum(weights) for w in weights]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def surge_message(extra: int, seconds: float, processes: int) -> dict[str, Any]:
    """What the drill sends: each process's share of the extra users (by its index, from 1) and how long."""
    return {"users": shares(extra, [1] * processes), "seconds": seconds}


def listen(
    environment: Environment,
    context: LoadContext,
    index: int,
    spawned: list[gevent.Greenlet],
    stopped: Callable[[], bool],
) -> None:
    """Make this process's runner spawn its share of every surge it is sent (index: 1 for the drill's own
    process or the first worker)."""

    def on_surge(environment: Environment, msg: Any, **_: Any) -> None:
        users = int(msg.data["users"][index - 1])
        until = time.monotonic() + float(msg.data["seconds"])
        context.log.write(
            SurgeRecord(
                t=context.log.now(),
                kind="surge",
                worker=index,
                users=users,
                seconds=float(msg.data["seconds"]),
            )
        )
        workloads = context.spec.workloads
        for spec, count in zip(workloads, shares(users, [w.users for w in workloads]), strict=True):
            spawned.extend(
                gevent.spawn(_user, spec, context, environment, until, stopped) for _ in range(count)
            )

    assert environment.runner is not None
    environment.runner.register_message(MESSAGE, on_surge)


def _user(
    spec: WorkloadSpec,
    context: LoadContext,
    environment: Environment,
    until: float,
    stopped: Callable[[], bool],
) -> None:
    workload = WORKLOADS[spec.kind](spec, context, environment)
    try:
        while time.monotonic() < until and not stopped():
            workload.step()
            gevent.sleep(spec.wait)
    finally:
        workload.stop()
