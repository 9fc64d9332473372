"""A deployment the harness did not start, found by address: a Sentinel one through `external.sentinels`, a
cluster through `external.seeds` (harness/backends/addressed_cluster.py finds and checks it).

What is found is compared with what the file declares, never guessed: a difference stops the run before
anything changes (bad input, every difference listed). Nodes are acted on only through the team's own
commands (`external.control`), and only with `drill run --allow-external-faults`. At the end the deployment is
put back as it was found: nodes killed, stopped or paused are started or resumed with those commands, the
run's keys (and only those) are removed, and the harness waits until one primary has every replica linked
again and every Sentinel names it (on a cluster: every node ok, each primary with its replicas).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import redis

from harness.backends.addressed_cluster import cluster_differences, found_cluster, remove_cluster_keys
from harness.backends.base import Backend
from harness.backends.control import Control
from harness.backends.external_access import external_access, refused_logins
from harness.backends.found_by_address import first_answer, replicas_differ, require_reachable
from harness.backends.topology_ready import wait_until_ready
from harness.clients.primary import current_primary
from harness.clients.probe import probe_client, reported_role
from harness.clients.waiting import wait_for
from harness.core.access import Access
from harness.core.errors import BackendError, ConfigError, FaultError, Problem
from harness.core.log_records import CleanupRecord
from harness.core.observation_log import ObservationLog
from harness.core.run_context import RunContext
from harness.core.topology import CLIENTS, Node, NodeKind, Topology
from harness.scenario.model import AddressedDeployment, Environment
from harness.scenario.yamlsource import load_yaml

UNLINK_BATCH = 500
RESTORE_TIMEOUT_S = 60.0  # a restarted old primary rejoins as a replica once Sentinel converts it


@dataclass(frozen=True, slots=True)
class Found:
    """What the Sentinels say about the deployment."""

    primary: tuple[str, int]
    replicas: tuple[tuple[str, int], ...]
    sentinels: tuple[tuple[str, int], ...]
    settings: dict[str, int]  # quorum, down-after-milliseconds, failover-timeout, parallel-syncs


class AddressedBackend(Backend):
    def __init__(self, env: Environment, run: RunContext, allow_faults: bool, log: ObservationLog) -> None:
        assert env.external_deployment is not None
        self._env = env
        self._deployment: AddressedDeployment = env.external_deployment
        self._run = run
        self._allow_faults = allow_faults
        self._log = log
        self._control = Control(self._deployment.control, log) if self._deployment.control else None
        self._topology: Topology | None = None
        self._stopped: set[str] = set()  # killed or stopped by a fault, not started again yet
        self._paused: set[str] = set()
        self._isolated: set[str] = set()  # cut off by the team's isolate command, not rejoined yet
        self._newly_isolated: list[str] = []  # since the watchdog was last told
        self._landed: float | None = None  # log time the last cut's isolate commands had all returned

    def up(self) -> Topology:
        topology = found_topology(self._env)
        if refused := refused_logins(topology):  # at once, not as a readiness that never comes
            raise BackendError(
                f"{self._env.owner} refuses the harness's logins: {'; '.join(refused)} (check external.users "
                "and external.sentinel_auth, and the variables and files they name)"
            )
        if topology.cluster:  # ready as found: every node ok, each primary with its replicas online
            failing = _wait_as_found(
                topology, partial(cluster_differences, topology), self._env.readiness_timeout
            )
            if failing:
                raise BackendError(f"{self._env.owner} is not ready: {'; '.join(failing)}")
        else:
            wait_until_ready(topology, self._env, self.log_path, self._exited, sentinels=False)
            wait_until_ready(topology, self._env, self.log_path, self._exited, sentinels=True)
        self._topology = topology
        return topology

    def _exited(self, name: str) -> str | None:
        return None  # not our process: readiness waits on the node answering

    def _node(self, name: str) -> Node:
        assert self._topology is not None
        return self._topology.node(name)

    def _do(
        self,
        control: Control,
        action: str,
        name: str,
        role: str,
        check: bool = True,
        extra: dict[str, str] | None = None,
    ) -> tuple[float, int | None]:
        """One of the team's commands for a node, filled with its variables (by either of its addresses)."""
        assert self._topology is not None
        announced = self._topology.announced_address(name)
        return control.run(action, self._node(name), role, check, announced, extra)

    def _role(self, name: str) -> str:
        assert self._topology is not None
        node = self._node(name)
        return reported_role(node, self._topology.credentials("operator", node), 0.5) or "down"

    def _acting(self, what: str, name: str) -> Control:
        if not self._allow_faults:
            raise FaultError(
                f"refusing to {what} {name}: it belongs to {self._env.owner}, which this run did not start. "
                "Pass --allow-external-faults to drill run to allow faults on external nodes"
            )
        if self._control is None:
            raise FaultError(f"cannot {what} {name}: {self._env.file} gives no external.control commands")
        return self._control

    def kill(self, name: str) -> float:
        started, _ = self._do(self._acting("kill", name), "kill", name, self._role(name))
        self._stopped.add(name)
        return started

    def terminate(self, name: str) -> float:
        started, _ = self._do(self._acting("stop", name), "stop", name, self._role(name))
        self._stopped.add(name)
        return started

    def restart(self, name: str) -> None:
        control = self._acting("restart", name)
        if name not in self._stopped:
            self._do(control, "stop", name, self._role(name))
        self._do(control, "start", name, "down")
        self._stopped.discard(name)

    def pause(self, name: str) -> float:
        started, _ = self._do(self._acting("pause", name), "pause", name, self._role(name))
        self._paused.add(name)
        return started

    def resume(self, name: str) -> float:
        started, _ = self._do(self._acting("resume", name), "resume", name, "paused")
        self._paused.discard(name)
        return started

    def require_partitions(self) -> None:
        if self._control is None or not (self._control.can("isolate") and self._control.can("rejoin")):
            raise BackendError(f"{self._env.file} gives no external.control isolate and rejoin commands")

    def cut(self, senders: frozenset[str], receivers: frozenset[str]) -> str:
        """The team's isolate command on each receiver, given the senders' hosts as {peers}: their packet
        filters are theirs (another host's, often), reached only through their commands."""
        return self._isolate(self._isolations(senders, receivers))

    def cut_both(self, one: frozenset[str], other: frozenset[str]) -> str:
        """Every isolate of both directions at once: over SSH each is a round trip, so one after another
        would leave the deployment half cut for seconds."""
        return self._isolate([*self._isolations(one, other), *self._isolations(other, one)])

    def _isolate(self, calls: list[Callable[[], None]]) -> str:
        began = self._log.now()
        _together(calls)
        self._landed = self._log.now()
        took = self._landed - began
        return f"the deployment's isolate command ({len(calls)} run at once, the cut whole {took:.3f}s later)"

    def cut_landed(self) -> float | None:
        return self._landed

    def _isolations(self, senders: frozenset[str], receivers: frozenset[str]) -> list[Callable[[], None]]:
        control = self._acting("isolate", ", ".join(sorted(receivers)))
        if CLIENTS in senders | receivers:
            raise FaultError("a deployment found by address cannot be cut from this machine's clients")
        peers = ",".join(sorted({self._node(n).host for n in senders}))
        roles = {name: self._role(name) for name in receivers}

        def isolate(name: str) -> None:
            self._do(control, "isolate", name, roles[name], extra={"peers": peers})
            self._isolated.add(name)
            self._newly_isolated.append(name)

        return [partial(isolate, name) for name in sorted(receivers)]

    def heal_cuts(self) -> None:
        control = self._control
        if control is None:
            return

        def rejoin(name: str) -> None:
            self._do(control, "rejoin", name, "isolated")
            self._isolated.discard(name)

        _together([partial(rejoin, name) for name in sorted(self._isolated)])

    def undo_for(self, action: str, node: str | None) -> list[tuple[str, dict[str, Any]]]:
        """A node the drill killed, stopped, froze or isolated is started, resumed or rejoined by the team's
        own command, from the watchdog too: their deployment is not left down because the harness died."""
        if action == "partition" and self._control is not None and self._topology is not None:
            isolated, self._newly_isolated = self._newly_isolated, []
            known_as = self._topology.announced_address
            argvs = [
                self._control.argv("rejoin", self._node(n), "isolated", known_as(n))
                for n in dict.fromkeys(isolated)
            ]
            return [("command", {"argv": a, "timeout": self._control.timeout}) for a in argvs if a]
        undoing = {"kill": "start", "terminate": "start", "pause": "resume"}.get(action)
        if node is None or undoing is None or self._control is None or self._topology is None:
            return []
        announced = self._topology.announced_address(node)
        argv = self._control.argv(undoing, self._node(node), "down", announced)
        return [("command", {"argv": argv, "timeout": self._control.timeout})] if argv else []

    def is_running(self, name: str) -> bool:
        if self._control is not None and self._control.can("status"):
            return self._do(self._control, "status", name, self._role(name), check=False)[1] == 0
        return self._role(name) != "down"

    def log_path(self, name: str) -> Path:
        return self._run.run_dir / "logs" / f"{name}.log"  # the team's logs stay theirs: none copied

    def down(self) -> None:
        """Put the deployment back as it was found, and take away every key of the run."""
        started = time.monotonic()
        restored: list[str] = []
        problems: list[str] = []
        if self._control is not None:
            isolated = sorted(self._isolated)
            failed = _attempt(self.heal_cuts, "rejoin")
            problems += failed
            restored += [f"rejoined {name}" for name in isolated if name not in self._isolated]
            for name in sorted(self._paused):
                failed = _attempt(lambda n=name: self.resume(n), f"resume {name}")
                problems += failed
                restored += [] if failed else [f"resumed {name}"]
            for name in sorted(self._stopped):
                failed = _attempt(lambda n=name: self._control_start(n), f"start {name}")
                problems += failed
                restored += [] if failed else [f"started {name}"]
        topology = self._topology
        if topology is None and not restored and not problems:
            # Stopped while finding it (refused, different from the file, not ready): nothing of theirs was
            # touched, so there is nothing to put back, and no record to say it is not as found.
            self._run.remove_work_dir()
            return
        removed = 0
        healthy = False
        if topology is not None:
            try:
                removed = remove_keys(topology, self._run.key_prefix)
            except (redis.RedisError, FaultError) as exc:
                problems.append(f"the run's keys could not be removed: {exc}")
            differences = _wait_as_found(
                topology,
                partial(cluster_differences, topology)
                if topology.cluster
                else partial(_differences, topology, len(topology.data_nodes) - 1),
            )
            problems += differences
            healthy = not differences
        record = CleanupRecord(
            t=self._log.now(),
            kind="cleanup",
            prefix=self._run.key_prefix,
            keys_removed=removed,
            healthy=healthy and not problems,
            seconds=round(time.monotonic() - started, 3),
        )
        if restored:
            record["restored"] = restored
        if problems:
            record["differences"] = problems
        self._log.write(record)
        self._run.remove_work_dir()

    def _control_start(self, name: str) -> None:
        assert self._control is not None
        self._do(self._control, "start", name, "down")
        self._stopped.discard(name)


def found_topology(env: Environment) -> Topology:
    """The deployment as its Sentinels (or a cluster's nodes) describe it, checked against the file
    (ConfigError listing every difference). Reads only: SENTINEL MASTER, REPLICAS and SENTINELS."""
    assert env.external_deployment is not None
    if env.cluster is not None:
        return found_cluster(env)
    access = external_access(env)
    found = _discover(env.external_deployment.sentinels, env, access)
    _check_matches(env, found)
    deployment = env.external_deployment
    named: list[tuple[str, NodeKind, tuple[str, int]]] = [
        ("redis-1", "redis", found.primary),
        *((f"redis-{i}", "redis", a) for i, a in enumerate(sorted(found.replicas), start=2)),
        *((f"sentinel-{i}", "sentinel", a) for i, a in enumerate(sorted(found.sentinels), start=1)),
    ]
    nodes = tuple(Node(name, kind, *deployment.reach(address)) for name, kind, address in named)
    # What the Sentinels keep naming (events, the primary's address): the announced addresses.
    announced = tuple((*a, name) for name, _, a in named if deployment.reach(a) != a)
    return Topology(env.master_name, nodes, "redis-1", access=access, announced=announced)


def _check_matches(env: Environment, found: Found) -> None:
    """The drill's time bounds come from the file: it must describe the deployment as it runs."""
    spec = env.sentinels
    declared = {
        ("replicas",): (env.replicas, len(found.replicas)),
        ("sentinels", "count"): (spec.count, len(found.sentinels)),
        ("sentinels", "quorum"): (spec.quorum, found.settings["quorum"]),
        ("sentinels", "down-after-milliseconds"): (spec.down_after_ms, found.settings["down-after"]),
        ("sentinels", "failover-timeout"): (spec.failover_timeout_ms, found.settings["failover-timeout"]),
        ("sentinels", "parallel-syncs"): (spec.parallel_syncs, found.settings["parallel-syncs"]),
    }
    source = load_yaml(env.file)
    problems = [
        Problem(
            str(env.file),
            source.line(path),
            ".".join(path),
            f"says {want}, the deployment has {have} (the drill's bounds must come from what runs)",
        )
        for path, (want, have) in declared.items()
        if want != have
    ]
    if problems:
        raise ConfigError(problems)


def _together(calls: list[Callable[[], None]]) -> None:
    """The team's commands for several nodes at once (their own threads; greenlets in the drill): a
    partition over SSH lands on every host within one round trip, not one host after another. Every call
    finishes; the first failure is raised after."""
    if len(calls) <= 1:
        for call in calls:
            call()
        return
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(call) for call in calls]
    for future in futures:
        future.result()


def _attempt(action: Any, what: str) -> list[str]:
    try:
        action()
    except (FaultError, BackendError) as exc:
        return [f"{what}: {exc}"]
    return []


def _discover(given: tuple[tuple[str, int], ...], env: Environment, access: Access) -> Found:
    """Ask the Sentinels (the first that answers, within the readiness timeout) for the deployment."""
    found = first_answer(
        env,
        given,
        "sentinel",
        access,
        partial(_ask_sentinel, name=env.master_name),
        what=f"a Sentinel of {env.file} to describe {env.master_name}",
        hint="check external.sentinels and master_name, and that the Sentinels answer from this machine",
    )
    deployment = env.external_deployment
    assert deployment is not None
    for address in (found.primary, *found.replicas, *found.sentinels):
        require_reachable(deployment, address, f"the Sentinels name {{address}} as part of {env.master_name}")
    return found


def _ask_sentinel(client: redis.Redis, name: str) -> Found:
    master = _fields(client.execute_command("SENTINEL", "MASTER", name))
    replicas = [_fields(r) for r in client.execute_command("SENTINEL", "REPLICAS", name)]
    peers = [_fields(s) for s in client.execute_command("SENTINEL", "SENTINELS", name)]
    own = client.connection_pool.connection_kwargs
    return Found(
        primary=(master["ip"], int(master["port"])),
        replicas=tuple((r["ip"], int(r["port"])) for r in replicas),
        sentinels=((str(own["host"]), int(own["port"])), *((s["ip"], int(s["port"])) for s in peers)),
        settings={
            "quorum": int(master["quorum"]),
            "down-after": int(master["down-after-milliseconds"]),
            "failover-timeout": int(master["failover-timeout"]),
            "parallel-syncs": int(master["parallel-syncs"]),
        },
    )


def _fields(reply: Any) -> dict[str, str]:
    """A SENTINEL MASTER-style reply (a flat list, or a map under RESP3) as field -> value."""
    pairs = (
        list(reply.items()) if isinstance(reply, dict) else list(zip(reply[::2], reply[1::2], strict=True))
    )
    return {_text(k): _text(v) for k, v in pairs}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def remove_keys(topology: Topology, prefix: str) -> int:
    """UNLINK every key of the run (PREFIX:* and {PREFIX:*) on the primary Sentinel names now (on a
    cluster: on every primary); never a FLUSHALL or FLUSHDB. Returns how many were removed."""
    patterns = tuple(_glob_escape(p) for p in (f"{prefix}:*", "{" + prefix + ":*"))
    if topology.cluster:
        return remove_cluster_keys(topology, patterns)
    primary = topology.node(current_primary(topology))
    removed = 0
    with probe_client(primary, 5.0, topology.credentials("operator", primary)) as client:
        for pattern in patterns:
            batch: list[Any] = []
            for key in client.scan_iter(match=pattern, count=1000):
                batch.append(key)
                if len(batch) == UNLINK_BATCH:
                    removed += int(client.unlink(*batch))
                    batch = []
            if batch:
                removed += int(client.unlink(*batch))
    return removed


def _glob_escape(pattern: str) -> str:
    """The prefix literally, the trailing * as a glob: `{` and `[` in keys are glob-special elsewhere."""
    head = pattern[:-1]
    for special in ("\\", "[", "]", "?", "*"):
        head = head.replace(special, "\\" + special)
    return head + "*"


def _wait_as_found(
    topology: Topology, differences: Callable[[], list[str]], timeout: float = RESTORE_TIMEOUT_S
) -> list[str]:
    """Wait until the deployment is as found (`differences` says nothing: every Sentinel names one primary
    with its replicas online; on a cluster, every node ok and each primary with its replicas); what still
    differs at the deadline otherwise."""
    last: list[str] = []

    def as_found() -> str | None:
        last[:] = differences()
        return "; ".join(last) or None

    try:
        wait_for(
            as_found,
            timeout=timeout,
            what="the deployment to be as it was found",
            hint="see the control records in the run's observations.jsonl",
            interval=0.2,
        )
    except BackendError:
        return last or ["the deployment did not settle"]
    return []


def _differences(topology: Topology, replicas: int) -> list[str]:
    named: set[tuple[str, int]] = set()
    for sentinel in topology.sentinels:
        try:
            with probe_client(sentinel, 0.5, topology.credentials("operator", sentinel)) as client:
                address = client.sentinel_get_master_addr_by_name(topology.master_name)
        except redis.RedisError as exc:
            return [f"{sentinel.name} does not answer ({type(exc).__name__})"]
        if address:
            named.add((str(address[0]), int(address[1])))
    if len(named) != 1:
        return [f"the Sentinels name {len(named)} primaries"]
    primary = topology.by_address(*named.pop())
    if primary is None:
        return ["the Sentinels name a primary that is not one of the deployment's nodes"]
    return replicas_differ(topology, primary, replicas)
