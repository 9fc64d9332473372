"""Environment files: topology, Sentinel settings, redis.conf directives, proxy, security."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

from harness.core.engines import ENGINE_NAMES, SYSTEM_ENGINE
from harness.core.errors import Problem
from harness.core.loopback import Network, allowed_address, loopback_address
from harness.core.secrets import SecretSource
from harness.scenario.conf_values import render_value
from harness.scenario.durations import parse_duration
from harness.scenario.engine_verdict import config_verdict
from harness.scenario.fields import Cursor, Invalid, boolean, choice, integer, text
from harness.scenario.files import parse_file, referenced
from harness.scenario.model import (
    CONTROL_ACTIONS,
    NO_SENTINELS,
    AddressedDeployment,
    ClusterSpec,
    ConfigValue,
    ControlSpec,
    Environment,
    ExternalLogin,
    ExternalTls,
    ProxySpec,
    SecuritySpec,
    SentinelSpec,
)
from harness.scenario.yamlsource import render_path

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


# The keys each part of an environment file takes (the loader's and `drill schema`'s one list).
ENVIRONMENT_KEYS = (
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
    "topology",
    "cluster",
    "confirm",
)
CLUSTER_KEYS = ("shards", "replicas_per_shard", "cluster-node-timeout")
EXTERNAL_KEYS = (
    "compose_project",
    "sentinels",
    "seeds",
    "networks",
    "control",
    "nodes",
    "address_map",
    "key_prefix",
    "users",
    "sentinel_auth",
    "tls",
)
LOGIN_KEYS = ("user", "password_env", "password_file")
TLS_FILE_KEYS = ("ca", "cert", "key")
LOGIN_ROLES = ("operator", "monitor", "load", "exporter")
AUTH_KEYS = ("password_env", "password_file")
SECURITY_KEYS = ("acl", "tls", "secret_env", "secret_file")
PROXY_KEYS = ("clients", "replication", "server")
SENTINEL_KEYS = ("count", "quorum", "down-after-milliseconds", "failover-timeout", "parallel-syncs")


def environment_file(
    path: Path, problems: list[Problem], engine_override: str | None = None
) -> Environment | None:
    """engine_override: the engine it will run on instead of its own (`drill run --engine`): its config
    is checked against that one."""
    cur = parse_file(path, problems)
    if cur is None:
        return None
    if not cur.mapping(ENVIRONMENT_KEYS, "environment settings"):
        return None
    if cur.get("topology", choice("sentinel", "cluster"), "sentinel") == "cluster":
        return _cluster_environment(path, cur, engine_override)
    if "cluster" in cur.value:
        cur.error("cluster settings need topology: cluster", "cluster")
        return None
    external = _external(cur) if "external" in cur.value else None
    if "external" in cur.value and external is None:
        return None
    confirm = cur.get("confirm", text, None)
    if "confirm" in cur.value and (confirm is None or external is None):
        if confirm is not None:
            cur.error("is for external environments: a run of one must name it with --target", "confirm")
        return None
    name = cur.get("name", text)
    engine = engine_override or cur.get("engine", choice(SYSTEM_ENGINE, *ENGINE_NAMES), SYSTEM_ENGINE)
    backend = cur.get("backend", choice("local", "docker"), "local")
    image = cur.get("image", text, None)
    master_name = cur.get("master_name", _master_name, "mymaster")
    replicas = cur.get("replicas", integer(0, 8))
    sentinels = _sentinels(cur.child("sentinels")) if "sentinels" in cur.value else None
    if sentinels is None and "sentinels" not in cur.value:
        cur.error("required field is missing", "sentinels")
    config = _config(cur.child("config"), str(engine or SYSTEM_ENGINE)) if "config" in cur.value else ()
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
        engine=str(engine),
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
        external_compose_project=external if isinstance(external, str) else None,
        external_deployment=external if isinstance(external, AddressedDeployment) else None,
        confirm=confirm,
    )


# Sentinel topologies only: a cluster has its own replicas (per shard) and no Sentinels.
_SENTINEL_ONLY = ("replicas", "sentinels", "master_name")
# Set from the cluster: section; a config: entry would contradict it.
CLUSTER_DIRECTIVES = frozenset({"cluster-enabled", "cluster-config-file", "cluster-node-timeout"})


def _cluster_environment(path: Path, cur: Cursor, engine_override: str | None) -> Environment | None:
    """topology: cluster: `shards` primaries with `replicas_per_shard` replicas each, created as operators
    do (slots assigned, nodes met, replicas attached), no Sentinels."""
    before = len(cur.problems)
    for key in _SENTINEL_ONLY:
        if key in cur.value:
            cur.error(
                "is a Sentinel-only field (a cluster has no Sentinels; its replicas are "
                "cluster.replicas_per_shard per shard)",
                key,
            )
    external = _external(cur, cluster=True) if "external" in cur.value else None
    confirm = cur.get("confirm", text, None)
    if "confirm" in cur.value and confirm is not None and external is None:
        cur.error("is for external environments: a run of one must name it with --target", "confirm")
    if "cluster" not in cur.value:
        cur.error("required field is missing (shards, replicas_per_shard, cluster-node-timeout)", "cluster")
        return None
    cluster = _cluster(cur.child("cluster"))
    name = cur.get("name", text)
    engine = engine_override or cur.get("engine", choice(SYSTEM_ENGINE, *ENGINE_NAMES), SYSTEM_ENGINE)
    backend = cur.get("backend", choice("local", "docker"), "local")
    image = cur.get("image", text, None)
    config = _config(cur.child("config"), str(engine or SYSTEM_ENGINE)) if "config" in cur.value else ()
    for key, _ in config or ():
        if key in CLUSTER_DIRECTIVES:
            cur.child("config").error("set from the cluster: section; remove it from config", key)
            config = None
    readiness = cur.get("readiness_timeout", parse_duration, 30.0)
    persistence = cur.get("persistence", choice(*PERSISTENCE), "none")
    if config is not None and persistence is not None:
        config = (*config, *PERSISTENCE[persistence].items())
    password = _auth(cur.child("auth")) if "auth" in cur.value else None
    security = _security(cur) if "security" in cur.value else None
    proxy = _proxy(cur.child("proxy")) if "proxy" in cur.value else None
    if proxy is not None and proxy.replication:
        # Replicas attach by the node ids the nodes exchange over the bus, at the addresses they announce.
        cur.child("proxy").error(
            "replication links are for Sentinel topologies; a cluster's replicas follow their primary at "
            "the address it announces (use clients: true, and partitions or network faults on a node)",
            "replication",
        )
    if len(cur.problems) > before or None in (cluster, name, engine, backend, config, readiness, persistence):
        return None
    if "external" in cur.value and not isinstance(external, AddressedDeployment):
        return None
    assert cluster is not None and config is not None
    return Environment(
        file=path,
        name=str(name),
        engine=str(engine),
        backend="docker" if backend == "docker" else "local",
        master_name=str(name),
        replicas=cluster.nodes - 1,
        sentinels=NO_SENTINELS,
        config=config,
        readiness_timeout=float(readiness or 0),
        proxy=proxy,
        password=password,
        security=security,
        image=str(image) if image else None,
        cluster=cluster,
        external_deployment=external if isinstance(external, AddressedDeployment) else None,
        confirm=confirm,
    )


def _cluster(cur: Cursor) -> ClusterSpec | None:
    if not cur.mapping(CLUSTER_KEYS, "cluster settings"):
        return None
    shards = cur.get("shards", _shard_count)
    replicas = cur.get("replicas_per_shard", integer(0, 4), 1)
    timeout = cur.get("cluster-node-timeout", integer(100), 15000)
    if shards is None or replicas is None or timeout is None:
        return None
    return ClusterSpec(int(shards), int(replicas), int(timeout))


def _shard_count(value: Any) -> int:
    count = integer(None, 16)(value)
    if count < 3:
        # Failover needs a majority of primaries to agree a node failed: with fewer than three, losing one
        # leaves no majority, as redis-cli --cluster create refuses too.
        raise Invalid(
            f"a cluster needs at least 3 shards (a majority of primaries elects a failover), got {count}"
        )
    return count


# Settings of nodes the harness starts itself; an external environment's nodes are configured by their owner.
_STARTED_ONLY = ("config", "proxy", "persistence", "auth", "security", "image", "backend")


def _external(cur: Cursor, cluster: bool = False) -> str | AddressedDeployment | None:
    """external: {compose_project: NAME}: the nodes are that project's redis-N and sentinel-N containers;
    external: {sentinels: [HOST:PORT, ...], control: {...}, nodes: {...}}: a deployment found by address;
    on topology: cluster, external: {seeds: [HOST:PORT, ...], ...}: a cluster found through its nodes."""
    sub = cur.child("external")
    if not sub.mapping(EXTERNAL_KEYS, "external settings"):
        return None
    finder = "seeds" if cluster else "sentinels"
    for wrong in ("compose_project", "sentinels") if cluster else ("seeds",):
        if wrong in sub.value:
            sub.error(
                "an external cluster is found through its nodes: give external.seeds"
                if cluster
                else "seeds are for topology: cluster; a Sentinel deployment is found by external.sentinels",
                wrong,
            )
            return None
    if cluster and "seeds" not in sub.value:
        sub.error("required field is missing (a node or more of the cluster, HOST:PORT)", "seeds")
        return None
    by_address = finder in sub.value
    # An addressed deployment's clients log in as the team's do: a password from the environment.
    started_only = tuple(k for k in _STARTED_ONLY if not (by_address and k == "auth"))
    clashes = [key for key in started_only if key in cur.value]
    if clashes:
        cur.error(
            f"{', '.join(clashes)} cannot be set for an external environment: its nodes are not started "
            "by the harness",
            clashes[0],
        )
        return None
    if not by_address:
        for key in EXTERNAL_KEYS[3:]:  # all but compose_project, sentinels and seeds
            if key in sub.value:
                sub.error("is for a deployment found by address (external.sentinels)", key)
        project = sub.get("compose_project", text)
        return str(project) if project is not None else None
    if "compose_project" in sub.value:
        sub.error("give compose_project or sentinels, not both", "compose_project")
        return None
    before = len(cur.problems)
    listed = sub.child("networks").items() if "networks" in sub.value else []
    networks = tuple(n for n in map(_network_at, listed) if n is not None)
    found_by = [_address_at(item, networks) for item in sub.child(finder).items()]
    if not found_by and len(cur.problems) == before:
        sub.child(finder).error(f"list at least one {'node' if cluster else 'Sentinel'}'s host:port")
    address_map = _address_map(sub.child("address_map"), networks) if "address_map" in sub.value else ()
    announced = {f"{h}:{p}" for (h, p), _ in address_map}
    control = _control(sub, announced, networks) if "control" in sub.value or "nodes" in sub.value else None
    prefix = sub.get("key_prefix", key_prefix, "drill")
    logins = _logins(sub.child("users")) if "users" in sub.value else ()
    sentinel_login = _login(sub.child("sentinel_auth")) if "sentinel_auth" in sub.value else None
    if cluster and "sentinel_auth" in sub.value:
        sub.error("a cluster has no Sentinels", "sentinel_auth")
    tls = _tls_files(sub.child("tls")) if "tls" in sub.value else None
    if len(cur.problems) > before or None in found_by or prefix is None:
        return None
    addresses = tuple(a for a in found_by if a is not None)
    return AddressedDeployment(
        () if cluster else addresses,
        control,
        address_map,
        prefix,
        networks,
        addresses if cluster else (),
        logins,
        sentinel_login,
        tls,
    )


def _logins(cur: Cursor) -> tuple[tuple[str, ExternalLogin], ...]:
    """users: {ROLE: {user: NAME, password_env: VAR | password_file: PATH}} for the harness's own roles."""
    if not cur.mapping(LOGIN_ROLES, "logins per role"):
        return ()
    out = []
    for role in LOGIN_ROLES:
        if role in cur.value:
            login = _login(cur.child(role))
            if login is not None:
                out.append((role, login))
    return tuple(out)


def _login(cur: Cursor) -> ExternalLogin | None:
    if not cur.mapping(LOGIN_KEYS, "login"):
        return None
    user = cur.get("user", text, None)
    password = _secret_source(cur, "password_env", "password_file")
    if password is None or ("user" in cur.value and user is None):
        return None
    return ExternalLogin(str(user) if user is not None else None, password)


def _tls_files(cur: Cursor) -> ExternalTls | None:
    """tls: {ca: PATH, cert: PATH, key: PATH} (relative to the file): the team's own files, as they are."""
    if not cur.mapping(TLS_FILE_KEYS, "TLS files"):
        return None
    if "ca" not in cur.value:
        cur.error("required field is missing (the CA the servers' certificates chain to)", "ca")
        return None
    if ("cert" in cur.value) != ("key" in cur.value):
        cur.error("give cert and key together (a client certificate and its key)", "cert")
        return None
    paths: dict[str, Path] = {}
    for key in TLS_FILE_KEYS:
        if key in cur.value:
            path = Path(cur.source.file).parent / str(cur.value[key])
            if not path.is_file():
                cur.error(f"{path} is not a file", key)
                continue
            paths[key] = path
    if len(paths) != len([k for k in TLS_FILE_KEYS if k in cur.value]):
        return None
    return ExternalTls(paths["ca"], paths.get("cert"), paths.get("key"))


def _network_at(cur: Cursor) -> Network | None:
    """A network the deployment lives in, besides this machine's loopback: the drill reaches nothing else."""
    try:
        network = ipaddress.ip_network(str(cur.value), strict=False)
    except ValueError:
        cur.error(f"expected a network such as 10.20.0.0/24, got {cur.value!r}")
        return None
    if network.prefixlen < 8:
        cur.error(f"{network} would let the drill reach almost anywhere; name the deployment's own networks")
        return None
    return network


def key_prefix(value: Any) -> str:
    """The first part of every key a run writes (`PREFIX:<run id>:...`): no glob or hash-tag characters,
    since the end of the run removes exactly SCAN MATCH PREFIX:<run id>:*."""
    given = str(value)
    if not given or any(c in given for c in "*?[]{}\\ :") or not given.isprintable():
        raise Invalid(
            f"expected a key prefix such as drill or staging-drill (no glob characters), got {value!r}"
        )
    return given


def _address_map(
    cur: Cursor, networks: tuple[Network, ...]
) -> tuple[tuple[tuple[str, int], tuple[str, int]], ...]:
    """address_map: {ANNOUNCED HOST:PORT: REACHABLE HOST:PORT}; what is reached must be on loopback or in
    the deployment's networks."""
    if not cur.mapping(tuple(map(str, cur.value or ())), "announced address -> reachable address"):
        return ()
    out = []
    for announced in cur.value:
        host, _, port = str(announced).rpartition(":")
        if not host or not port.isdigit():
            cur.child(announced).error(f"expected an announced host:port, got {announced!r}")
            continue
        target = _address_at(cur.child(announced), networks)
        if target is not None:
            out.append(((host.strip("[]"), int(port)), target))
    return tuple(out)


def _address_at(cur: Cursor, networks: tuple[Network, ...]) -> tuple[str, int] | None:
    try:
        return allowed_address(text(cur.value), networks)
    except (Invalid, ValueError) as exc:
        cur.error(str(exc))
        return None


def _control(sub: Cursor, announced: set[str], networks: tuple[Network, ...]) -> ControlSpec | None:
    """control: {timeout: D, ACTION: [argv template], ...} and nodes: {HOST:PORT: {VAR: VALUE}}."""
    control = sub.child("control")
    actions: list[tuple[str, tuple[str, ...]]] = []
    timeout: float | None = 10.0
    if "control" in sub.value and control.mapping((*CONTROL_ACTIONS, "timeout"), "control commands"):
        timeout = control.get("timeout", parse_duration, 10.0)
        for action in CONTROL_ACTIONS:
            if action in control.value:
                argv = control.get(action, _argv)
                if argv is not None:
                    actions.append((action, argv))
    node_vars: list[tuple[str, tuple[tuple[str, str], ...]]] = []
    nodes = sub.child("nodes")
    if "nodes" in sub.value and nodes.mapping(tuple(map(str, nodes.value or ())), "nodes by address"):
        for address, variables in nodes.value.items():
            where = nodes.child(address)
            try:
                if str(address) not in announced:  # an announced address maps to a reachable one
                    allowed_address(str(address), networks)
            except (Invalid, ValueError) as exc:
                where.error(f"{exc} (or an announced address of external.address_map)")
                continue
            if not isinstance(variables, dict) or not all(isinstance(k, str) for k in variables):
                where.error("expected a mapping of variable names to values")
                continue
            node_vars.append((str(address), tuple((k, render_value(v)) for k, v in variables.items())))
    if timeout is None:
        return None
    return ControlSpec(tuple(actions), float(timeout), tuple(node_vars))


def _argv(value: Any) -> tuple[str, ...]:
    """An argv template: a list of words, the first the program. No shell runs it unless it names one."""
    if not isinstance(value, list) or not value or not all(isinstance(w, str | int) for w in value):
        raise Invalid("expected a command as a list of words, e.g. [systemctl, kill, -s, KILL, '{unit}']")
    return tuple(str(word) for word in value)


def _auth(cur: Cursor) -> SecretSource | None:
    """auth: {password_env: VAR} or {password_file: PATH}: the password itself never sits in a file we own."""
    if not cur.mapping(AUTH_KEYS, "auth settings"):
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
    if not sub.mapping(SECURITY_KEYS, "security settings"):
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
    if not cur.mapping(PROXY_KEYS, "proxy settings"):
        return None
    clients = cur.get("clients", boolean, False)
    replication = cur.get("replication", boolean, False)
    server = cur.get("server", _loopback_address, None)
    if clients is None or replication is None or ("server" in cur.value and server is None):
        return None
    return ProxySpec(clients=clients, replication=replication, server=server)


def _loopback_address(value: Any) -> tuple[str, int]:
    """host:port of a service on this machine: drills send traffic nowhere else (harness/core/loopback.py)."""
    return loopback_address(text(value))


def _master_name(value: Any) -> str:
    name = text(value)
    if not name.replace("-", "").replace("_", "").isalnum():
        raise Invalid(f"use letters, digits, '-' and '_' only, got {value!r}")
    return name


def _sentinels(cur: Cursor) -> SentinelSpec | None:
    if not cur.mapping(SENTINEL_KEYS, "Sentinel settings"):
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


def _config(cur: Cursor, engine: str) -> tuple[tuple[str, ConfigValue], ...] | None:
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
    if ok and (verdict := config_verdict(tuple(out), engine)) is not None:
        index, words = verdict
        who = "redis-server" if engine == SYSTEM_ENGINE else engine
        cur.error(f"{who} refuses {out[index][0]} {render_value(out[index][1])}: {words}", out[index][0])
        return None
    return tuple(out) if ok else None


def environment_of(cur: Cursor, problems: list[Problem], engine: str | None = None) -> Environment | None:
    """The environment file a scenario or sweep names, loaded (its problems go to `problems`)."""
    if "environment" not in cur.value:
        cur.error("required field is missing", "environment")
        return None
    path = referenced(cur.child("environment"))
    return environment_file(path, problems, engine) if path else None
