"""JSON Schema for scenario, environment, runbook and sweep files (`drill schema KIND`), built from what the
loaders read: their key lists and every kind's parameter classes. Editors with the YAML language server
complete and check files with it; the loaders stay the judge of what the schema cannot say (a target that
names no node, a bound naming a setting the environment lacks), and a test keeps both in step.

Pure: plain dicts, no I/O."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from typing import Any

from harness.core.engines import ENGINE_NAMES, SYSTEM_ENGINE
from harness.runbooks.checks.registry import all_checks
from harness.scenario.durations import BOUND_NAMES, BOUND_SCHEMA, DURATION_SCHEMA
from harness.scenario.environment_file import (
    AUTH_KEYS,
    CLUSTER_KEYS,
    ENVIRONMENT_KEYS,
    EXTERNAL_KEYS,
    LOGIN_KEYS,
    LOGIN_ROLES,
    PERSISTENCE,
    PROXY_KEYS,
    SECURITY_KEYS,
    SENTINEL_KEYS,
    TLS_FILE_KEYS,
)
from harness.scenario.fault_entries import ACTIONS, NETWORK_EFFECTS, PARTITION_KEYS, SERVER_FAULTS, STREAMS
from harness.scenario.fault_kinds import (
    OTHER_FAULTS,
    PACKET_LOSS_HELP,
    REDIS_EFFECTS,
    SERVER_FAULT_KINDS,
    PacketLoss,
    Pause,
    Surge,
)
from harness.scenario.model import CONTROL_ACTIONS, PARTITION_GROUPS
from harness.scenario.params import (
    ARGV_SCHEMA,
    TEXT_SCHEMA,
    ParamType,
    integer_schema,
    number_schema,
)
from harness.scenario.procedure_kinds import GATHERERS, REMEDIATIONS, STEP_OPTION, TRIGGERS
from harness.scenario.runbook_file import ACTION_KINDS, RESPOND_KEYS, RUN_KEYS, RUNBOOK_KEYS
from harness.scenario.scenario_file import (
    ALERTS_KEYS,
    EXPECT_KEYS,
    INCIDENT_KEYS,
    LOAD_KEYS,
    NEMESIS_ENTRY_KEYS,
    NEMESIS_KEYS,
    RETRY_KEYS,
    RETRY_PRESETS,
    RETRYABLE_CLASSES,
    SCENARIO_KEYS,
)
from harness.scenario.stop_kinds import STOP_CONDITIONS
from harness.scenario.sweep_file import SWEEP_FILE_KEYS, SWEEP_KEYS
from harness.scenario.workload_kinds import WORKLOAD_KINDS

SCHEMA_KINDS = ("scenario", "environment", "runbook", "sweep")
SCHEMAS_DIR = "schemas"  # beside scenarios/, environments/, runbooks/ in the repository
DIALECT = "https://json-schema.org/draft/2020-12/schema"
BASE_ID = "https://redis-drill.dev/schemas"  # a name, not a place: the files are committed under schemas/


def render(kind: str) -> str:
    """The schema as committed under schemas/: stable key order, two-space indents, a final newline."""
    return json.dumps(schema(kind), indent=2, ensure_ascii=False) + "\n"


def schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of one kind of file."""
    body = {
        "scenario": _scenario,
        "environment": _environment,
        "runbook": _runbook,
        "sweep": _sweep,
    }[kind]()
    return {"$schema": DIALECT, "$id": f"{BASE_ID}/{kind}.json", "title": f"redis-drill {kind} file", **body}


# --- building blocks -----------------------------------------------------------------------------------


def _object(
    properties: Mapping[str, Mapping[str, Any]],
    required: Iterable[str] = (),
    description: str = "",
    keys: Iterable[str] | None = None,
) -> dict[str, Any]:
    """A mapping that takes these keys and no others. `keys`: the loader's own list, which must be the
    properties' (a key the loader reads but the schema forgets would be refused by editors)."""
    if keys is not None and tuple(keys) != tuple(properties):
        raise AssertionError(f"schema keys {tuple(properties)} differ from the loader's {tuple(keys)}")
    out: dict[str, Any] = {"type": "object", "properties": dict(properties), "additionalProperties": False}
    if required := list(required):
        out["required"] = required
    if description:
        out["description"] = description
    return out


def _params(
    params: type, extra: Mapping[str, Mapping[str, Any]] | None = None, doc: str = ""
) -> dict[str, Any]:
    """A kind's parameters class as an object: each field's key, value schema, help and default."""
    properties: dict[str, Any] = {}
    required = []
    for f in dataclasses.fields(params):
        kind: ParamType = f.metadata["kind"]
        key = str(f.metadata.get("key") or f.name)
        entry = {**kind.json, "description": f"{f.metadata['help']} ({kind.shown})"}
        if f.default is dataclasses.MISSING:
            required.append(key)
        properties[key] = entry
    return _object({**properties, **(extra or {})}, required, doc)


def _text(description: str = "") -> dict[str, Any]:
    return {**TEXT_SCHEMA, **({"description": description} if description else {})}


def _duration(description: str = "") -> dict[str, Any]:
    return {**DURATION_SCHEMA, **({"description": description} if description else {})}


def _bound(description: str = "") -> dict[str, Any]:
    names = ", ".join(BOUND_NAMES)
    return {**BOUND_SCHEMA, "description": f"{description} (a duration, or a sum with {names})".strip()}


def _list(items: Mapping[str, Any], description: str = "", least: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "array", "items": dict(items)}
    if least:
        out["minItems"] = least
    if description:
        out["description"] = description
    return out


def _one_key(choices: Mapping[str, Mapping[str, Any]], description: str) -> dict[str, Any]:
    """A mapping with exactly one key, the kind, whose value is that kind's settings."""
    return {
        "description": description,
        "oneOf": [_object({name: value}, [name]) for name, value in choices.items()],
    }


BOOLEAN = {"type": "boolean"}
FAULT_REF = {"$ref": "#/$defs/fault"}
PATH = {"type": "string", "minLength": 1, "description": "a file, relative to this one"}
ADDRESS = {"type": "string", "pattern": r"^\[?[0-9A-Za-z.:-]+\]?:\d+$", "description": "host:port"}


# --- scenario -------------------------------------------------------------------------------------------


def _scenario() -> dict[str, Any]:
    properties = {
        "name": _text("the drill's name: runs are named after it"),
        "description": _text("what the drill shows, for the reader of its report"),
        "environment": {**PATH, "description": "the environment file this drill runs on"},
        "seed": integer_schema(0) | {"description": "every random choice of the drill derives from it"},
        "load": _load(),
        "faults": _list(FAULT_REF, "the timeline: each fault at its time"),
        "runbooks": _list(PATH, "runbook files that judge the incident"),
        "expect": _expect(),
        "alerts": _object(
            {
                "time_scale": number_schema(1.0, 3600.0)
                | {"description": "alert rules' for: divided by this"},
                "scrape_interval": _duration("how often Prometheus scrapes (at least 100ms)"),
                "page": BOOLEAN | {"description": "run Alertmanager, whose webhook pages the runbooks"},
            },
            keys=ALERTS_KEYS,
            description="run Prometheus with the shipped alert rules (and Alertmanager with page: true)",
        ),
        "abort_if": _list(_stop_condition(), "stop conditions: any one that trips stops the drill (exit 4)"),
        "nemesis": _nemesis(),
        "incidents": _list(
            _object(
                {
                    "name": _text("the incident's name in the report"),
                    "faults": _list(FAULT_REF, "its faults; the earliest starts it", 1),
                    "runbooks": _list(PATH, "runbooks that judge this incident"),
                },
                ["faults"],
                keys=INCIDENT_KEYS,
            ),
            "several incidents in one drill, each with its own faults and runbooks",
            1,
        ),
    }
    return {
        **_object(properties, ["name", "environment", "load"], keys=SCENARIO_KEYS),
        "$defs": {"fault": _fault(timed=True)},
    }


def _load() -> dict[str, Any]:
    workloads = {name: _params(params, doc=help_text) for name, (params, help_text) in WORKLOAD_KINDS.items()}
    retry = {
        "anyOf": [
            {"enum": list(RETRY_PRESETS), "description": "a preset of the operations documents"},
            _object(
                {
                    "retries": integer_schema(0, 10),
                    "base": _duration("the first backoff"),
                    "cap": _duration("the longest backoff (default 8 x base)"),
                    "on": _list({"enum": list(RETRYABLE_CLASSES)}, "the error classes retried", 1),
                },
                ["retries", "base", "on"],
                keys=RETRY_KEYS,
            ),
        ],
        "description": "the load users' retry policy (default none: every failure visible)",
    }
    return _object(
        {
            "workloads": _object(workloads, description="the load's users, by workload")
            | {"minProperties": 1},
            "spawn_rate": number_schema(0.1, 10000) | {"description": "users started per second"},
            "duration": _duration("how long the load runs (at least 1s)"),
            "timeout": _duration("each operation's timeout (default 500ms)"),
            "retry": retry,
            "processes": integer_schema(1, 64) | {"description": "Locust worker processes"},
        },
        ["workloads", "duration"],
        keys=LOAD_KEYS,
    )


def _expect() -> dict[str, Any]:
    lost = {
        "anyOf": [integer_schema(0), {"enum": ["report"]}],
        "description": "the most acknowledged writes the drill may lose, or report (reported, not bounded)",
    }
    return _object(
        {
            "detection_within": {
                "anyOf": [_bound(), {"const": "from_config"}],
                "description": "MTTD bound (from_config: down-after + 1.5s)",
            },
            "recovery_within": _bound("MTTR bound"),
            "lost_acknowledged_writes": lost,
            "clients_ride_out": BOOLEAN | {"description": "the load's own retries hide the fault"},
        },
        keys=EXPECT_KEYS,
    )


def _fault(timed: bool, extra: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """One fault: timing (timed) and exactly one action key with that action's settings."""
    timing = (
        {
            "at": _duration("when it fires, from the load's start"),
            "jitter": _duration("a seeded random shift of up to this much"),
            "incident": BOOLEAN | {"description": "the fault the runbooks' times count from"},
        }
        if timed
        else {}
    )
    actions = _actions()
    properties = {
        **timing,
        "max": _duration("its longest life, enforced outside the harness"),
        **(extra or {}),
    }
    return {
        **_object({**properties, **actions}, ["at"] if timed else []),
        "oneOf": [{"required": [action]} for action in actions],
    }


def _actions() -> dict[str, Any]:
    target = {"type": "string", "minLength": 1}
    out: dict[str, Any] = {}
    for action in ACTIONS:
        doc = OTHER_FAULTS.get(action, "")
        if action in SERVER_FAULTS:
            params, doc = SERVER_FAULT_KINDS[action]
            shaped = _params(params, doc=doc)
            out[action] = {"anyOf": [shaped, {"type": "null"}]} if "required" not in shaped else shaped
        elif action == "pause":
            out[action] = _params(Pause, doc=doc)
        elif action == "surge":
            out[action] = _params(Surge, doc=doc)
        elif action == "partition":
            groups = {
                "anyOf": [
                    {"type": "string", "minLength": 1},
                    _list({"type": "string", "minLength": 1}, least=1),
                ],
                "description": f"groups ({', '.join(PARTITION_GROUPS)}) or node names",
            }
            out[action] = _object(
                {"between": groups, "and": groups, "one-way": BOOLEAN},
                ["between", "and"],
                doc,
                keys=PARTITION_KEYS,
            )
        elif action == "network":
            out[action] = _network(doc)
        else:
            out[action] = {**target, "description": doc}
    return out


def _network(doc: str) -> dict[str, Any]:
    effects: dict[str, Any] = {
        "latency": _duration("added to each chunk"),
        "bandwidth": {"type": "string", "pattern": r"^\s*\d+\s*[kK][bB]/[sS]$", "description": "100KB/s"},
        "timeout": {"anyOf": [{"const": True}, DURATION_SCHEMA], "description": "true: until healed"},
        "reset": {"anyOf": [{"const": True}, DURATION_SCHEMA], "description": "true: at once"},
        "partition": {"const": True, "description": "the link dropped (heal ends it)"},
        "packet-loss": _params(PacketLoss, doc=PACKET_LOSS_HELP),
        **{name: _params(params, doc=help_text) for name, (params, help_text) in REDIS_EFFECTS.items()},
    }
    assert tuple(effects) == NETWORK_EFFECTS, "every effect the loader reads"
    base = _object(
        {
            "link": _text("a proxied link: a node, primary, replica, replication:NODE ..."),
            "stream": {"enum": list(STREAMS)},
            "jitter": _duration("with latency: up to this much more"),
            **effects,
        },
        ["link"],
        doc,
    )
    return {**base, "oneOf": [{"required": [effect]} for effect in effects]}


def _stop_condition() -> dict[str, Any]:
    choices: dict[str, Any] = {}
    for name, (params, doc) in STOP_CONDITIONS.items():
        shaped = _params(params, doc=doc)
        if name == "max_duration":
            shaped = {"anyOf": [_duration(doc), shaped]}
        elif name == "alert":
            shaped = {"anyOf": [_text(doc), shaped]}
        choices[name] = shaped
    return _one_key(choices, "one stop condition: {KIND: {...}}")


def _nemesis() -> dict[str, Any]:
    entry_extra = {
        "weight": {"type": "number", "minimum": 0, "description": "how often it is drawn (default 1)"},
        "runbooks": _list(PATH, "runbooks that judge each drawn fault of this kind"),
    }
    assert tuple(entry_extra) == NEMESIS_ENTRY_KEYS
    return _object(
        {
            "every": _duration("about this long between two faults"),
            "jitter": _duration("each gap shifted by up to this much"),
            "heal_after": {
                "type": "string",
                "pattern": r"^\s*\S+\s*\.\.\s*\S+\s*$",
                "description": "each fault lasts a drawn time in this range: 3s..8s",
            },
            "faults": _list(_fault(timed=False, extra=entry_extra), "the catalogue faults are drawn from", 1),
        },
        ["every", "heal_after", "faults"],
        "a seeded fault schedule drawn from a catalogue (instead of faults:)",
        keys=NEMESIS_KEYS,
    )


# --- environment ----------------------------------------------------------------------------------------


def _environment() -> dict[str, Any]:
    config_value = {"type": ["string", "number", "boolean"]}
    properties = {
        "name": _text("the environment's name"),
        "engine": {"enum": [SYSTEM_ENGINE, *ENGINE_NAMES], "description": "which server runs the nodes"},
        "backend": {"enum": ["local", "docker"], "description": "processes on this machine, or containers"},
        "master_name": {"type": "string", "pattern": r"^[A-Za-z0-9_-]+$", "description": "Sentinel's name"},
        "replicas": integer_schema(0, 8) | {"description": "replicas of the primary"},
        "sentinels": _object(
            {
                "count": integer_schema(1, 9),
                "quorum": integer_schema(1),
                "down-after-milliseconds": integer_schema(100),
                "failover-timeout": integer_schema(1000),
                "parallel-syncs": integer_schema(1),
            },
            ["count", "quorum"],
            keys=SENTINEL_KEYS,
        ),
        "config": {
            "type": "object",
            "additionalProperties": config_value,
            "description": "redis.conf directives for every data node",
        },
        "readiness_timeout": _duration("how long the topology may take to come up"),
        "proxy": _object(
            {
                "clients": BOOLEAN | {"description": "clients reach each node through its proxied link"},
                "replication": BOOLEAN | {"description": "each replica's stream has a link of its own"},
                "server": {**ADDRESS, "description": "a running Toxiproxy to use instead of our own"},
            },
            keys=PROXY_KEYS,
        ),
        "persistence": {"enum": list(PERSISTENCE), "description": "none, rdb, aof, ..."},
        "auth": _secret(AUTH_KEYS, "the default user's password, from a variable or a file"),
        "security": _object(
            {
                "acl": BOOLEAN,
                "tls": BOOLEAN,
                "secret_env": _text("the variable holding the secret passwords derive from"),
                "secret_file": _text("a file holding it"),
            },
            keys=SECURITY_KEYS,
        ),
        "image": _text("a local Docker image to run nodes from"),
        "external": _external(),
        "topology": {"enum": ["sentinel", "cluster"]},
        "cluster": _object(
            {
                "shards": integer_schema(3, 16),
                "replicas_per_shard": integer_schema(0, 4),
                "cluster-node-timeout": integer_schema(100),
            },
            ["shards"],
            keys=CLUSTER_KEYS,
        ),
        "confirm": _text("an external environment: a run must name it with --target"),
    }
    return _object(properties, ["name"], keys=ENVIRONMENT_KEYS)


def _secret(keys: tuple[str, ...], description: str) -> dict[str, Any]:
    env_key, file_key = keys
    return {
        **_object({env_key: _text("an environment variable"), file_key: _text("a file")}, keys=keys),
        "oneOf": [{"required": [env_key]}, {"required": [file_key]}],
        "description": description,
    }


def _external() -> dict[str, Any]:
    command = {"type": "array", "items": {"type": ["string", "integer"]}, "minItems": 1}
    login = {
        **_object(
            {"user": _text("the ACL user (none: the default user)"), "password_env": _text("a variable"),
             "password_file": _text("a file")},
            keys=LOGIN_KEYS,
        ),
        "oneOf": [{"required": ["password_env"]}, {"required": ["password_file"]}],
    }  # fmt: skip
    control = {
        "type": "object",
        "properties": {
            **{action: command for action in CONTROL_ACTIONS},
            "timeout": _duration("each command's timeout"),
        },
        "additionalProperties": False,
        "description": "the team's own commands (argv templates with {node}, {host}, {port}, ...)",
    }
    return _object(
        {
            "compose_project": _text("the Compose project whose redis-N and sentinel-N containers to drill"),
            "sentinels": _list(ADDRESS, "the deployment's Sentinels", 1),
            "seeds": _list(ADDRESS, "a cluster's nodes to find it through (topology: cluster)", 1),
            "networks": _list(
                {"type": "string", "pattern": r"^[0-9a-fA-F:.]+/[0-9]+$"},
                "networks the deployment lives in besides loopback: the drill reaches nothing else",
            ),
            "control": control,
            "nodes": {
                "type": "object",
                "additionalProperties": {"type": "object"},
                "description": "per node (HOST:PORT): variables for the control commands",
            },
            "address_map": {
                "type": "object",
                "additionalProperties": ADDRESS,
                "description": "announced address -> reachable address",
            },
            "key_prefix": {"type": "string", "pattern": r"^[^*?\[\]{}\\ :]+$"},
            "users": _object(
                {role: login for role in LOGIN_ROLES},
                keys=LOGIN_ROLES,
                description="the team's ACL user per role of the harness (others log in as the operator)",
            ),
            "sentinel_auth": login,
            "tls": _object(
                {k: _text(f"{k} PEM file") for k in TLS_FILE_KEYS},
                ["ca"],
                keys=TLS_FILE_KEYS,
                description="the team's TLS files, relative to this file",
            ),
        },
        keys=EXTERNAL_KEYS,
        description="a deployment the harness does not start",
    )


# --- runbook --------------------------------------------------------------------------------------------


def _runbook() -> dict[str, Any]:
    within = {"within": _bound("the step must hold within this long of the incident")}
    checks = {name: _params(d.params, within, d.help) for name, d in all_checks().items()}
    for name, shaped in checks.items():  # a check without parameters may be written `check: {}` or bare
        checks[name] = {"anyOf": [shaped, {"type": "null"}]} if not shaped.get("required") else shaped
    step = {"$ref": "#/$defs/step"}
    respond = _object(
        {
            "when": _trigger(),
            "steps": _list(_action(), "done in order once the trigger holds", 1),
        },
        RESPOND_KEYS,
        "the procedure, run live during the drill",
        keys=RESPOND_KEYS,
    )
    body = _object(
        {
            "name": _text("the runbook's name"),
            "detect": _list(step, "how the incident must be detected"),
            "respond": respond,
            "verify": _list(step, "what recovery must reach"),
        },
        ["name"],
        keys=RUNBOOK_KEYS,
    )
    return {**body, "$defs": {"step": _one_key(checks, "one check: {CHECK: {parameters, within}}")}}


def _trigger() -> dict[str, Any]:
    variants = []
    for name, (params, doc) in TRIGGERS.items():
        shaped = _params(params, doc=doc)
        variants.append({**shaped, "required": sorted({*shaped.get("required", []), name})})
    return {"oneOf": variants, "description": "exactly one trigger's key, plus its options"}


def _action() -> dict[str, Any]:
    option = {STEP_OPTION: {"type": "string", "pattern": "^[A-Z]+$", "description": "only while this reply"}}
    variants = []
    for kind, catalogue in (("gather", GATHERERS), ("remediate", REMEDIATIONS)):
        for name, (params, doc) in catalogue.items():
            shaped = _params(params, {kind: {"const": name, "description": doc}, **option}, doc)
            variants.append({**shaped, "required": [kind, *shaped.get("required", [])]})
    run = _object(
        {"command": ARGV_SCHEMA, "timeout": _duration("killed after this long (default 30s)")},
        ["command"],
        keys=RUN_KEYS,
    )
    variants.append(_object({"run": run, **option}, ["run"], "the team's own program"))
    assert {k for v in variants for k in v["required"] if k in ACTION_KINDS} == set(ACTION_KINDS)
    return {"oneOf": variants}


# --- sweep ----------------------------------------------------------------------------------------------


def _sweep() -> dict[str, Any]:
    return _object(
        {
            "name": _text(),
            "description": _text(),
            "environment": PATH,
            "seed": integer_schema(0),
            "sweep": _object(
                {
                    "link": _text("the proxied link the RTT is added to (default primary)"),
                    "rtt": _list(DURATION_SCHEMA, "added round trips", 1),
                    "batch": _list(integer_schema(1, 100_000), "pipeline batch sizes", 1),
                    "connections": _list(integer_schema(1, 1000), "connection counts", 1),
                    "cell_duration": _duration("how long each cell is measured"),
                },
                ["rtt", "batch", "connections"],
                keys=SWEEP_KEYS,
            ),
        },
        ["name", "environment", "sweep"],
        keys=SWEEP_FILE_KEYS,
    )
