"""`drill plan` (and `drill run --dry-run`): what a drill would touch, changing nothing. The nodes (found,
for a deployment found by address, with read-only SENTINEL commands), each fault with the exact command it
would run, the run's key prefix and every time bound with where its value comes from."""

from __future__ import annotations

from harness.backends.external_access import login_of
from harness.core.access import ROLES
from harness.core.topology import Topology
from harness.runbooks.checks.registry import step_name
from harness.scenario.durations import Bound, format_seconds
from harness.scenario.fault_entries import CONTROL_NEEDS
from harness.scenario.model import Environment, ExternalLogin, FaultSpec, PartitionSpec, Scenario

# How each process-level action is carried out where the harness runs the nodes itself.
OWN_ACTIONS = {
    "local": {"kill": "SIGKILL to its process", "terminate": "SIGTERM to its process",
              "restart": "SIGTERM, then its own command line again", "pause": "SIGSTOP, then SIGCONT"},
    "docker": {"kill": "docker kill (SIGKILL)", "terminate": "docker kill --signal SIGTERM",
               "restart": "docker stop, then docker start", "pause": "docker pause, then docker unpause"},
}  # fmt: skip
# What the faults driven through Redis's own commands send.
SERVER_COMMANDS = {
    "debug-sleep": "DEBUG SLEEP {seconds:g}",
    "client-pause": "CLIENT PAUSE {milliseconds} {mode}",
    "client-kill": "CLIENT KILL TYPE {client_type}",
    "long-script": "EVAL a Lua loop of {seconds:g}s",
    "oom": "SET filler keys ({value_bytes} B each, TTL 1h) until an OOM reply",
    "misconf": "CONFIG SET dir /proc, then BGSAVE (dir restored at the end)",
    "slow-command": "{keys} keys written, then KEYS * every {every:g}s",
    "client-flood": "{connections} idle connections held open",
    "loading": "{keys} keys written, then the node restarted",
    "switchover": "SENTINEL FAILOVER",
    "full-sync": "{keys} keys on the primary, then REPLICAOF NO ONE and back in one MULTI on the replica",
    "reshard": "CLUSTER SETSLOT IMPORTING/MIGRATING, MIGRATE in batches of {batch}, SETSLOT NODE",
    "truncate-aof": "the newest AOF file cut by {cut_bytes} bytes",
    "snapshot-restore": "BGSAVE, dump.rdb copied to a fresh node, writes read back",
}


def describe(scenario: Scenario, backend: str, topology: Topology | None, key_prefix: str) -> str:
    """The plan as text. `topology`: the deployment as found (an external one), else None (the run makes
    its own: addresses are chosen when it starts)."""
    env = scenario.environment
    lines = [f"drill plan {scenario.file}: {scenario.name} (nothing was started or changed)", ""]
    lines += _nodes(env, backend, topology)
    lines += ["", _load_line(scenario, key_prefix), ""]
    if scenario.incidents:
        starts = scenario.incident_faults()
        lines.append(
            f"nemesis: seed {scenario.seed} drew {len(starts)} incident(s), each judged by its runbooks "
            "(drill run --seed N draws another schedule)"
            if scenario.nemesis is not None
            else f"incidents: {len(starts)}, each judged by its own runbooks from the fault that starts it"
        )
        for number, (index, entry) in enumerate(starts, 1):
            fault = scenario.faults[index]
            books = ", ".join(r.name for r in entry.runbooks) or "no runbook: the whole-run checks only"
            named = "" if scenario.nemesis is not None else f"{entry.name}: "
            lines.append(
                f"  incident {number}: {named}{fault.action} {fault.target} at {fault.at:.2f}s ({books})"
            )
        lines.append("")
    lines.append("faults:")
    lines += [f"  {line}" for fault in scenario.faults for line in _fault(fault, env, backend, topology)]
    if not scenario.faults:
        lines.append("  none")
    lines += ["", "time bounds:"]
    lines += [f"  {line}" for line in _bounds(scenario)]
    return "\n".join(lines)


def _nodes(env: Environment, backend: str, topology: Topology | None) -> list[str]:
    if topology is None:
        kind = "cluster" if env.cluster else "Sentinel topology"
        return [
            f"environment {env.name} ({env.file}): a {kind} this run starts on the {backend} backend; node "
            "addresses are chosen when it starts"
        ]
    lines = [f"environment {env.name} ({env.file}): {env.owner}, as found:"]
    primaries = {s.primary for s in topology.shards} or {topology.initial_primary}
    for node in topology.nodes:
        role = "sentinel" if node.kind == "sentinel" else "replica"
        role = "primary" if node.name in primaries else role
        shard = topology.shard_of(node.name)
        where = f" (slots {shard.slots[0]}-{shard.slots[1]}'s shard)" if shard else ""
        lines.append(f"  {node.name:<11} {node.address:<22} {role}{where}")
    if env.cluster is not None:
        cluster = env.cluster
        lines.append(
            f"  matches the file: {cluster.shards} shards, {cluster.replicas_per_shard} replica(s) each, "
            f"cluster-node-timeout {cluster.node_timeout_ms} ms"
        )
        return lines + _logins(env)
    spec = env.sentinels
    lines.append(
        f"  matches the file: {env.replicas} replicas, {spec.count} Sentinels, quorum {spec.quorum}, "
        f"down-after {spec.down_after_ms} ms, failover-timeout {spec.failover_timeout_ms} ms, "
        f"parallel-syncs {spec.parallel_syncs}"
    )
    return lines + _logins(env)


def _logins(env: Environment) -> list[str]:
    """How each of the harness's roles logs in to a deployment it did not start: users and where their
    passwords are read from (never the passwords), and the TLS files."""
    deployment = env.external_deployment
    if deployment is None or not (deployment.logins or deployment.sentinel_login or deployment.tls):
        return []
    given = dict(deployment.logins)
    default = "the default user" + (" with auth:'s password" if env.password else ", no password")

    def login(own: ExternalLogin) -> str:
        source = own.password
        where = f"${source.name}" if source.kind == "env" else source.name
        return f"{own.user or 'the default user'} (password from {where})"

    lines = ["  logins:"]
    for role in ROLES:
        whose = login_of(role, given)
        shown = default if whose is None else login(given[whose]) if whose == role else f"as {whose}"
        lines.append(f"    {role:<9} {shown}")
    if env.cluster is None:
        sentinels = login(deployment.sentinel_login) if deployment.sentinel_login else "no login"
        lines.append(f"    {'Sentinels':<9} {sentinels}")
    if deployment.tls is not None:
        tls = deployment.tls
        certificate = f", client certificate {tls.cert}" if tls.cert else ", no client certificate"
        lines.append(f"    {'TLS':<9} CA {tls.ca}{certificate}")
    return lines


def _load_line(scenario: Scenario, key_prefix: str) -> str:
    load = scenario.load
    users = ", ".join(f"{w.kind} {w.users}" for w in load.workloads)
    cleanup = (
        "; removed at the end (SCAN MATCH + UNLINK, never FLUSHALL)"
        if scenario.environment.external_deployment
        else ""
    )
    return (
        f"load: {users} users for {format_seconds(load.duration)}; every key under {key_prefix}:* "
        f"(or {{{key_prefix}:...}} under a hash tag){cleanup}"
    )


def _fault(fault: FaultSpec, env: Environment, backend: str, topology: Topology | None) -> list[str]:
    when = f"at {format_seconds(fault.at)}" + (
        f" (+ up to {format_seconds(fault.jitter)})" if fault.jitter else ""
    )
    head = f"{when}: {fault.action} {fault.target}" + (" (the incident)" if fault.incident else "")
    return [head, *(f"    {line}" for line in _how(fault, env, backend, topology))]


def _how(fault: FaultSpec, env: Environment, backend: str, topology: Topology | None) -> list[str]:
    target = _target(fault.target, topology)
    deployment = env.external_deployment
    action = fault.kind
    if fault.server is not None:
        spec = fault.server
        command = SERVER_COMMANDS.get(spec.kind, spec.kind).format(
            seconds=spec.seconds, value_bytes=spec.value_bytes, keys=spec.keys, every=spec.every,
            connections=spec.connections, batch=spec.batch, cut_bytes=spec.cut_bytes,
            milliseconds=int(spec.seconds * 1000), mode=spec.mode.upper(), client_type=spec.client_type,
        )  # fmt: skip
        lines = [f"on {target}: {command}"]
        if deployment is None or action not in CONTROL_NEEDS:
            return lines
    if deployment is not None and fault.partition is not None and topology is not None:
        return _isolate_lines(fault.partition, env, topology)
    if deployment is not None and action in CONTROL_NEEDS:
        return [f"on {target}: {line}" for line in _control_lines(action, fault.target, env, topology)]
    if fault.partition is not None:
        groups = f"{', '.join(fault.partition.between)} | {', '.join(fault.partition.others)}"
        return [f"packets dropped between {groups} (nftables rules, removed at the heal or the end)"]
    if fault.network is not None:
        return [f"{fault.network.effect} on the proxied link {fault.target} (the drill's proxy)"]
    if action == "heal":
        return [f"every toxic or cut of {fault.target} removed"]
    if action == "surge":
        return ["more load users, through the load's own processes"]
    how = OWN_ACTIONS.get("docker" if env.external_compose_project else backend, OWN_ACTIONS["local"])
    return [f"on {target}: {how.get(action, action)}"]


def _target(name: str, topology: Topology | None) -> str:
    if topology is None:
        return name
    if name == "primary":
        node = topology.node(topology.initial_primary)
        return f"the primary when it fires (now {node.name}, {node.address})"
    if name == "replica":
        replicas = [n.name for n in topology.data_nodes if n.name != topology.initial_primary]
        return f"a replica chosen by the seed when it fires (one of {', '.join(replicas)})"
    if name in {n.name for n in topology.nodes}:
        return f"{name} ({topology.node(name).address})"
    return name


def _control_lines(action: str, target: str, env: Environment, topology: Topology | None) -> list[str]:
    from harness.backends.control import fill, node_variables  # the backends' own filling, not a copy

    deployment = env.external_deployment
    assert deployment is not None and deployment.control is not None
    if topology is None:
        return [f"control {step}" for step in CONTROL_NEEDS[action]]
    name = topology.initial_primary if target in ("primary", "last-killed") else target
    if target == "replica":
        name = next(n.name for n in topology.data_nodes if n.name != topology.initial_primary)
    node = topology.node(name)
    lines = []
    for i, step in enumerate(CONTROL_NEEDS[action]):
        template = deployment.control.template(step)
        if template is None:
            continue
        argv = fill(
            template,
            node_variables(deployment.control, node, "primary", topology.announced_address(name)),
            step,
        )
        when = "then, at the end of the drill" if i else "runs"
        lines.append(f"{when}: control {step}: {' '.join(argv)}")
    if target == "replica":
        lines.append(f"(shown for {name}; the replica is chosen when the fault fires)")
    return lines


def _isolate_lines(spec: PartitionSpec, env: Environment, topology: Topology) -> list[str]:
    """The team's isolate command on each node of a side, given the other side's hosts, as the topology is
    now (the groups are resolved again when the fault fires), then their rejoin at the heal."""
    from harness.backends.control import fill, node_variables

    assert env.external_deployment is not None and env.external_deployment.control is not None
    control = env.external_deployment.control
    primary = topology.initial_primary
    replicas = [n.name for n in topology.data_nodes if n.name != primary]
    groups = {"primary": [primary], "replica": replicas[:1], "replicas": replicas}
    groups["sentinels"] = [n.name for n in topology.sentinels]

    def side(names: tuple[str, ...]) -> list[str]:
        return [m for g in names for m in groups.get(g, [g])]

    between, others = side(spec.between), side(spec.others)
    cuts = [(between, others)] if spec.one_way else [(between, others), (others, between)]
    lines = []
    for senders, receivers in cuts:
        peers = ",".join(sorted({topology.node(n).host for n in senders}))
        for name in receivers:
            node = topology.node(name)
            variables = node_variables(control, node, "", topology.announced_address(name))
            for step, when in (("isolate", "runs"), ("rejoin", "then, at the heal or the end")):
                template = control.template(step)
                extra = {"peers": peers} if step == "isolate" else {}
                if template is not None:
                    argv = fill(template, {**variables, **extra}, step)
                    lines.append(f"on {name}: {when}: control {step}: {' '.join(argv)}")
    return lines


def _bounds(scenario: Scenario) -> list[str]:
    settings = scenario.environment.bound_settings()
    lines = []
    expect = scenario.expect
    for what, bound in (
        ("detection_within", expect.detection_within),
        ("recovery_within", expect.recovery_within),
    ):
        if bound is not None:
            lines.append(f"expect {what}: {_bound(bound, settings, scenario.environment)}")
    for runbook in scenario.runbooks:
        for section, steps in (("detect", runbook.detect), ("verify", runbook.verify)):
            for step in steps:
                if step.within is not None:
                    lines.append(
                        f"{runbook.name} / {step_name(section, step)}: within "
                        f"{_bound(step.within, settings, scenario.environment)}"
                    )
    return lines or ["none"]


SOURCES = {
    "down-after": "sentinels.down-after-milliseconds",
    "failover-timeout": "sentinels.failover-timeout",
    "node-timeout": "cluster.cluster-node-timeout",
    "min-replicas-max-lag": "config min-replicas-max-lag",
}


def _bound(bound: Bound, settings: dict[str, float], env: Environment) -> str:
    if not bound.names:
        return format_seconds(bound.resolve(settings))
    text = f"{bound} = {format_seconds(bound.resolve(settings))}"

    def source(name: str) -> str:
        # On a cluster, down-after is the node timeout: runbooks read the same on either topology.
        return SOURCES["node-timeout"] if env.cluster and name == "down-after" else SOURCES.get(name, name)

    where = ", ".join(
        f"{name} {format_seconds(settings[name])} from {source(name)} in {env.file}" for name in bound.names
    )
    return f"{text} ({where})"
