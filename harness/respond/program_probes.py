"""Runs the runbooks' `program` verify steps live: from the incident to the end of the drill, each team
program every `every`, with the incident's context in its environment; each run is logged (`program_probe`)
for the check to judge."""

from __future__ import annotations

import threading

from harness.backends.base import Backend
from harness.core.log_records import ProgramProbeRecord
from harness.core.observation_log import ObservationLog
from harness.core.topology import Topology
from harness.faults.injector import FaultInjector
from harness.respond.commands import StepSetting, program_environment, run_program
from harness.scenario.model import Runbook, Step
from harness.scenario.runbook_file import program_path

TICK_S = 0.1


class ProgramProbes:
    def __init__(
        self,
        runbooks: tuple[Runbook, ...],
        backend: Backend,
        topology: Topology,
        log: ObservationLog,
        faults: FaultInjector,
        setting: StepSetting,
    ) -> None:
        self._steps = [
            (runbook, step)
            for runbook in runbooks
            for step in (*runbook.detect, *runbook.verify)
            if step.check == "program"
        ]
        self._backend = backend
        self._topology = topology
        self._log = log
        self._faults = faults
        self._setting = setting

    @property
    def needed(self) -> bool:
        return bool(self._steps)

    def run(self, stop: threading.Event) -> None:
        incident = self._faults.await_incident(stop, TICK_S)
        if incident is None:
            return
        node = self._topology.node(incident)
        due = [self._log.now()] * len(self._steps)
        while not stop.is_set():
            for index, (runbook, step) in enumerate(self._steps):
                if self._log.now() >= due[index] and not stop.is_set():
                    due[index] = self._log.now() + step.params.every
                    self._run(runbook, step, node.name)
            stop.wait(TICK_S)

    def _run(self, runbook: Runbook, step: Step, node_name: str) -> None:
        node = self._topology.node(node_name)
        env = program_environment(self._topology, self._backend, node, self._setting)
        command = (str(program_path(step.params.command[0], runbook.file.parent)), *step.params.command[1:])
        ran = run_program(command, env, step.params.timeout, self._topology.access.secrets())
        self._log.write(
            ProgramProbeRecord(
                t=self._log.now(),
                kind="program_probe",
                runbook=runbook.name,
                command=list(step.params.command),
                node=node_name,
                ok=ran.ok,
                evidence=ran.evidence,
            )
        )
