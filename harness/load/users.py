"""Locust users: one User class per workload of the scenario, each delegating to its Workload."""

from __future__ import annotations

from locust import User, constant, task

from harness.load.workloads.acked_writes import AckedWrites
from harness.load.workloads.bank import Bank
from harness.load.workloads.base import LoadContext, Workload
from harness.load.workloads.counter import Counter
from harness.load.workloads.crossslot import CrossSlot
from harness.load.workloads.keyspace import Keyspace
from harness.load.workloads.kv import KeyValue
from harness.load.workloads.lua_cas import LuaCas
from harness.load.workloads.pipeline import Pipeline
from harness.load.workloads.set_adds import SetAdds
from harness.scenario.model import WorkloadSpec

STEPS_PER_TASK = 8
WORKLOADS: dict[str, type[Workload]] = {
    w.kind: w for w in (AckedWrites, KeyValue, Pipeline, Bank, LuaCas, Keyspace, Counter, CrossSlot, SetAdds)
}


class DrillUser(User):
    abstract = True
    drill: LoadContext
    workload_spec: WorkloadSpec
    workload_class: type[Workload]

    def on_start(self) -> None:
        self.workload = self.workload_class(self.workload_spec, self.drill, self.environment)

    def on_stop(self) -> None:
        self.workload.stop()

    @task
    def step(self) -> None:
        # Without a wait between steps, several steps make one Locust task: its scheduling per task costs
        # as much as a step's own bookkeeping. Each step still blocks on its socket, where others run.
        for _ in range(STEPS_PER_TASK if not self.workload_spec.wait else 1):
            self.workload.step()


def make_user_classes(context: LoadContext) -> list[type[User]]:
    """A User subclass per workload, bound to this drill and spawned exactly `users` times."""
    classes: list[type[User]] = []
    for spec in context.spec.workloads:
        attributes = {
            "drill": context,
            "workload_spec": spec,
            "workload_class": WORKLOADS[spec.kind],
            "wait_time": constant(spec.wait),
            "fixed_count": spec.users,
            "abstract": False,
        }
        classes.append(type(f"{WORKLOADS[spec.kind].__name__}User", (DrillUser,), attributes))
    return classes
