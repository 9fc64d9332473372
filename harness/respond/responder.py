"""Runs the runbooks' procedures live: once the incident's node answers with the trigger reply, each step is
done in order and its outcome logged. It also probes that node until the drill ends, logging every change of
its answer, so detection and recovery of an error reply are measured precisely, not per load interval."""

from __future__ import annotations

import threading
import time

import redis

from harness.alerting.pager import Pager
from harness.backends.base import Backend
from harness.clients.probe import probe_client
from harness.core.errors import BackendError, FaultError
from harness.core.log_records import ProbeReplyRecord, ProbeTargetRecord, RespondRecord, RunbookStepRecord
from harness.core.observation_log import ObservationLog
from harness.core.topology import Node, Topology
from harness.faults.injector import FaultInjector
from harness.load.classify import classify
from harness.respond.actions import ACTIONS, ActionContext
from harness.respond.commands import StepSetting, program_environment, run_program
from harness.scenario.model import Action, Runbook
from harness.scenario.procedure_kinds import (
    AfterTrigger,
    AlertTrigger,
    ClientsTrigger,
    LatencyTrigger,
    MemoryTrigger,
    ReplyTrigger,
    Trigger,
    UnreachableTrigger,
)

PROBE_INTERVAL_S = 0.1
PROBE_TIMEOUT_S = 0.5
UNREACHABLE = frozenset({"connection-refused", "connect-timeout", "timeout", "connection"})


class Responder:
    def __init__(
        self,
        runbooks: tuple[Runbook, ...],
        backend: Backend,
        topology: Topology,
        log: ObservationLog,
        faults: FaultInjector,
        key_prefix: str,
        setting: StepSetting,
        pager: Pager | None = None,
    ) -> None:
        self._runbooks = tuple(r for r in runbooks if r.respond is not None)
        self._backend = backend
        self._topology = topology
        self._log = log
        self._faults = faults
        self._key = f"{key_prefix}:responder-probe"
        self._last_reply: str | None = None
        self._pinned: Node | None = None  # the node the probe talks to: the incident's, until rerouted
        self._read = False  # probe with GET (a replica answers any write with READONLY) instead of SET
        self._incident_t = 0.0
        self._setting = setting  # what program steps are told about the run
        self._pager = pager  # Alertmanager's notifications, for procedures that start on a page

    @property
    def needed(self) -> bool:
        return bool(self._runbooks)

    def run(self, stop: threading.Event) -> None:
        incident = self._faults.await_incident(stop, PROBE_INTERVAL_S)
        if incident is None:
            return
        node = self._pinned = self._topology.node(incident)
        incident_t = self._incident_t = self._log.now()
        for runbook in self._runbooks:
            respond = runbook.respond
            assert respond is not None
            self._read = respond.probe == "read"
            record = RespondRecord(
                t=0.0, kind="respond", runbook=runbook.name, phase="triggered", trigger=respond.trigger.shown
            )
            triggered = self._wait_for_trigger(
                node, respond.trigger, incident_t + respond.trigger.within, stop
            )
            record["t"] = self._log.now()
            if not triggered:
                record["phase"] = "no-trigger"
                self._log.write(record)
                continue
            record["node"] = node.name
            self._log.write(record)
            for index, action in enumerate(respond.steps):
                self._step(runbook, index, action, node, stop)
        while not stop.wait(PROBE_INTERVAL_S):
            self.probe(self._pinned)

    def _reroute(self, name: str) -> None:
        """The pinned client (the probe) now talks to another node: what route-to-primary does."""
        self._pinned = self._topology.node(name)
        self._log.write(ProbeTargetRecord(t=self._log.now(), kind="probe_target", node=name))

    def _wait_for_trigger(self, node: Node, trigger: Trigger, deadline: float, stop: threading.Event) -> bool:
        """True once the trigger has held for its for:; False at the deadline or the drill's end."""
        since: float | None = None  # when the condition started to hold
        while True:
            if not self._triggered(node, trigger):
                since = None
            elif since is None:
                since = self._log.now()
            if since is not None and self._log.now() - since >= trigger.hold:
                return True
            if self._log.now() > deadline or stop.wait(PROBE_INTERVAL_S):
                return False

    def _triggered(self, node: Node, trigger: Trigger) -> bool:
        """Whether the trigger's condition holds now (one probe, INFO section or page lookup)."""
        match trigger:
            case ReplyTrigger():
                return self.probe(node) == trigger.reply
            case UnreachableTrigger():
                return self.probe(node) in UNREACHABLE
            case AfterTrigger():
                return self._log.now() - self._incident_t >= trigger.after
            case AlertTrigger():
                pager = self._pager
                return pager is not None and pager.paged(
                    trigger.alert, trigger.state, node.name, self._incident_t
                )
            case LatencyTrigger():
                started = time.monotonic()
                return self.probe(node) == "ok" and time.monotonic() - started > trigger.latency_above
            case MemoryTrigger():
                return self._above(node, "memory", "used_memory", "maxmemory", trigger.memory_above)
            case ClientsTrigger():
                return self._above(node, "clients", "connected_clients", "maxclients", trigger.clients_above)

    def _above(self, node: Node, section: str, used_field: str, limit_field: str, ratio: float) -> bool:
        try:
            with probe_client(node, PROBE_TIMEOUT_S, self._topology.credentials("monitor", node)) as client:
                info = client.info(section)
        except redis.RedisError:
            return False
        used, limit = int(info.get(used_field, 0)), int(info.get(limit_field, 0))
        return limit > 0 and used / limit > ratio

    def probe(self, node: Node) -> str:
        """One write to the node; its answer class ("ok", "BUSY", "OOM", "timeout", ...) is logged when it
        changes."""
        try:
            with probe_client(node, PROBE_TIMEOUT_S, self._topology.credentials("monitor", node)) as client:
                if self._read:
                    client.get(self._key)
                else:
                    client.set(self._key, "1")
            reply = "ok"
        except redis.RedisError as exc:
            reply = classify(exc).error
        if reply != self._last_reply:
            self._last_reply = reply
            self._log.write(
                ProbeReplyRecord(t=self._log.now(), kind="probe_reply", node=node.name, reply=reply)
            )
        return reply

    def _step(self, runbook: Runbook, index: int, action: Action, node: Node, stop: threading.Event) -> None:
        started = self._log.now()
        if action.if_still:
            answer = self.probe(node)
            if answer != action.if_still:
                self._log_step(
                    runbook, index, action, node, started, True, f"not needed: {node.name} answers {answer}"
                )
                return
        if action.kind == "run":
            self._run_program(runbook, index, action, node, started)
            return
        context = ActionContext(
            self._topology, self._backend, self._faults.server, node, action.argument, stop, self._reroute
        )
        try:
            ok, evidence = ACTIONS[action.name](context)
        except (redis.RedisError, BackendError, FaultError) as exc:
            ok, evidence = False, f"{type(exc).__name__}: {str(exc)[:200]}"
        self._log_step(runbook, index, action, node, started, ok, evidence)

    def _run_program(self, runbook: Runbook, index: int, action: Action, node: Node, started: float) -> None:
        env = program_environment(self._topology, self._backend, node, self._setting)
        ran = run_program(action.command, env, action.timeout, self._topology.access.secrets())
        self._log_step(runbook, index, action, node, started, ran.ok, ran.evidence, output=ran.output)

    def _log_step(
        self,
        runbook: Runbook,
        index: int,
        action: Action,
        node: Node,
        started: float,
        ok: bool,
        evidence: str,
        output: str | None = None,
    ) -> None:
        self._log.write(
            RunbookStepRecord(
                t=self._log.now(),
                kind="runbook_step",
                runbook=runbook.name,
                index=index,
                step=f"{action.kind} {action.name}" + (f" {action.argument}" if action.argument else ""),
                node=node.name,
                ok=ok,
                evidence=evidence,
                started=started,
                output=output,  # a program step's stdout and stderr (capped, secrets blanked); else None
            ),
            flush=True,
        )
