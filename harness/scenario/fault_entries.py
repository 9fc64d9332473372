"""The faults: section of a scenario: each entry, and its targets checked against the environment."""

from __future__ import annotations

import dataclasses
from typing import Any, get_args

from harness.core.topology import CLIENTS
from harness.scenario.durations import parse_duration
from harness.scenario.fault_kinds import REDIS_EFFECTS, SERVER_FAULT_KINDS, PacketLoss, Pause, Surge
from harness.scenario.fields import Cursor, Invalid, boolean, choice, text
from harness.scenario.model import (
    PARTITION_GROUPS,
    Environment,
    FaultAction,
    FaultSpec,
    NetworkSpec,
    PartitionSpec,
    PauseSpec,
    ServerFaultKind,
    ServerFaultSpec,
    SurgeSpec,
)
from harness.scenario.params import read_params
from harness.scenario.plan import plan

SERVER_FAULTS: tuple[str, ...] = get_args(ServerFaultKind)


ACTIONS: tuple[str, ...] = get_args(FaultAction)  # kill, restart, network, heal, surge, then SERVER_FAULTS


PARTITION_KEYS = ("between", "and", "one-way")
NETWORK_KEYS = ("link", "stream", "jitter")  # beside exactly one of NETWORK_EFFECTS
STREAMS = ("upstream", "downstream", "both")


def fault_entry(cur: Cursor, timed: bool = True, extra: tuple[str, ...] = ()) -> FaultSpec | None:
    """One fault of the timeline; `max:` is its longest life, enforced outside the harness's process.
    Untimed (a nemesis's catalogue): no `at`, `jitter` or `incident`, and `extra` keys are the caller's."""
    spec = _fault_entry(cur, timed, extra)
    longest = cur.get("max", parse_duration, None) if isinstance(cur.value, dict) else None
    if spec is None or longest is None:
        return spec
    return dataclasses.replace(spec, max=longest)


def _fault_entry(cur: Cursor, timed: bool, extra: tuple[str, ...]) -> FaultSpec | None:
    timing = ("at", "jitter", "incident") if timed else ()
    if not cur.mapping((*timing, "max", *extra, *ACTIONS), "fault settings"):
        return None
    at = cur.get("at", parse_duration) if timed else 0.0
    jitter = cur.get("jitter", parse_duration, 0.0) if timed else 0.0
    incident = cur.get("incident", boolean, False) if timed else False
    actions = [key for key in ACTIONS if key in cur.value]
    if len(actions) != 1:
        cur.error(f"a fault needs exactly one action: {', '.join(ACTIONS)}")
        return None
    action = actions[0]
    if action == "network":
        network = _network(cur.child("network"))
        if at is None or jitter is None or network is None:
            return None
        return FaultSpec(
            at=at,
            jitter=jitter,
            action="network",
            target=network[0],
            network=network[1],
            incident=bool(incident),
        )
    if action == "partition":
        partition = _partition(cur.child("partition"))
        if at is None or jitter is None or partition is None:
            return None
        return FaultSpec(
            at=at,
            jitter=jitter,
            action="partition",
            target=partition.label,
            incident=bool(incident),
            partition=partition,
        )
    if action == "pause":
        paused = _pause(cur.child("pause"))
        if at is None or jitter is None or paused is None:
            return None
        return FaultSpec(
            at=at, jitter=jitter, action="pause", target=paused[0], incident=bool(incident), pause=paused[1]
        )
    if action == "surge":
        surge = _surge(cur.child("surge"))
        if at is None or jitter is None or surge is None:
            return None
        return FaultSpec(
            at=at, jitter=jitter, action="surge", target="primary", incident=bool(incident), surge=surge
        )
    if action in SERVER_FAULTS:
        server = _server_fault(cur.child(action), action)
        if at is None or jitter is None or server is None:
            return None
        return FaultSpec(
            at=at,
            jitter=jitter,
            action=action,  # type: ignore[arg-type]
            target=server[0],
            incident=bool(incident),
            server=server[1],
        )
    target = cur.get(action, text)
    if at is None or jitter is None or target is None:
        return None
    return FaultSpec(at=at, jitter=jitter, action=action, target=target, incident=bool(incident))  # type: ignore[arg-type]


def _partition(cur: Cursor) -> PartitionSpec | None:
    """partition: {between: [primary], and: [sentinels, replicas], one-way: false}"""
    if not cur.mapping(PARTITION_KEYS, "partition settings"):
        return None
    between = cur.get("between", _groups)
    others = cur.get("and", _groups)
    one_way = cur.get("one-way", boolean, False)
    if between is None or others is None or one_way is None:
        return None
    if set(between) & set(others):
        cur.error(f"{', '.join(sorted(set(between) & set(others)))} on both sides", "and")
        return None
    return PartitionSpec(tuple(between), tuple(others), bool(one_way))


def _groups(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(i, str) and i for i in items):
        raise Invalid(f"expected a list of groups ({', '.join(PARTITION_GROUPS)}, or node names)")
    return [str(i) for i in items]


def _pause(cur: Cursor) -> tuple[str, PauseSpec] | None:
    """pause: {node: primary, duration: 6s}"""
    params = read_params(cur, Pause, what="pause settings")
    return None if params is None else (params.node, PauseSpec(params.seconds))


def _surge(cur: Cursor) -> SurgeSpec | None:
    """surge: {users: 20, duration: 5s}: that many more load users, for that long."""
    params = read_params(cur, Surge, what="surge settings")
    return None if params is None else SurgeSpec(params.users, params.seconds)


def _server_fault(cur: Cursor, kind: str) -> tuple[str, ServerFaultSpec] | None:
    """long-script: {node: primary, duration: 30s, writes: false}, oom: {node: primary}, misconf: {}"""
    params = read_params(cur, SERVER_FAULT_KINDS[kind][0], what=f"{kind} settings")
    if params is None:
        return None
    fields = dataclasses.asdict(params)
    node = str(fields.pop("node", "primary"))
    return node, ServerFaultSpec(kind, **fields)


NETWORK_EFFECTS = ("latency", "bandwidth", "timeout", "reset", "partition", "packet-loss", *REDIS_EFFECTS)


def _network(cur: Cursor) -> tuple[str, NetworkSpec] | None:
    if not cur.mapping((*NETWORK_KEYS, *NETWORK_EFFECTS), "network fault settings"):
        return None
    link = cur.get("link", text)
    stream = cur.get("stream", choice(*STREAMS), "both")
    effects = [key for key in NETWORK_EFFECTS if key in cur.value]
    if len(effects) != 1:
        cur.error(f"a network fault needs exactly one effect: {', '.join(NETWORK_EFFECTS)}")
        return None
    effect = effects[0]
    spec: NetworkSpec | None = None
    if effect in REDIS_EFFECTS:
        if "stream" in cur.value:
            cur.error(f"{effect} acts on commands and their replies: it takes no stream", "stream")
            return None
        spec = _redis_effect(cur.child(effect), effect)
    elif effect == "packet-loss":
        loss = read_params(cur.child(effect), PacketLoss, what="packet-loss settings")
        if loss is not None:
            spec = NetworkSpec(
                "packet-loss",
                stream,  # type: ignore[arg-type]
                loss_rate=loss.rate,
                correlation=loss.correlation,
                timeout=loss.rto,
            )
    elif effect == "latency":
        latency = cur.get("latency", parse_duration)
        jitter = cur.get("jitter", parse_duration, 0.0)
        if latency is not None and jitter is not None:
            spec = NetworkSpec("latency", stream, latency=latency, jitter=jitter)  # type: ignore[arg-type]
    elif effect == "bandwidth":
        rate = cur.get("bandwidth", _rate)
        if rate is not None:
            spec = NetworkSpec("bandwidth", stream, rate_kbs=rate)  # type: ignore[arg-type]
    elif effect in ("timeout", "reset"):
        delay = cur.get(effect, _delay_or_true)
        if delay is not None:
            spec = NetworkSpec(effect, stream, timeout=delay)  # type: ignore[arg-type]
    else:
        partition = cur.get("partition", boolean)
        if partition is False:
            cur.error("use heal to end a partition", "partition")
        elif partition:
            spec = NetworkSpec("partition", "both")
    if "jitter" in cur.value and effect != "latency":
        cur.error("jitter goes with latency only", "jitter")
        return None
    if link is None or stream is None or spec is None:
        return None
    return link, spec


def _redis_effect(cur: Cursor, effect: str) -> NetworkSpec | None:
    """redis-error: {commands: [SET], keys: "user:*", rate: 0.3, error: READONLY, first: 0}, ..."""
    params = read_params(cur, REDIS_EFFECTS[effect][0], what=f"{effect} settings")
    if params is None:
        return None
    fields = dataclasses.asdict(params)
    return NetworkSpec(
        effect,
        "upstream",
        latency=fields.get("latency", 0.0),
        commands=fields["commands"],
        key_pattern=fields["keys"],
        rate=fields["rate"],
        error=fields.get("error", ""),
        first=fields.get("first", 0),
    )


def _rate(value: Any) -> int:
    """A bandwidth such as "100KB/s" (kilobytes per second, as Toxiproxy's bandwidth toxic)."""
    if isinstance(value, str) and value.upper().endswith("KB/S") and value[:-4].strip().isdigit():
        rate = int(value[:-4])
        if rate > 0:
            return rate
    raise Invalid(f"expected a bandwidth such as 100KB/s, got {value!r}")


def _delay_or_true(value: Any) -> float:
    """true: at once (reset) or until healed (timeout); a duration: after that long."""
    if value is True:
        return 0.0
    return parse_duration(value)


def node_names(env: Environment) -> tuple[str, ...]:
    return plan(env).names


def link_names(env: Environment) -> tuple[str, ...]:
    """Link selectors a network fault may name, given the environment's proxy settings."""
    return plan(env).link_selectors()


# On a deployment found by address, faults that act on a node's process run the team's control commands.
CONTROL_NEEDS: dict[str, tuple[str, ...]] = {
    "kill": ("kill", "start"),  # started again at the end: the deployment is left as it was found
    "terminate": ("stop", "start"),
    "restart": ("stop", "start"),
    "pause": ("pause", "resume"),
    "loading": ("stop", "start"),
    "partition": ("isolate", "rejoin"),  # the packet filters are the team's: their commands cut and heal
}
# They read or write a node's files, which only the node's own host has.
NEEDS_FILES = ("truncate-aof", "snapshot-restore")


def _check_control(where: Cursor, fault: FaultSpec, env: Environment) -> None:
    deployment = env.external_deployment
    if deployment is None:
        return
    if fault.action in NEEDS_FILES:
        where.error(f"{fault.action} needs the node's files; {env.file} is a deployment found by address")
        return
    control = deployment.control
    missing = [a for a in CONTROL_NEEDS.get(fault.action, ()) if control is None or not control.template(a)]
    if missing:
        where.error(
            f"{fault.action} acts through the deployment's own commands, and {env.file} gives no "
            f"external.control {' or '.join(missing)} command",
            fault.action,
        )


def check_targets(cur: Cursor, faults: tuple[FaultSpec, ...], env: Environment, key: str = "faults") -> None:
    """Each fault's target against the environment; `cur.child(key)` holds the faults as written."""
    names = node_names(env)
    cuts = any(f.partition is not None for f in faults)
    for i, fault in enumerate(faults):
        where = cur.child(key).child(i)
        _check_control(where, fault, env)
        if fault.partition is not None:
            _check_partition(where.child("partition"), fault.partition, env, names)
            continue
        if fault.pause is not None:
            if fault.target not in ("primary", "replica", *names):
                where.child("pause").error(
                    f"unknown node {fault.target!r} (expected one of: primary, replica, {', '.join(names)})",
                    "node",
                )
            continue
        if fault.action == "heal" and fault.target == "partition":
            if not cuts:
                where.error("no partition fault to heal", "heal")
            continue
        if fault.action == "heal" and fault.target == "all" and cuts:
            continue  # heals the partitions, and the proxied links if there are any
        if fault.action in ("network", "heal"):
            links = link_names(env) + (("all",) if fault.action == "heal" else ())
            if not link_names(env):
                where.error(
                    f"network faults need an environment with proxied links (proxy: {{clients: true}} "
                    f"in {env.file})",
                    fault.action,
                )
            elif fault.target not in links:
                at, field = (where, "heal") if fault.action == "heal" else (where.child("network"), "link")
                at.error(f"unknown link {fault.target!r} (expected one of: {', '.join(links)})", field)
            continue
        if fault.action == "surge":
            continue  # it lands on whichever node is primary
        if fault.server is not None:
            data = tuple(n for n in names if n.startswith("redis-"))
            role = "replica" if fault.action == "full-sync" else "primary"
            if fault.target not in (role, *data):
                where.child(fault.action).error(
                    f"unknown node {fault.target!r} (expected one of: {', '.join((role, *data))})", "node"
                )
            elif fault.action == "full-sync" and env.replicas == 0:
                where.child(fault.action).error("the environment has no replica to sync", "node")
            if fault.action == "reshard":
                _check_reshard(where.child("reshard"), fault, env, data)
            continue
        roles = ("primary", "replica") if fault.action in ("kill", "terminate") else ("last-killed",)
        if env.cluster is not None and fault.target.startswith("sentinel"):
            where.error(
                f"{fault.target!r} is a Sentinel, and {env.file} is a cluster (topology: cluster): it has "
                "none; its primaries fail each other over",
                fault.action,
            )
        elif fault.target not in roles + names:
            where.error(
                f"unknown target {fault.target!r} (expected one of: {', '.join(roles + names)})", fault.action
            )
        if fault.target == "replica" and env.replicas == 0:
            where.error("the environment has no replicas to kill", fault.action)


def _check_reshard(cur: Cursor, fault: FaultSpec, env: Environment, data: tuple[str, ...]) -> None:
    assert fault.server is not None
    if env.cluster is None:
        cur.error(f"reshard moves cluster slots, and {env.file} is not a cluster (topology: cluster)")
    elif fault.server.to and fault.server.to not in data:
        cur.error(f"unknown node {fault.server.to!r} (expected one of: {', '.join(data)})", "to")
    elif fault.server.to == fault.target:
        cur.error(f"{fault.target} would move slots to itself", "to")


def _check_partition(cur: Cursor, spec: PartitionSpec, env: Environment, names: tuple[str, ...]) -> None:
    # A cluster has no Sentinels; a Sentinel topology has one primary (its shard is the whole keyspace).
    unfit = ("sentinels",) if env.cluster is not None else ("primaries",)
    groups_here = tuple(g for g in PARTITION_GROUPS if g not in unfit)
    known = (*groups_here, *(f"sentinel-{i + 1}" for i in range(env.sentinels.count)), *names)
    for key, groups in (("between", spec.between), ("and", spec.others)):
        for group in groups:
            if group not in known:
                kind = "cluster (topology: cluster)" if env.cluster is not None else "Sentinel topology"
                why = f"; {env.file} is a {kind}" if group in unfit else ""
                cur.error(f"unknown group {group!r} (expected: {', '.join(dict.fromkeys(known))}){why}", key)
    # A cluster's proxied links carry the load only: its nodes meet, gossip and replicate on their own
    # addresses, and the load's traffic leaves the proxy from the clients' address. On the local backend
    # the proxy connects upstream from each peer's own loopback address, so the rules still tell them apart.
    proxied = env.proxy is not None and (env.proxy.clients or env.proxy.replication)
    if proxied and env.cluster is None and env.backend != "local":
        cur.error(
            f"per-peer partitions tell peers apart by address, but {env.file} sends clients, Sentinels and "
            "replicas through the proxy (proxy:), where they all share its address; drop proxy: or use a "
            "network fault with partition: true"
        )
    if env.external_compose_project is not None:
        cur.error(f"{env.file} is an external environment: the harness cannot cut its network")
    if env.external_deployment is not None and CLIENTS in (*spec.between, *spec.others):
        cur.error(
            f"{env.file} is a deployment found by address: its isolate command cuts nodes from each other, "
            "not from this machine's clients; use a network fault with partition: true for the clients"
        )
