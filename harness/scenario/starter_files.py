"""`drill init`'s pure part: what a team's redis.conf, sentinel.conf or live CONFIG GET says, sorted into the
directives an environment can carry and those it cannot (each with its reason), and the three files a first
drill needs: an environment, a starter scenario (primary failover under load) and its runbook.

Secrets are never read into what is written: a password directive makes the environment name the variable
that will hold it (auth: {password_env: ...}), and its value is not kept."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from harness.scenario.environment_file import MANAGED_DIRECTIVES
from harness.scenario.model import SentinelSpec

PASSWORD_ENV = "REDIS_DRILL_PASSWORD"
SECRETS = frozenset({"requirepass", "masterauth", "masteruser"})
# Directives an environment cannot carry, and why (beyond what the harness sets itself and secrets).
NOT_CARRIED: dict[str, str] = {
    "user": "ACL users are the team's own; the harness makes per-role users with security: {acl: true}",
    "aclfile": "ACL users are the team's own; the harness makes per-role users with security: {acl: true}",
    "loadmodule": "a module path on the team's machine",
    "rename-command": "the harness sends CONFIG, DEBUG, SENTINEL ... by their own names",
    "supervised": "the harness supervises the nodes it starts",
    "unixsocketperm": "the harness sets the node's socket",
    "cluster-enabled": "a Sentinel environment (a cluster environment takes topology: cluster)",
    "cluster-config-file": "a Sentinel environment (a cluster environment takes topology: cluster)",
    "cluster-node-timeout": "a Sentinel environment (a cluster environment takes topology: cluster)",
    "sentinel": "a Sentinel setting: it goes into the environment's sentinels: section",
    "bind-source-addr": "set by the harness for every node it starts (each node's own address)",
    "protected-mode": (
        "set by the harness (no): its nodes reach each other from loopback addresses other than 127.0.0.1,"
        " which protected mode refuses without a password"
    ),
    "replica-announce-ip": "the harness's nodes announce the addresses it gives them",
    "replica-announce-port": "the harness's nodes announce the addresses it gives them",
}
NOT_CARRIED_PREFIXES: dict[str, str] = {
    "tls-": "certificates are made per run (security: {tls: true})",
    "cluster-": "a Sentinel environment (a cluster environment takes topology: cluster)",
}
# Read from the live node, never configuration: what CONFIG GET returns that no file would set.
LIVE_ONLY = frozenset({"unixsocket", "logfile", "dir", "pidfile"})
MULTI_VALUED = frozenset({"save", "client-output-buffer-limit", "oom-score-adj-values"})


@dataclass(frozen=True, slots=True)
class Skipped:
    directive: str
    reason: str


# What Sentinel itself defaults to (quorum and count as most deployments have them).
DEFAULT_SENTINELS = SentinelSpec(
    count=3, quorum=2, down_after_ms=30000, failover_timeout_ms=180000, parallel_syncs=1
)


@dataclass(frozen=True, slots=True)
class Found:
    """What the team's configuration or deployment says."""

    source: str  # where it was read, for the files' header
    directives: tuple[tuple[str, str], ...]  # as the team set them; secrets already left out
    master_name: str
    sentinel: SentinelSpec
    replicas: int
    password: bool  # the nodes ask for a password
    version: str = ""  # the engine version found, when a live node said


def parse_conf(text: str) -> tuple[tuple[str, str], ...]:
    """A redis.conf's directives in order, a repeated one (save, client-output-buffer-limit) joined into one
    value; comments and blank lines left out. Quoting as redis.conf writes it."""
    values: dict[str, list[str]] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            words = shlex.split(line, comments=False, posix=True)
        except ValueError:
            words = line.split()
        if not words:
            continue
        key, rest = words[0].lower(), " ".join(words[1:])
        if key in values and key in MULTI_VALUED:
            values[key].append(rest)
        else:
            values[key] = [rest]
    return tuple(
        (key, " ".join(v for v in parts if v) if len(parts) > 1 else parts[0])
        for key, parts in values.items()
    )


def parse_sentinel_conf(text: str) -> tuple[str, SentinelSpec]:
    """The first monitored primary's name and its sentinel monitor / down-after-milliseconds /
    failover-timeout / parallel-syncs; the Sentinel count from its known-sentinel lines (this one
    included), else three."""
    name, quorum, settings, known = "mymaster", 2, {}, 0
    for raw in text.splitlines():
        words = raw.split()
        if len(words) < 3 or words[0].lower() != "sentinel":
            continue
        option = words[1].lower()
        if option == "monitor" and len(words) >= 6:
            name, quorum = words[2], int(words[5])
        elif option in ("down-after-milliseconds", "failover-timeout", "parallel-syncs") and len(words) >= 4:
            settings[option] = int(words[3])
        elif option == "known-sentinel":
            known += 1
    return name, SentinelSpec(
        count=max(known + 1, quorum, 3) if known else max(quorum, 3),
        quorum=quorum,
        down_after_ms=settings.get("down-after-milliseconds", DEFAULT_SENTINELS.down_after_ms),
        failover_timeout_ms=settings.get("failover-timeout", DEFAULT_SENTINELS.failover_timeout_ms),
        parallel_syncs=settings.get("parallel-syncs", DEFAULT_SENTINELS.parallel_syncs),
    )


def without_secrets(directives: Iterable[tuple[str, str]]) -> tuple[tuple[tuple[str, str], ...], bool]:
    """The directives without requirepass, masterauth and masteruser (their values are dropped here, before
    anything else sees them), and whether a password was set."""
    kept, password = [], False
    for key, value in directives:
        if key in SECRETS:
            password = password or (key == "requirepass" and value != "")
            continue
        kept.append((key, value))
    return tuple(kept), password


def sort_directives(
    directives: tuple[tuple[str, str], ...],
    refused: Callable[[tuple[tuple[str, str], ...]], tuple[int, str] | None],
) -> tuple[tuple[tuple[str, str], ...], tuple[Skipped, ...]]:
    """(what the environment carries, what it does not and why). `refused` is the engine's own verdict on a
    set of directives (the index of the first it refuses and its words), asked again until it takes them."""
    carried: list[tuple[str, str]] = []
    skipped: list[Skipped] = []
    for key, value in directives:
        reason = _not_carried(key)
        if reason:
            skipped.append(Skipped(key, reason))
        else:
            carried.append((key, value))
    while carried and (verdict := refused(tuple(carried))) is not None:
        index, words = verdict
        skipped.append(Skipped(carried[index][0], f"the engine refuses it: {words}"))
        del carried[index]
    return tuple(carried), tuple(skipped)


def _not_carried(key: str) -> str:
    if key in MANAGED_DIRECTIVES or key in LIVE_ONLY:
        return "set by the harness for every node it starts"
    if key in NOT_CARRIED:
        return NOT_CARRIED[key]
    for prefix, reason in NOT_CARRIED_PREFIXES.items():
        if key.startswith(prefix):
            return reason
    return ""


# --- the files ------------------------------------------------------------------------------------------


def environment_text(
    name: str, found: Found, carried: tuple[tuple[str, str], ...], skipped: tuple[Skipped, ...]
) -> str:
    s = found.sentinel
    lines = [
        "# yaml-language-server: $schema=../schemas/environment.json",
        f"# Written by drill init from {found.source}:",
        "# a topology like the team's, started by the harness on this machine (local processes;",
        "# backend: docker runs it on containers).",
    ]
    if found.version:
        lines.append(f"# The nodes found run {found.version}; engine: picks what runs here (drill engines).")
    if skipped:
        lines.append("# Not carried over:")
        lines += [f"#   {k.directive}: {k.reason}" for k in skipped]
    lines += [
        f"name: {name}",
        "engine: redis",
        "backend: local",
        f"master_name: {found.master_name}",
        f"replicas: {found.replicas}",
        "sentinels:",
        f"  count: {s.count}",
        f"  quorum: {s.quorum}",
        f"  down-after-milliseconds: {s.down_after_ms}",
        f"  failover-timeout: {s.failover_timeout_ms}",
        f"  parallel-syncs: {s.parallel_syncs}",
    ]
    if found.password:
        lines += [
            "auth:",
            f"  password_env: {PASSWORD_ENV}   # the password itself is never written to a file",
        ]
    if carried:
        lines.append("config:")
        lines += [f"  {key}: {_yaml_scalar(value)}" for key, value in carried]
    lines.append(f"readiness_timeout: {max(20, s.down_after_ms // 1000 + 10)}s")
    return "\n".join(lines) + "\n"


def _yaml_scalar(value: str) -> str:
    """A redis.conf value as a YAML string the loader hands back unchanged (always double-quoted, which JSON's
    string syntax is: yes, no, 0 and "" stay strings)."""
    return json.dumps(value)


def scenario_text(name: str, found: Found) -> str:
    duration = int(4 + found.sentinel.down_after_ms / 1000 + 12)  # kill at 4 s, down-after, then recovery
    return f"""\
# yaml-language-server: $schema=../schemas/scenario.json
name: {name}-failover
description: >
  Written by drill init from {found.source}:
  SIGKILL the primary under write load; Sentinel must fail over within the environment's own down-after
  and failover-timeout, and no acknowledged write may vanish unseen.
environment: ../environments/{name}.yaml
seed: 7
load:
  duration: {duration}s
  timeout: 500ms
  retry: none          # measurement load: every failure is visible
  workloads:
    acked-writes: {{users: 10, wait: 10ms, write_ratio: 0.5}}
faults:
  - {{at: 4s, kill: primary}}
runbooks: [../runbooks/{name}-failover.yaml]
expect:
  detection_within: from_config      # down-after-milliseconds + 1.5s
  lost_acknowledged_writes: report
"""


def runbook_text(name: str) -> str:
    return f"""\
# yaml-language-server: $schema=../schemas/runbook.json
# Written by drill init: the P1 "Redis down" runbook, its bounds from the environment's own settings.
name: {name} primary down
detect:
  - sentinel_event: {{event: +sdown, node: incident, within: down-after + 1500ms}}
  - sentinel_event: {{event: +odown, node: incident, within: down-after + 2s}}
verify:
  - sentinel_event: {{event: +switch-master, node: any, within: down-after + failover-timeout}}
  - writable: {{within: down-after + 8s}}
  - replicas_attached: {{lag_below: 1s, within: down-after + 15s}}
"""
