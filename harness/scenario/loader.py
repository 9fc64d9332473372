"""Load scenario, environment and runbook files into models, collecting every problem first."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast, get_args

from harness.errors import ConfigError, Problem
from harness.loopback import loopback_address
from harness.runbooks.checks.registry import all_checks
from harness.scenario.conf_values import render_value
from harness.scenario.durations import Bound, parse_bound, parse_duration
from harness.scenario.engine_verdict import config_verdict
from harness.scenario.fields import Cursor, Invalid, boolean, choice, integer, number, text
from harness.scenario.model import (
    NO_RETRY,
    PARTITION_GROUPS,
    Action,
    AlertsSpec,
    ConfigValue,
    Environment,
    Expectation,
    FaultAction,
    FaultSpec,
    LoadSpec,
    NetworkSpec,
    PartitionSpec,
    PauseSpec,
    ProxySpec,
    Response,
    RetryPolicy,
    Runbook,
    Scenario,
    SecuritySpec,
    SentinelSpec,
    ServerFaultKind,
    ServerFaultSpec,
    Step,
    SurgeSpec,
    Sweep,
    SweepSpec,
    WorkloadKind,
    WorkloadSpec,
)
from harness.scenario.params import parse_reply_class, read_params
from harness.scenario.plan import plan
from harness.scenario.procedures import GATHERERS, NEEDS_ARGUMENT, REMEDIATIONS, TRIGGER_OPTIONS, TRIGGERS
from harness.scenario.yamlsource import Source, load_yaml, render_path
from harness.secrets import SecretSource

T = TypeVar("T")

# Redis directives the harness sets itself; an environment may not override them.
MANAGED_DIRECTIVES = frozenset(
    {
        "port",
        "bind",
        "dir",
        "logfile",
        "daemonize",
        "pidfile",
        "replicaof",
        "slaveof",
        "include",
        "unixsocket",
    }
)

# Persistence templates for environments. "production" is SEED-FACTS.md's readiness item R4.
PERSISTENCE: dict[str, dict[str, ConfigValue]] = {
    "none": {},
    "production": {
        "appendonly": "yes",
        "appendfsync": "everysec",
        "aof-use-rdb-preamble": "yes",
        "save": "900 1 300 10 60 10000",
    },
}

# Retry presets from SEED-FACTS.md ("Client retry policy").
RETRY_PRESETS = {
    "none": NO_RETRY,
    "production": RetryPolicy("production", 3, 1.0, 8.0, ("timeout", "connection")),
    "operations": RetryPolicy("operations", 3, 0.5, 4.0, ("timeout", "connection", "BUSY")),
}
RETRYABLE_CLASSES = ("timeout", "connection", "BUSY", "LOADING", "READONLY", "MASTERDOWN", "TRYAGAIN")

# How much later than down-after-milliseconds detection may come when a scenario asks for "from_config".
DETECTION_SLACK_S = 1.0


def _checked(parse: Callable[[Path, list[Problem]], T | None], path: Path) -> T:
    """Run a file parser that collects problems; raise them all at once."""
    problems: list[Problem] = []
    result = parse(path, problems)
    if problems or result is None:
        raise ConfigError(problems)
    return result


def load_scenario(path: Path) -> Scenario:
    return _checked(_scenario, path)


def load_environment(path: Path) -> Environment:
    return _checked(_environment_file, path)


def load_runbook(path: Path) -> Runbook:
    return _checked(_runbook_file, path)


def load_sweep(path: Path) -> Sweep:
    return _checked(_sweep_file, path)


def load_drill(path: Path) -> Scenario | Sweep:
    """What `drill run` takes: a scenario, or a sweep (a file with a `sweep:` section)."""
    data = load_yaml(path).data
    if isinstance(data, dict) and "sweep" in data:
        return load_sweep(path)
    return load_scenario(path)


def load_any(path: Path) -> object:
    """Validate a file of any kind, guessing the kind from its keys."""
    source = load_yaml(path)
    data = source.data
    if isinstance(data, dict) and "sweep" in data:
        return load_sweep(path)
    if isinstance(data, dict) and "sentinels" in data:
        return load_environment(path)
    if isinstance(data, dict) and ("detect" in data or "verify" in data):
        return load_runbook(path)
    return load_scenario(path)


def _parse_file(path: Path, problems: list[Problem]) -> Cursor | None:
    try:
        return Cursor.root(load_yaml(path), problems)
    except ConfigError as exc:
        problems.extend(exc.problems)
        return None


def _environment_of(cur: Cursor, problems: list[Problem]) -> Environment | None:
    """The environment file a scenario or sweep names, loaded (its problems go to `problems`)."""
    if "environment" not in cur.value:
        cur.error("required field is missing", "environment")
        return None
    path = _referenced(cur.child("environment"))
    return _environment_file(path, problems) if path else None


def _referenced(cur: Cursor) -> Path | None:
    """A path named in a file (the cursor's value), relative to that file."""
    try:
        name = text(cur.value)
    except Invalid as exc:
        cur.error(str(exc))
        return None
    target = Path(os.path.normpath(Path(cur.source.file).parent / name))
    if not target.is_file():
        cur.error(f"file not found: {target}")
        return None
    return target


# --- environments -------------------------------------------------------------------------------------------


def _environment_file(path: Path, problems: list[Problem]) -> Environment | None:
    cur = _parse_file(path, problems)
    if cur is None:
        return None
    allowed = (
        "name",
        "engine",
        "backend",
        "master_name",
        "replicas",
        "sentinels",
        "config",
        "readiness_timeout",
        "proxy",
        "persistence",
        "auth",
        "security",
        "image",
        "external",
    )
    if not cur.mapping(allowed, "environment settings"):
        return None
    external = _external(cur) if "external" in cur.value else None
    if "external" in cur.value and external is None:
        return None
    name = cur.get("name", text)
    engine = cur.get("engine", choice("redis"), "redis")
    backend = cur.get("backend", choice("local", "docker"), "local")
    image = cur.get("image", text, None)
    master_name = cur.get("master_name", _master_name, "mymaster")
    replicas = cur.get("replicas", integer(0, 8))
    sentinels = _sentinels(cur.child("sentinels")) if "sentinels" in cur.value else None
    if sentinels is None and "sentinels" not in cur.value:
        cur.error("required field is missing", "sentinels")
    config = _config(cur.child("config")) if "config" in cur.value else ()
    readiness = cur.get("readiness_timeout", parse_duration, 20.0)
    proxy = _proxy(cur.child("proxy")) if "proxy" in cur.value else None
    persistence = cur.get("persistence", choice(*PERSISTENCE), "none")
    password = _auth(cur.child("auth")) if "auth" in cur.value else None
    if "auth" in cur.value and password is None:
        return None
    security = _security(cur) if "security" in cur.value else None
    if "security" in cur.value and security is None:
        return None
    if "image" in cur.value and image is None:
        return None
    if config is not None and persistence is not None:
        clashes = sorted(set(PERSISTENCE[persistence]) & {key for key, _ in config})
        if clashes:
            cur.error(
                f"sets {', '.join(clashes)}, which persistence: {persistence} sets too; keep one",
                "persistence",
            )
            return None
        config = (*config, *PERSISTENCE[persistence].items())
    if None in (name, engine, backend, master_name, replicas, sentinels, config, readiness, persistence):
        return None
    if "proxy" in cur.value and proxy is None:
        return None
    assert sentinels is not None and config is not None
    return Environment(
        file=path,
        name=str(name),
        engine="redis",
        backend="docker" if backend == "docker" else "local",
        master_name=str(master_name),
        replicas=int(replicas or 0),
        sentinels=sentinels,
        config=config,
        readiness_timeout=float(readiness or 0),
        proxy=proxy,
        password=password,
        security=security,
        image=str(image) if image else None,
        external_compose_project=external,
    )


# Settings of nodes the harness starts itself; an external environment's nodes are configured by their owner.
_STARTED_ONLY = ("config", "proxy", "persistence", "auth", "security", "image", "backend")


def _external(cur: Cursor) -> str | None:
    """external: {compose_project: NAME}: the nodes are that project's redis-N and sentinel-N containers."""
    clashes = [key for key in _STARTED_ONLY if key in cur.value]
    if clashes:
        cur.error(
            f"{', '.join(clashes)} cannot be set for an external environment: its nodes are not started "
            "by the harness",
            clashes[0],
        )
        return None
    sub = cur.child("external")
    if not sub.mapping(("compose_project",), "external settings"):
        return None
    project = sub.get("compose_project", text)
    return str(project) if project is not None else None


def _auth(cur: Cursor) -> SecretSource | None:
    """auth: {password_env: VAR} or {password_file: PATH}: the password itself never sits in a file we own."""
    if not cur.mapping(("password_env", "password_file"), "auth settings"):
        return None
    return _secret_source(cur, "password_env", "password_file")


def _secret_source(cur: Cursor, env_key: str, file_key: str) -> SecretSource | None:
    """One of {env_key: VARIABLE} or {file_key: PATH} (relative to the file that names it)."""
    given = [key for key in (env_key, file_key) if key in cur.value]
    if len(given) != 1:
        cur.error(f"give exactly one of {env_key}, {file_key}")
        return None
    name = cur.get(given[0], text)
    if name is None:
        return None
    if given[0] == file_key:
        name = str(Path(cur.source.file).parent / name)
    path = (*cur.path, given[0])
    where = Problem(cur.source.file, cur.source.line(path), render_path(path), "")
    return SecretSource("env" if given[0] == env_key else "file", name, where)


def _security(cur: Cursor) -> SecuritySpec | None:
    """security: {acl: bool, tls: bool, secret_env: VAR | secret_file: PATH}: users and certificates are
    made for each run; their passwords derive from the named secret, never written here."""
    sub = cur.child("security")
    if not sub.mapping(("acl", "tls", "secret_env", "secret_file"), "security settings"):
        return None
    acl, tls = sub.get("acl", boolean, True), sub.get("tls", boolean, True)
    if acl is None or tls is None:
        return None
    secret = None
    if "secret_env" in sub.value or "secret_file" in sub.value:
        secret = _secret_source(sub, "secret_env", "secret_file")
        if secret is None:
            return None
    if acl and "auth" in cur.value:
        cur.error(
            "auth: is the default user's password and security: acl turns the default user off; keep one",
            "security",
        )
        return None
    return SecuritySpec(acl=acl, tls=tls, secret=secret)


def _proxy(cur: Cursor) -> ProxySpec | None:
    if not cur.mapping(("clients", "replication", "server"), "proxy settings"):
        return None
    clients = cur.get("clients", boolean, False)
    replication = cur.get("replication", boolean, False)
    server = cur.get("server", _loopback_address, None)
    if clients is None or replication is None or ("server" in cur.value and server is None):
        return None
    return ProxySpec(clients=clients, replication=replication, server=server)


def _loopback_address(value: Any) -> tuple[str, int]:
    """host:port of a service on this machine: drills send traffic nowhere else (harness/loopback.py)."""
    return loopback_address(text(value))


def _master_name(value: Any) -> str:
    name = text(value)
    if not name.replace("-", "").replace("_", "").isalnum():
        raise Invalid(f"use letters, digits, '-' and '_' only, got {value!r}")
    return name


def _sentinels(cur: Cursor) -> SentinelSpec | None:
    keys = ("count", "quorum", "down-after-milliseconds", "failover-timeout", "parallel-syncs")
    if not cur.mapping(keys, "Sentinel settings"):
        return None
    count = cur.get("count", integer(1, 9))
    quorum = cur.get("quorum", integer(1))
    down_after = cur.get("down-after-milliseconds", integer(100), 5000)
    failover = cur.get("failover-timeout", integer(1000), 60000)
    parallel = cur.get("parallel-syncs", integer(1), 1)
    if count is not None and quorum is not None and quorum > count:
        cur.error(
            f"quorum {quorum} is larger than the number of Sentinels ({count}): no failover could happen",
            "quorum",
        )
        return None
    if None in (count, quorum, down_after, failover, parallel):
        return None
    return SentinelSpec(
        int(count or 0), int(quorum or 0), int(down_after or 0), int(failover or 0), int(parallel or 0)
    )


def _config(cur: Cursor) -> tuple[tuple[str, ConfigValue], ...] | None:
    value = cur.value
    if not isinstance(value, dict):
        cur.error("expected a mapping of redis.conf directives")
        return None
    out: list[tuple[str, ConfigValue]] = []
    ok = True
    for key, item in value.items():
        if key in MANAGED_DIRECTIVES:
            cur.error("set by the harness for every node; remove it from the environment", key)
            ok = False
        elif item is None or isinstance(item, dict | list):
            cur.error("expected a single value (string, number or yes/no)", key)
            ok = False
        else:
            out.append((str(key), item))
    if ok and (verdict := config_verdict(tuple(out))) is not None:
        index, words = verdict
        cur.error(
            f"redis-server refuses {out[index][0]} {render_value(out[index][1])}: {words}", out[index][0]
        )
        return None
    return tuple(out) if ok else None


# --- scenarios ----------------------------------------------------------------------------------------------


def _scenario(path: Path, problems: list[Problem]) -> Scenario | None:
    cur = _parse_file(path, problems)
    if cur is None:
        return None
    allowed = ("name", "description", "environment", "seed", "load", "faults", "runbooks", "expect", "alerts")
    if not cur.mapping(allowed, "scenario settings"):
        return None
    name = cur.get("name", text)
    description = cur.get("description", text, "")
    environment = _environment_of(cur, problems)
    seed = cur.get("seed", integer(0), 0)
    load = _load(cur.child("load")) if "load" in cur.value else cur.get("load", text)
    faults = (
        tuple(f for f in (_fault(c) for c in cur.child("faults").items()) if f)
        if "faults" in cur.value
        else ()
    )
    runbooks: list[Runbook] = []
    if "runbooks" in cur.value:
        for item in cur.child("runbooks").items():
            rb_path = _referenced(item)
            runbook = _runbook_file(rb_path, problems) if rb_path else None
            if runbook:
                runbooks.append(runbook)
    expect = _expect(cur.child("expect")) if "expect" in cur.value else Expectation(None, None, None)
    alerts = _alerts(cur.child("alerts")) if "alerts" in cur.value else None
    if "alerts" not in cur.value and any(
        s.check == "alert" for r in runbooks for s in (*r.detect, *r.verify)
    ):
        cur.error("a runbook checks alerts; add alerts: {time_scale: N} so Prometheus runs", "runbooks")
    if isinstance(load, LoadSpec):
        for i, fault in enumerate(faults):
            if fault.at + fault.jitter >= load.duration:
                cur.child("faults").child(i).error(
                    f"fault at {fault.at:g}s (+ jitter {fault.jitter:g}s) is not before the load ends "
                    f"({load.duration:g}s)",
                    "at",
                )
            if fault.action == "surge" and load.processes > 1:
                cur.child("faults").child(i).error(
                    "a surge grows the load in the drill's own process: it needs load.processes: 1", "surge"
                )
    if environment is not None:
        _check_targets(cur, faults, environment)
    if sum(f.incident for f in faults) > 1:
        cur.error("mark at most one fault as the incident", "faults")
    if problems or not isinstance(load, LoadSpec) or environment is None or expect is None:
        return None
    return Scenario(
        file=path,
        name=str(name),
        description=str(description),
        environment=environment,
        seed=int(seed or 0),
        load=load,
        faults=faults,
        runbooks=tuple(runbooks),
        expect=expect,
        alerts=alerts,
    )


def _alerts(cur: Cursor) -> AlertsSpec | None:
    """alerts: {time_scale: 30, scrape_interval: 500ms}"""
    if not cur.mapping(("time_scale", "scrape_interval"), "alerts settings"):
        return None
    scale = cur.get("time_scale", number(1.0, 3600.0), 1.0)
    interval = cur.get("scrape_interval", parse_duration, 0.5)
    if scale is None or interval is None:
        return None
    if interval < 0.1:
        cur.error("expected at least 100ms", "scrape_interval")
        return None
    return AlertsSpec(float(scale), float(interval))


WORKLOADS: dict[str, tuple[str, ...]] = {
    "acked-writes": ("users", "wait", "write_ratio"),
    "kv": ("users", "wait", "write_ratio"),
    "pipeline": ("users", "wait", "batch"),
    "bank": ("users", "wait", "accounts"),
    "lua-cas": ("users", "wait", "keys"),
    "keyspace": ("users", "wait"),
    "counter": ("users", "wait", "keys"),
}


def _load(cur: Cursor) -> LoadSpec | None:
    keys = ("workloads", "spawn_rate", "duration", "timeout", "retry", "processes")
    if not cur.mapping(keys, "load settings"):
        return None
    workloads = _workloads(cur.child("workloads")) if "workloads" in cur.value else None
    if "workloads" not in cur.value:
        cur.error("required field is missing", "workloads")
    users = sum(w.users for w in workloads) if workloads else 1
    spawn_rate = cur.get("spawn_rate", number(0.1, 10000), float(users))
    duration = cur.get("duration", parse_duration)
    timeout = cur.get("timeout", parse_duration, 0.5)
    retry = _retry(cur.child("retry")) if "retry" in cur.value else NO_RETRY
    processes = cur.get("processes", integer(1, 64), 1)
    if duration is not None and duration < 1:
        cur.error("the load must run for at least 1s", "duration")
        return None
    if None in (workloads, spawn_rate, duration, timeout, retry, processes):
        return None
    assert workloads is not None and retry is not None
    return LoadSpec(
        workloads,
        float(spawn_rate or 0),
        float(duration or 0),
        float(timeout or 0),
        retry,
        int(processes or 1),
    )


def _workloads(cur: Cursor) -> tuple[WorkloadSpec, ...] | None:
    if not cur.mapping(tuple(WORKLOADS), "workloads") or not cur.value:
        if isinstance(cur.value, dict):
            cur.error(f"name at least one workload ({', '.join(WORKLOADS)})")
        return None
    out: list[WorkloadSpec] = []
    ok = True
    for kind in cur.value:
        if kind not in WORKLOADS:
            ok = False
            continue
        spec = _workload(cur.child(kind), kind)
        ok = ok and spec is not None
        if spec is not None:
            out.append(spec)
    return tuple(out) if ok else None


def _workload(cur: Cursor, kind: str) -> WorkloadSpec | None:
    if not cur.mapping(WORKLOADS[kind], f"{kind} settings"):
        return None
    users = cur.get("users", integer(1, 1000))
    wait = cur.get("wait", parse_duration, 0.0)
    write_ratio = cur.get("write_ratio", number(0.0, 1.0), 0.5)
    batch = cur.get("batch", integer(1, 100_000), 100)
    accounts = cur.get("accounts", integer(2, 100_000), 10)
    keys = cur.get("keys", integer(1, 100_000), 4)
    if None in (users, wait, write_ratio, batch, accounts, keys):
        return None
    return WorkloadSpec(
        cast(WorkloadKind, kind),
        int(users or 0),
        float(wait or 0),
        float(write_ratio or 0),
        int(batch or 0),
        int(accounts or 0),
        int(keys or 0),
    )


def _retry(cur: Cursor) -> RetryPolicy | None:
    value = cur.value
    if isinstance(value, str):
        if value not in RETRY_PRESETS:
            cur.error(
                f"unknown retry preset {value!r} (expected one of: {', '.join(RETRY_PRESETS)}, or a mapping)"
            )
            return None
        return RETRY_PRESETS[value]
    if not cur.mapping(("retries", "base", "cap", "on"), "retry settings"):
        return None
    retries = cur.get("retries", integer(0, 10))
    base = cur.get("base", parse_duration)
    cap = cur.get("cap", parse_duration, None)
    on = cur.get("on", _error_classes)
    if None in (retries, base, on):
        return None
    assert base is not None and on is not None
    return RetryPolicy("custom", int(retries or 0), base, cap if cap is not None else base * 8, on)


def _error_classes(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise Invalid(f"expected a list of error classes from: {', '.join(RETRYABLE_CLASSES)}")
    for item in value:
        if item not in RETRYABLE_CLASSES:
            raise Invalid(f"unknown error class {item!r} (expected: {', '.join(RETRYABLE_CLASSES)})")
    return tuple(value)


SERVER_FAULTS: tuple[str, ...] = get_args(ServerFaultKind)
ACTIONS: tuple[str, ...] = get_args(FaultAction)  # kill, restart, network, heal, surge, then SERVER_FAULTS


def _fault(cur: Cursor) -> FaultSpec | None:
    if not cur.mapping(("at", "jitter", "incident", *ACTIONS), "fault settings"):
        return None
    at = cur.get("at", parse_duration)
    jitter = cur.get("jitter", parse_duration, 0.0)
    incident = cur.get("incident", boolean, False)
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
    if not cur.mapping(("between", "and", "one-way"), "partition settings"):
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
    if not cur.mapping(("node", "duration"), "pause settings"):
        return None
    node = cur.get("node", text, "primary")
    seconds = cur.get("duration", parse_duration)
    if node is None or seconds is None:
        return None
    return str(node), PauseSpec(float(seconds))


def _surge(cur: Cursor) -> SurgeSpec | None:
    """surge: {users: 20, duration: 5s}: that many more load users, for that long."""
    if not cur.mapping(("users", "duration"), "surge settings"):
        return None
    users = cur.get("users", integer(1, 10_000))
    seconds = cur.get("duration", parse_duration)
    if users is None or seconds is None:
        return None
    return SurgeSpec(int(users), float(seconds))


_SERVER_FAULT_PARAMS = {
    "long-script": ("node", "duration", "writes"),
    "oom": ("node", "value_bytes"),
    "misconf": ("node",),
    "slow-command": ("node", "keys", "every"),
    "client-flood": ("node", "connections"),
    "loading": ("node", "keys"),
    "switchover": (),
    "truncate-aof": ("node", "bytes"),
    "snapshot-restore": ("node",),
}


def _server_fault(cur: Cursor, kind: str) -> tuple[str, ServerFaultSpec] | None:
    """long-script: {node: primary, duration: 30s, writes: false}, oom: {node: primary}, misconf: {}"""
    if cur.value is None:
        return "primary", ServerFaultSpec(kind)  # type: ignore[arg-type]
    if not cur.mapping(_SERVER_FAULT_PARAMS[kind], f"{kind} settings"):
        return None
    node = cur.get("node", text, "primary")
    seconds = cur.get("duration", parse_duration, 30.0)
    writes = cur.get("writes", boolean, False)
    value_bytes = cur.get("value_bytes", integer(1, 16 * 1024 * 1024), 65536)
    keys = cur.get("keys", integer(1, 10_000_000), 200_000)
    every = cur.get("every", parse_duration, 0.2)
    connections = cur.get("connections", integer(1, 15_000), 1100)
    cut = cur.get("bytes", integer(1, 1 << 30), 64)
    if None in (node, seconds, writes, value_bytes, keys, every, connections, cut):
        return None
    spec = ServerFaultSpec(
        kind,  # type: ignore[arg-type]
        float(seconds or 0),
        bool(writes),
        int(value_bytes or 0),
        int(keys or 0),
        float(every or 0),
        int(connections or 0),
        int(cut or 0),
    )
    return str(node), spec


NETWORK_EFFECTS = ("latency", "bandwidth", "timeout", "reset", "partition")


def _network(cur: Cursor) -> tuple[str, NetworkSpec] | None:
    if not cur.mapping(("link", "stream", "jitter", *NETWORK_EFFECTS), "network fault settings"):
        return None
    link = cur.get("link", text)
    stream = cur.get("stream", choice("upstream", "downstream", "both"), "both")
    effects = [key for key in NETWORK_EFFECTS if key in cur.value]
    if len(effects) != 1:
        cur.error(f"a network fault needs exactly one effect: {', '.join(NETWORK_EFFECTS)}")
        return None
    effect = effects[0]
    spec: NetworkSpec | None = None
    if effect == "latency":
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


def _check_targets(cur: Cursor, faults: tuple[FaultSpec, ...], env: Environment) -> None:
    names = node_names(env)
    cuts = any(f.partition is not None for f in faults)
    for i, fault in enumerate(faults):
        where = cur.child("faults").child(i)
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
            if fault.target not in ("primary", *data):
                where.child(fault.action).error(
                    f"unknown node {fault.target!r} (expected one of: primary, {', '.join(data)})", "node"
                )
            continue
        roles = ("primary", "replica") if fault.action == "kill" else ("last-killed",)
        if fault.target not in roles + names:
            where.error(
                f"unknown target {fault.target!r} (expected one of: {', '.join(roles + names)})", fault.action
            )
        if fault.target == "replica" and env.replicas == 0:
            where.error("the environment has no replicas to kill", fault.action)


def _check_partition(cur: Cursor, spec: PartitionSpec, env: Environment, names: tuple[str, ...]) -> None:
    known = (*PARTITION_GROUPS, *(f"sentinel-{i + 1}" for i in range(env.sentinels.count)), *names)
    for key, groups in (("between", spec.between), ("and", spec.others)):
        for group in groups:
            if group not in known:
                cur.error(f"unknown group {group!r} (expected: {', '.join(dict.fromkeys(known))})", key)
    if env.proxy is not None and (env.proxy.clients or env.proxy.replication):
        cur.error(
            f"per-peer partitions tell peers apart by address, but {env.file} sends clients, Sentinels and "
            "replicas through the proxy (proxy:), where they all share its address; drop proxy: or use a "
            "network fault with partition: true"
        )
    if env.external_compose_project is not None:
        cur.error(f"{env.file} is an external environment: the harness cannot cut its network")


def read_expectations(source: Source, problems: list[Problem]) -> Expectation | None:
    """An expect: section on its own (`drill evaluate --expect KEY=VALUE`)."""
    return _expect(Cursor.root(source, problems))


def _expect(cur: Cursor) -> Expectation | None:
    known = ("detection_within", "recovery_within", "lost_acknowledged_writes", "clients_ride_out")
    if not cur.mapping(known, "expectations"):
        return None
    before = len(cur.problems)
    detection = cur.get("detection_within", _detection_bound, None)
    recovery = cur.get("recovery_within", parse_bound, None)
    lost = cur.get("lost_acknowledged_writes", _lost_writes, None)
    ride_out = cur.get("clients_ride_out", boolean, False)
    if len(cur.problems) > before:
        return None
    return Expectation(detection, recovery, lost, bool(ride_out))


def _detection_bound(value: Any) -> Bound:
    if value == "from_config":
        return Bound(DETECTION_SLACK_S, ("down-after",))
    return parse_bound(value)


def _lost_writes(value: Any) -> int | None:
    if value == "report":
        return None
    return integer(0)(value)


# --- sweeps ------------------------------------------------------------------------------------------------


def _sweep_file(path: Path, problems: list[Problem]) -> Sweep | None:
    cur = _parse_file(path, problems)
    if cur is None:
        return None
    if not cur.mapping(("name", "description", "environment", "seed", "sweep"), "sweep settings"):
        return None
    name = cur.get("name", text)
    description = cur.get("description", text, "")
    environment = _environment_of(cur, problems)
    seed = cur.get("seed", integer(0), 0)
    spec = _sweep(cur.child("sweep"))
    if environment is not None and spec is not None and spec.link not in link_names(environment):
        cur.child("sweep").error(
            f"unknown link {spec.link!r} (the environment offers: "
            f"{', '.join(link_names(environment)) or 'none; set proxy: {clients: true}'})",
            "link",
        )
    if problems or name is None or environment is None or spec is None:
        return None
    return Sweep(path, name, str(description), environment, int(seed or 0), spec)


def _sweep(cur: Cursor) -> SweepSpec | None:
    if not cur.mapping(("link", "rtt", "batch", "connections", "cell_duration"), "sweep settings"):
        return None
    link = cur.get("link", text, "primary")
    rtts = cur.get("rtt", _list_of(parse_duration))
    batches = cur.get("batch", _list_of(integer(1, 100_000)))
    connections = cur.get("connections", _list_of(integer(1, 1000)))
    cell = cur.get("cell_duration", parse_duration, 1.0)
    if link is None or rtts is None or batches is None or connections is None or cell is None:
        return None
    return SweepSpec(link, tuple(rtts), tuple(batches), tuple(connections), cell)


def _list_of(parse: Any) -> Any:
    def parse_list(value: Any) -> list[Any]:
        if not isinstance(value, list) or not value:
            raise Invalid("expected a non-empty list")
        return [parse(item) for item in value]

    return parse_list


# --- runbooks -----------------------------------------------------------------------------------------------


def _runbook_file(path: Path, problems: list[Problem]) -> Runbook | None:
    cur = _parse_file(path, problems)
    if cur is None:
        return None
    if not cur.mapping(("name", "detect", "respond", "verify"), "runbook settings"):
        return None
    name = cur.get("name", text)
    before = len(problems)
    detect = (
        tuple(s for s in (_step(c) for c in cur.child("detect").items()) if s)
        if "detect" in cur.value
        else ()
    )
    verify = (
        tuple(s for s in (_step(c) for c in cur.child("verify").items()) if s)
        if "verify" in cur.value
        else ()
    )
    if not detect and not verify and len(problems) == before:
        cur.error("a runbook needs at least one step under detect or verify")
    respond = _response(cur.child("respond")) if "respond" in cur.value else None
    if name is None or len(problems) > before:
        return None
    return Runbook(file=path, name=name, detect=detect, verify=verify, respond=respond)


def _step(cur: Cursor) -> Step | None:
    checks = all_checks()
    value = cur.value
    if not isinstance(value, dict) or len(value) != 1:
        cur.error(f"a step is a mapping with exactly one check name (one of: {', '.join(checks)})")
        return None
    name = next(iter(value))
    if name not in checks:
        cur.error(f"unknown check (expected one of: {', '.join(checks)})", name)
        return None
    params = cur.child(name)
    line = cur.source.line(params.path)
    parsed = read_params(params, checks[name].params, extra=("within",))
    within = params.get("within", parse_bound, None) if isinstance(params.value, dict) else None
    if parsed is None or (isinstance(params.value, dict) and "within" in params.value and within is None):
        return None
    return Step(check=name, line=line, params=parsed, within=within)


def _true(value: Any) -> float:
    if value is not True:
        raise Invalid(f"expected true, got {value!r}")
    return 1.0


def _response(cur: Cursor) -> Response | None:
    """respond: {when: {reply: BUSY, within: 15s}, steps: [{gather: slowlog}, {remediate: script-kill}]}"""
    if not cur.mapping(("when", "steps"), "respond settings"):
        return None
    when = cur.child("when")
    if "when" not in cur.value:
        cur.error("required field is missing", "when")
        return None
    kinds = tuple(TRIGGERS)
    if not when.mapping((*kinds, *TRIGGER_OPTIONS), "respond.when settings"):
        return None
    given = [k for k in kinds if k in when.value]
    if len(given) != 1:
        when.error(f"give exactly one of {', '.join(kinds)}")
        return None
    kind = given[0]
    parse: Callable[[Any], Any] = {
        "reply": parse_reply_class,
        "latency_above": parse_duration,
        "after": parse_duration,
        "unreachable": _true,
    }.get(kind, number(0.0, 1.0))
    value = when.get(kind, parse)
    hold = when.get("for", parse_duration, 0.0)
    probe = when.get("probe", choice("write", "read"), "write")
    within = when.get("within", parse_duration, 15.0)
    if "steps" not in cur.value:
        cur.error("required field is missing", "steps")
        return None
    steps = [_action(c) for c in cur.child("steps").items()]
    if value is None or hold is None or probe is None or within is None or None in steps:
        return None
    chosen = tuple(s for s in steps if s is not None)
    if kind == "reply":
        return Response("reply", float(within), chosen, reply=str(value), hold=float(hold), probe=probe)  # type: ignore[arg-type]
    return Response(kind, float(within), chosen, threshold=float(value), hold=float(hold), probe=probe)  # type: ignore[arg-type]


def _action(cur: Cursor) -> Action | None:
    value = cur.value
    kinds = [k for k in ("gather", "remediate") if isinstance(value, dict) and k in value]
    if len(kinds) != 1:
        cur.error("a respond step has exactly one of gather, remediate (and optionally if_still, argument)")
        return None
    kind = kinds[0]
    if not cur.mapping((kind, "if_still", "argument"), f"{kind} step"):
        return None
    catalogue = GATHERERS if kind == "gather" else REMEDIATIONS
    name = cur.get(kind, choice(*catalogue))
    if_still = cur.get("if_still", parse_reply_class, "")
    argument = cur.get("argument", text, "")
    if name is None or if_still is None or argument is None:
        return None
    if name in NEEDS_ARGUMENT and not argument:
        cur.error(f"{name} needs an argument ({NEEDS_ARGUMENT[name]})", kind)
        return None
    line = cur.source.line((*cur.path, kind))
    return Action(kind, str(name), line, str(if_still), str(argument))  # type: ignore[arg-type]
