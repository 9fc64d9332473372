"""`drill audit`: the readiness checklist of SEED-FACTS.md against a live Redis, by reading only
(INFO, CONFIG GET, ACL LIST, SENTINEL, CLUSTER): pass / warn / fail per item with the value seen."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from tabulate import tabulate

from harness.audit.cluster import ClusterState, cluster_items, read_cluster
from harness.audit.item import Item, Verdict, expect
from harness.clients.probe import no_retry, parse_replica_lines
from harness.core.access import Credentials
from harness.core.errors import BackendError, UsageError
from harness.core.loopback import is_loopback


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the audit read from the server: pure data the item rules judge."""

    config: dict[str, str]
    info: dict[str, Any]
    acl_users: tuple[str, ...]  # ACL LIST lines
    sentinel_masters: tuple[dict[str, Any], ...] | None  # None: no Sentinel address given
    # Passed failover drills found in the runs dir: (scenario, the data nodes' configuration it ran with).
    drills_passed: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
    slowlog: tuple[tuple[int, str], ...] | None = None  # SLOWLOG GET 25: (µs, command); None: not readable
    latency: tuple[tuple[str, int], ...] | None = None  # LATENCY LATEST: (event, max ms); None: not readable
    cluster: ClusterState | None = None  # None: not asked for (--cluster)


def loopback_only(host: str) -> str:
    if is_loopback(host):
        return host
    raise UsageError(
        f"drill audit: {host} is not a loopback address; the audit only reads servers on 127.0.0.0/8"
    )


def read_snapshot(
    host: str,
    port: int,
    login: Credentials,
    sentinel: tuple[str, int] | None,
    runs_dir: Path,
    cluster: bool = False,
) -> Snapshot:
    """Read the server (and the Sentinel, with the same login) as `login` says: user, password, TLS; with
    `cluster`, what the server says of its cluster too."""
    client = redis.Redis(
        host=host,
        port=port,
        **login.redis_kwargs(),
        socket_timeout=2,
        socket_connect_timeout=2,
        retry=no_retry(),
        decode_responses=True,
    )
    try:
        config = {str(k): str(v) for k, v in client.config_get("*").items()}
        info = client.info("everything")
        try:
            acl = tuple(str(line) for line in client.acl_list())
        except redis.ResponseError:
            acl = ()
        slowlog, latency = _slowlog(client), _latency(client)
        cluster_state = read_cluster(client, info) if cluster else None
    except redis.AuthenticationError:
        raise BackendError(
            f"{host}:{port} refused the credentials (give --user and a password with --password-env)"
        ) from None
    except redis.RedisError as exc:
        raise BackendError(f"cannot read {host}:{port}: {exc}") from None
    finally:
        client.close()
    masters = None
    if sentinel is not None:
        watcher = redis.Redis(
            host=sentinel[0],
            port=sentinel[1],
            **login.redis_kwargs(),
            socket_timeout=2,
            retry=no_retry(),
            decode_responses=True,
        )
        try:
            found = watcher.sentinel_masters()
            masters = tuple(dict(m) for m in (found.values() if isinstance(found, dict) else found))
        except redis.RedisError as exc:
            raise BackendError(f"cannot read Sentinel {sentinel[0]}:{sentinel[1]}: {exc}") from None
        finally:
            watcher.close()
    drills = _passed_failover_drills(runs_dir)
    return Snapshot(config, info, acl, masters, drills, slowlog, latency, cluster_state)


def _slowlog(client: redis.Redis) -> tuple[tuple[int, str], ...] | None:
    try:
        entries = client.slowlog_get(25)
    except redis.ResponseError:  # an ACL user without SLOWLOG: the item says so
        return None
    return tuple((int(e["duration"]), str(e["command"])[:60]) for e in entries)


def _latency(client: redis.Redis) -> tuple[tuple[str, int], ...] | None:
    try:
        events = client.execute_command("LATENCY", "LATEST")
    except redis.ResponseError:
        return None
    return tuple((str(e[0]), int(e[2])) for e in events)


def _passed_failover_drills(runs_dir: Path) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """Passed drills that saw a failover, each with the configuration its primary ran with (the run's
    config/redis-1.conf, directives the harness sets for every node left out)."""
    passed = []
    for report_file in sorted(runs_dir.glob("*/report.json")) if runs_dir.is_dir() else []:
        try:
            report = json.loads(report_file.read_text())
            conf = (report_file.parent / "config" / "redis-1.conf").read_text()
        except (OSError, json.JSONDecodeError):
            continue
        if report.get("passed") and any(
            marker in c.get("name", "") for c in report.get("checks", []) for marker in _FAILOVER_SEEN
        ):
            passed.append((str(report.get("scenario")), _drill_directives(conf)))
    return tuple(sorted(set(passed)))


# A check that only passes when a failover happened: Sentinel's, or a cluster replica promoted.
_FAILOVER_SEEN = ("+switch-master", "cluster_failover")

# Set by the harness for every node (addresses, files, logins): they say nothing of the deployment drilled.
_HARNESS_SET = (
    "port",
    "tls-",
    "bind",
    "dir",
    "logfile",
    "daemonize",
    "protected-mode",
    "replica-announce",
    "replicaof",
    "user",
    "masteruser",
    "masterauth",
    "requirepass",
    "include",
    "aclfile",
    "cluster-config-file",
)


def _drill_directives(conf: str) -> tuple[tuple[str, str], ...]:
    out = []
    for line in conf.splitlines():
        key, _, value = line.strip().partition(" ")
        if key and not key.startswith("#") and not key.startswith(_HARNESS_SET):
            out.append((key, value.strip()))
    return tuple(out)


_UNITS = {"k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3, "gb": 1024**3}


def _normal(value: str) -> str:
    """A directive's value as CONFIG GET shows it: unquoted, memory units in bytes, spaces folded."""
    value = " ".join(value.strip().strip('"').split()).lower()
    number = value.rstrip("kmgb")
    unit = value[len(number) :]
    if number.isdigit() and unit in _UNITS:
        return str(int(number) * _UNITS[unit])
    return value


def _config_difference(config: dict[str, str], directives: tuple[tuple[str, str], ...]) -> str | None:
    """The first directive of a drill's configuration this server runs differently, or None."""
    for key, value in directives:
        seen = config.get(key)
        if seen is None or _normal(seen) != _normal(value):
            return f"{key} {value}, this server {seen if seen is not None else 'does not know it'}"
    return None


def _failover_tested(snapshot: Snapshot) -> Item:
    """R3: only a drill that ran with this server's configuration says its failover was tested."""
    title, expected = (
        "failover tested (a passed failover drill)",
        "a passed failover drill run with this configuration",
    )
    matching = [
        name for name, conf in snapshot.drills_passed if _config_difference(snapshot.config, conf) is None
    ]
    if matching:
        return Item("R3", title, "pass", ", ".join(sorted(set(matching))), expected)
    if not snapshot.drills_passed:
        return Item("R3", title, "warn", "none found", expected)
    name, conf = snapshot.drills_passed[0]
    count = len(snapshot.drills_passed)
    differs = _config_difference(snapshot.config, conf)
    why = f"{count} passed failover drill(s) found, none run with this configuration: {name} had {differs}"
    return Item("R3", title, "warn", why, expected)


def _setting(snapshot: Snapshot, name: str, expected: str, bad: Verdict = "warn") -> Item:
    seen = snapshot.config.get(name, "(not set)")
    return expect(name, f"{name} as recommended", seen, expected, " ".join(seen.split()) == expected, bad)


def audit(snapshot: Snapshot) -> list[Item]:
    config, info = snapshot.config, snapshot.info
    role = str(info.get("role"))
    replicas = int(info.get("connected_slaves", 0))
    items = [
        expect(
            "R1",
            "replication configured",
            f"role {role}, {replicas} replica(s)",
            "a replica, or being one",
            role == "slave" or replicas > 0,
        ),
        _sentinel(snapshot),
        _failover_tested(snapshot),
        _persistence(config),
        expect(
            "R5",
            "backups: last RDB save succeeded",
            str(info.get("rdb_last_bgsave_status", "?")),
            "ok (restore testing cannot be seen from Redis)",
            info.get("rdb_last_bgsave_status") == "ok",
            "warn",
        ),
        _acl(snapshot),
        _tls(config),
        _network(config),
        Item(
            "R9",
            "metrics collected, alerting configured",
            "warn",
            "not visible from Redis",
            "redis_exporter + alert rules",
        ),
        expect(
            "R10", "maxmemory set", config.get("maxmemory", "0"), "> 0", config.get("maxmemory", "0") != "0"
        ),
        expect(
            "R11",
            "eviction policy chosen",
            config.get("maxmemory-policy", "?"),
            "a policy set with maxmemory (noeviction only on purpose)",
            config.get("maxmemory", "0") != "0",
            "warn",
        ),
        _setting(snapshot, "slowlog-log-slower-than", "10000"),
        _setting(snapshot, "slowlog-max-len", "128"),
        _setting(snapshot, "maxclients", "10000"),
        _setting(snapshot, "timeout", "0"),
        _setting(snapshot, "tcp-keepalive", "300"),
        _setting(snapshot, "tcp-backlog", "511"),
        _setting(snapshot, "lazyfree-lazy-eviction", "yes"),
        _setting(snapshot, "lazyfree-lazy-expire", "yes"),
        _setting(snapshot, "lazyfree-lazy-server-del", "yes"),
        _output_buffers(config),
        *debug_checklist(snapshot),
    ]
    return items + (cluster_items(snapshot.cluster) if snapshot.cluster is not None else [])


def debug_checklist(snapshot: Snapshot) -> list[Item]:
    """SEED-FACTS' debug checklist (D1-D8), from the same reads, with the key-metrics thresholds."""
    info, config = snapshot.info, snapshot.config
    used, limit = int(info.get("used_memory", 0)), int(config.get("maxmemory", "0") or 0)
    clients, most = int(info.get("connected_clients", 0)), int(config.get("maxclients", "0") or 0)
    return [
        _ratio("D1", "memory within limits", used, limit, "used_memory / maxmemory", (0.75, 0.90)),
        _slowlog_item(snapshot.slowlog),
        _latency_item(snapshot.latency, config.get("latency-monitor-threshold", "0")),
        _ratio(
            "D4", "connections within limits", clients, most, "connected_clients / maxclients", (0.80, 0.95)
        ),
        _replication_item(info),
        expect(
            "D6",
            "persistence completing",
            f"aof_last_write_status {info.get('aof_last_write_status', '?')}; "
            f"rdb_bgsave_in_progress {info.get('rdb_bgsave_in_progress', '?')}",
            "writes to the AOF succeed",
            info.get("aof_last_write_status", "ok") == "ok",
        ),
        expect(
            "D7",
            "no blocking commands",
            f"blocked_clients {info.get('blocked_clients', 0)}",
            "0",
            int(info.get("blocked_clients", 0)) == 0,
            "warn",
        ),
        expect(
            "D8",
            "background saves succeeding",
            f"rdb_last_bgsave_status {info.get('rdb_last_bgsave_status', '?')}; "
            f"aof_last_bgrewrite_status {info.get('aof_last_bgrewrite_status', '?')}",
            "ok and ok",
            info.get("rdb_last_bgsave_status") == "ok"
            and info.get("aof_last_bgrewrite_status", "ok") == "ok",
        ),
    ]


def _ratio(key: str, title: str, used: int, limit: int, what: str, bands: tuple[float, float]) -> Item:
    warning, critical = bands
    expected = f"under {warning:.0%} (warning to {critical:.0%})"
    if limit <= 0:
        return Item(key, title, "warn", f"{what}: no limit set", expected)
    ratio = used / limit
    verdict = "pass" if ratio < warning else "warn" if ratio <= critical else "fail"
    return Item(key, title, verdict, f"{what} {ratio:.0%}", expected)


def _slowlog_item(entries: tuple[tuple[int, str], ...] | None) -> Item:
    if entries is None:
        return Item("D2", "slowlog clean", "warn", "SLOWLOG not readable by this user", "empty")
    if not entries:
        return Item("D2", "slowlog clean", "pass", "empty", "empty")
    slowest = max(entries)
    seen = f"{len(entries)} entries; slowest {slowest[0]} µs {slowest[1]}"
    return Item("D2", "slowlog clean", "warn", seen, "empty")


def _latency_item(events: tuple[tuple[str, int], ...] | None, threshold: str) -> Item:
    expected = "latency monitor on, no events"
    if events is None:
        return Item("D3", "latency within SLA", "warn", "LATENCY not readable by this user", expected)
    if threshold in ("0", ""):
        return Item("D3", "latency within SLA", "warn", "latency-monitor-threshold 0 (monitor off)", expected)
    if not events:
        return Item("D3", "latency within SLA", "pass", f"no event above {threshold} ms", expected)
    seen = ", ".join(f"{name} max {ms} ms" for name, ms in events)
    return Item("D3", "latency within SLA", "warn", seen, expected)


def _replication_item(info: dict[str, Any]) -> Item:
    """In sync: a primary's replicas online with lag under 1 s (warning to 10 s); a replica's link up."""
    expected = "replicas online, lag < 1 s (warning to 10 s)"
    if info.get("role") == "slave":
        link = str(info.get("master_link_status"))
        return expect("D5", "replication in sync", f"link to primary {link}", "up", link == "up")
    lines = parse_replica_lines(info)
    if not lines:
        return Item("D5", "replication in sync", "warn", "no replicas", expected)
    offline = [str(v.get("ip")) for v in lines if v.get("state") != "online"]
    lag = max(int(str(v.get("lag", 0))) for v in lines)
    seen = f"{len(lines)} replica(s), {len(offline)} not online, max lag {lag} s"
    # INFO's lag is whole seconds since the replica's last REPLCONF ACK, sent every second: 0 or 1 is in sync.
    verdict = "fail" if offline or lag > 10 else "warn" if lag > 1 else "pass"
    return Item("D5", "replication in sync", verdict, seen, expected)


def _sentinel(snapshot: Snapshot) -> Item:
    """R2: Sentinel, or Cluster (whose nodes fail over by themselves)."""
    cluster = snapshot.cluster
    if cluster is not None and cluster.enabled:
        state = cluster.info.get("cluster_state", "?")
        return expect(
            "R2", "Sentinel or Cluster deployed", f"Redis Cluster, state {state}", "ok", state == "ok"
        )
    if snapshot.sentinel_masters is None:
        return Item(
            "R2",
            "Sentinel deployed",
            "warn",
            "no Sentinel address given",
            "--sentinel HOST:PORT, or --cluster",
        )
    names = ", ".join(str(m.get("name")) for m in snapshot.sentinel_masters)
    return expect(
        "R2",
        "Sentinel deployed",
        f"monitors: {names or 'nothing'}",
        "a monitored primary",
        bool(snapshot.sentinel_masters),
    )


def _persistence(config: dict[str, str]) -> Item:
    wanted = {
        "appendonly": "yes",
        "appendfsync": "everysec",
        "aof-use-rdb-preamble": "yes",
        "save": "900 1 300 10 60 10000",
    }
    seen = {k: " ".join(config.get(k, "").split()) for k in wanted}
    shown = "; ".join(f"{k} {v or '(none)'}" for k, v in seen.items())
    return expect(
        "R4", "RDB and AOF both on", shown, "; ".join(f"{k} {v}" for k, v in wanted.items()), seen == wanted
    )


def _acl(snapshot: Snapshot) -> Item:
    users = snapshot.acl_users
    default = next((u for u in users if u.startswith("user default ")), "")
    others = [u for u in users if not u.startswith("user default ")]
    default_state = "off" if " off " in f" {default} " else "protected"
    if " nopass" in default and " on " in f" {default} ":
        default_state = "open (nopass)"
    # Least privilege: some user is held to less than everything (not +@all over every key).
    limited = [u.split()[1] for u in others if not ("+@all" in u.split() and "~*" in u.split())]
    seen = f"{len(others)} user(s) besides default, {len(limited)} limited; default {default_state}"
    expected = "users with least privilege; default off or with a password"
    if not others or default_state == "open (nopass)":
        return Item("R6", "ACL configured", "fail", seen, expected)
    return expect("R6", "ACL configured", seen, expected, bool(limited), "warn")


def _tls(config: dict[str, str]) -> Item:
    """TLS on: clients (tls-port, with the plaintext port closed), replication, client certificates."""
    tls_port = config.get("tls-port", "0") not in ("0", "")
    plaintext = config.get("port", "0") not in ("0", "")
    replication = config.get("tls-replication") == "yes"
    clients = config.get("tls-auth-clients", "no") in ("yes", "optional")
    seen = "; ".join(
        f"{name} {config.get(name, '?')}"
        for name in ("tls-port", "port", "tls-replication", "tls-auth-clients")
    )
    expected = "tls-port set, port 0, tls-replication yes"
    if not tls_port:
        return Item("R7", "TLS enabled", "fail", seen, expected)
    return expect("R7", "TLS enabled", seen, expected, not plaintext and replication and clients, "warn")


def _network(config: dict[str, str]) -> Item:
    bind = config.get("bind", "")
    everywhere = not bind or any(a.lstrip("-") in ("*", "0.0.0.0", "::", "::*") for a in bind.split())
    protected = config.get("protected-mode") == "yes" or bool(config.get("requirepass"))
    return expect(
        "R8",
        "network restricted",
        f"bind {bind or '(all)'}; protected-mode {config.get('protected-mode')}",
        "bound to chosen interfaces, or protected",
        not everywhere or protected,
    )


def _output_buffers(config: dict[str, str]) -> Item:
    seen = " ".join(config.get("client-output-buffer-limit", "").split())
    # Redis reports bytes; the documents give mb: replica 256mb 64mb 60, pubsub 32mb 8mb 60. Redis 7.0 still
    # names the replica class "slave" in CONFIG GET.
    replica = any(f"{name} 268435456 67108864 60" in seen for name in ("replica", "slave"))
    pubsub = "pubsub 33554432 8388608 60" in seen
    return expect(
        "client-output-buffer-limit",
        "client-output-buffer-limit as recommended",
        seen,
        "replica 256mb 64mb 60, pubsub 32mb 8mb 60",
        replica and pubsub,
        "warn",
    )


def render(items: list[Item], target: str) -> str:
    rows = [
        (i.verdict.upper() if i.verdict != "pass" else "pass", i.key, i.title, i.seen, i.expected)
        for i in items
    ]
    counts = {v: sum(1 for i in items if i.verdict == v) for v in ("pass", "warn", "fail")}
    table = tabulate(
        rows,
        headers=["", "item", "check", "seen", "recommended"],
        tablefmt="simple",
        maxcolwidths=[None, None, 34, 44, 40],
    )
    totals = f"{counts['pass']} pass, {counts['warn']} warn, {counts['fail']} fail"
    return f"readiness audit of {target}\n{table}\n\n{totals}"
