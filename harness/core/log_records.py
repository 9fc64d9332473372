"""The observation log's record kinds: one definition each (fields, types, units), used by the writers, which
build records with these constructors (mypy checks every field), and by the readers, which get them typed
from `History` (mypy checks every field read). docs/observation-log.md's table is rendered from here
(`drill kinds log`), and a test keeps the two equal.

Records are JSON objects, so they are TypedDicts: no conversion on the hot path (one `op` record per tracked
operation), and a log read back is already the typed value. Each field's help is its `Annotated` text; a
field that only some records of a kind carry is `NotRequired`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Literal, NotRequired, TypedDict, get_args, get_origin, get_type_hints

# Field types that recur, with their units.
Seconds = Annotated[float, "s since the run started"]
Micros = Annotated[int, "µs"]
Counts = Annotated[dict[str, int], "{error class: count}"]
OpType = Literal["ok", "fail", "info"]  # Jepsen's: acknowledged, certainly not applied, maybe applied


class RunRecord(TypedDict):
    """First record: which run this is and how the log was sampled."""

    t: Seconds
    kind: Literal["run"]
    schema: Annotated[int, "the format's version (3)"]
    scenario: Annotated[str, "the drill's name"]
    scenario_file: Annotated[str | None, "absolute path of the scenario file, for drill evaluate"]
    run_id: Annotated[str, "the run's id, which tags its processes, containers and keys"]
    seed: Annotated[int, "the seed of every random choice"]
    backend: Annotated[str, "local, docker or external"]
    engine: NotRequired[Annotated[str, "the engine the nodes ran: name and version (redis-7.0 7.0.15)"]]
    engine_notes: NotRequired[Annotated[list[str], "how the environment was adapted to the engine"]]
    wall_clock: Annotated[float, "Unix time at this record; a record r happened at wall_clock - t + r.t"]
    stats_interval: Annotated[float, "s one stats record covers"]
    info_interval: Annotated[float, "s between info records"]


class TopologyRecord(TypedDict):
    """Once the topology is ready."""

    t: Seconds
    kind: Literal["topology"]
    master_name: Annotated[str, "the name Sentinel monitors"]
    primary: Annotated[str, "the initial primary"]
    nodes: Annotated[dict[str, dict[str, str]], "{name: {kind, address, client_address}}"]
    links: Annotated[dict[str, dict[str, Any]], "proxied links: {name: {kind, node, port}}"]
    security: Annotated[dict[str, bool], "{acl, tls}"]
    proxy_api: NotRequired[Annotated[str, "host:port of the links' Toxiproxy API, where there are links"]]
    shards: NotRequired[
        Annotated[
            list[dict[str, Any]],
            "a cluster's shards as created: [{primary, replicas: [name], slots: [first, last]}]",
        ]
    ]


class LoadRecord(TypedDict):
    """Load start and stop."""

    t: Seconds
    kind: Literal["load"]
    phase: Annotated[Literal["start", "stop"], "start or stop"]
    users: NotRequired[Annotated[int, "at start: simulated users"]]
    retry: NotRequired[Annotated[str, "at start: the retry policy's name"]]
    workloads: NotRequired[Annotated[dict[str, int], "at start: {workload: users}"]]
    remote_workers: NotRequired[
        Annotated[
            list[dict[str, Any]],
            "at start, with drill worker processes on other machines: [{index, address, clock_uncertainty "
            "(s: half the round trip of its best clock probe)}]",
        ]
    ]
    unfinished_workers: NotRequired[
        Annotated[
            list[int], "at stop: remote workers that sent no last lines in time (their ops are missing)"
        ]
    ]


class StatsRecord(TypedDict):
    """Every stats_interval, per workload (and per load process): the load's aggregates."""

    t: Seconds
    kind: Literal["stats"]
    workload: Annotated[str, "the workload"]
    worker: NotRequired[Annotated[int, "the load process's index, with load.processes > 1"]]
    ok: Annotated[int, "operations acknowledged"]
    fail: Annotated[int, "operations certainly not applied"]
    info: Annotated[int, "operations maybe applied: timeouts, broken connections"]
    retries: Annotated[int, "retries the policy made"]
    errors: Counts
    retried_errors: Annotated[dict[str, int], "{error class: count} of errors the policy retried"]
    p50_us: Micros
    p99_us: Micros
    max_us: Micros
    hist: Annotated[
        dict[str, int], "{bucket: count}: log-scale buckets ~4 % wide, mergeable across intervals"
    ]
    redirects: NotRequired[
        Annotated[dict[str, int], "on a cluster: {MOVED or ASK: count} of redirects followed (not errors)"]
    ]


# What a workload says about one tracked operation; the load adds the rest (OpRecord). Functional syntax:
# `from` is a Python keyword.
OpFields = TypedDict(
    "OpFields",
    {
        "f": Annotated[str, "write, incr, transfer, cas, read or sadd"],
        "key": NotRequired[Annotated[str, "the key written, incremented or compared"]],
        "value": NotRequired[Annotated[Any, "the value written (write) or returned (incr)"]],
        "from": NotRequired[Annotated[str, "transfer: the source account"]],
        "to": NotRequired[Annotated[str, "transfer: the target account"]],
        "amount": NotRequired[Annotated[int, "transfer: the amount"]],
        "result": NotRequired[Annotated[str, "transfer: committed, insufficient or conflict"]],
        "applied": NotRequired[Annotated[Any, "cas: the script's answer"]],
        "element": NotRequired[Annotated[str, "sadd: the member added (unique to the operation)"]],
        "by": NotRequired[
            Annotated[str, "write on a Sentinel topology: host:port of the node that acknowledged it"]
        ],
    },
)


class OpRecord(OpFields):
    """Every tracked operation, when it completes."""

    t: Seconds
    kind: Literal["op"]
    w: Annotated[str, "the workload"]
    t0: Annotated[float, "s since the run started: when the operation was invoked (t: completed)"]
    type: Annotated[OpType, "ok (acknowledged), fail (certainly not applied) or info (maybe applied)"]
    error: NotRequired[Annotated[str, "the error class, when not ok"]]
    retries: NotRequired[Annotated[int, "attempts the retry policy repeated"]]
    retried: NotRequired[Annotated[list[str], "the error class of each repeated attempt"]]


class InitRecord(TypedDict):
    """The starting state a workload's checker compares against (bank balances, counters)."""

    t: Seconds
    kind: Literal["init"]
    workload: Annotated[str, "the workload"]
    values: Annotated[dict[str, Any], "{key: value} as set before the load"]


class FaultDetails(TypedDict, total=False):
    """What a fault record says beyond every fault's fields, by kind (ObservationLog.fault takes them)."""

    role: Annotated[str | None, "the node's role just before: primary, replica, sentinel, down"]
    incident: Annotated[bool, "marked as the runbooks' incident"]
    link: Annotated[str, "network: the proxied link"]
    replica: Annotated[str | None, "network: a replication link's replica"]
    effect: Annotated[str, "network: latency, partition, bandwidth ..."]
    toxics: Annotated[list[str], "network: the proxy toxics added"]
    mechanism: Annotated[
        str, "how a cut was made: proxy, nftables, network disconnect, the deployment's isolate command"
    ]
    groups: Annotated[dict[str, list[str]], "partition: {between, and}"]
    one_way: Annotated[bool, "partition: only the between side's traffic is dropped"]
    users: Annotated[int, "surge: extra users"]
    seconds: Annotated[float, "surge, pause, long-script: how long"]
    rtt: Annotated[float, "sweep: the round trip added, s"]
    details: Annotated[dict[str, Any], "server faults: what the fault did: bytes, keys, dir ..."]
    skipped: Annotated[str, "nemesis: why the drawn fault could not act now (nothing was done)"]


class FaultRecord(FaultDetails):
    """A fault as an interval: t is when its action was invoked (isolate commands: when the cut is whole)."""

    t: Seconds
    kind: Literal["fault"]
    completed: Annotated[float, "s since the run started: when the action returned"]
    index: Annotated[int, "the fault's place in the timeline"]
    action: Annotated[str, "kill, terminate, restart, network, heal, partition, pause, surge, a server fault"]
    target: Annotated[str, "the target as written"]
    node: Annotated[str | None, "the node it resolved to"]


class FaultEndDetails(TypedDict, total=False):
    """What a fault_end record says beyond the fault it ends (ObservationLog.fault_end takes them)."""

    node: Annotated[str, "the node"]
    outcome: Annotated[str, "how it ended"]
    users: Annotated[int, "surge: the users that leave"]
    bytes: Annotated[int, "oom: bytes written"]
    runs: Annotated[int, "slow-command: commands sent"]
    slots: Annotated[int, "reshard: slots moved"]
    keys: Annotated[int, "reshard: keys moved with them"]


class FaultEndRecord(FaultEndDetails):
    """A fault that ends by itself (a script, a filler, a surge, a pause, a terminated node's exit)."""

    t: Seconds
    kind: Literal["fault_end"]
    index: Annotated[int, "the fault's place in the timeline"]
    action: Annotated[str, "the fault's action"]


class SentinelRecord(TypedDict):
    """Every event any Sentinel publishes."""

    t: Seconds
    kind: Literal["sentinel"]
    sentinel: Annotated[str, "the Sentinel that published it"]
    event: Annotated[str, "+sdown, +odown, +switch-master, ..."]
    data: Annotated[str, "the raw message"]
    type: NotRequired[Annotated[str, "master, slave or sentinel"]]
    node: NotRequired[Annotated[str | None, "the node it concerns; the old primary on +switch-master"]]
    old: NotRequired[Annotated[str | None, "+switch-master: the old primary"]]
    new: NotRequired[Annotated[str | None, "+switch-master: the new primary"]]


class ClusterRecord(TypedDict):
    """A cluster node's view, each time it changes (polled every info_interval): its state and how it
    sees every node."""

    t: Seconds
    kind: Literal["cluster"]
    node: Annotated[str, "the node asked"]
    state: NotRequired[Annotated[str, "its cluster_state: ok or fail"]]
    slots_ok: NotRequired[Annotated[int, "slots it sees served (cluster_slots_ok)"]]
    view: NotRequired[
        Annotated[
            dict[str, dict[str, Any]],
            "{name: {role (primary or replica), failed (FAIL), suspected (PFAIL), primary (a replica's),"
            " slots (how many it serves)}}",
        ]
    ]
    error: NotRequired[Annotated[str, "it did not answer"]]


class InfoRecord(TypedDict):
    """Every info_interval: INFO of every data node and each Sentinel's view of the primary."""

    t: Seconds
    kind: Literal["info"]
    nodes: Annotated[
        dict[str, dict[str, Any]],
        "{name: {role, offset, replicas: [{node, state, offset, lag}], primary, link,"
        " errors ({class: count}), used_memory, maxmemory, evicted_keys, connected_clients, maxclients,"
        " keyspace_hits, keyspace_misses, total_commands_processed, mem_clients_slaves, sync_full,"
        " used_cpu_sys, used_cpu_user}}"
        " or {error, message} for a node that did not answer",
    ]
    sentinels: Annotated[dict[str, str | None], "{sentinel: the primary it names}"]


class SurgeRecord(TypedDict):
    """A traffic surge reaching a load process."""

    t: Seconds
    kind: Literal["surge"]
    worker: Annotated[int, "the load process (1: the drill's own)"]
    users: Annotated[int, "its share of the extra users"]
    seconds: Annotated[float, "how long"]


class ObserverRecord(TypedDict):
    """An observer's state changes."""

    t: Seconds
    kind: Literal["observer"]
    observer: Annotated[str, "which observer"]
    sentinel: Annotated[str, "the Sentinel it watches"]
    state: Annotated[str, "subscribed or lost"]
    error: NotRequired[Annotated[str, "lost: why"]]


class AlertingRecord(TypedDict):
    """With alerts: the rules as scaled for the drill."""

    t: Seconds
    kind: Literal["alerting"]
    rules: Annotated[str, "the rules file"]
    time_scale: Annotated[float, "the factor every rule's for: was multiplied by"]
    scrape_interval: Annotated[float, "s between Prometheus scrapes"]
    for_s: Annotated[dict[str, float], "{alert: its scaled for:, s}"]
    console: NotRequired[Annotated[str, "the key-metrics console on the drill's Prometheus (a URL)"]]


class AlertRecord(TypedDict):
    """With alerts: each alert state change Prometheus reports."""

    t: Seconds
    kind: Literal["alert"]
    name: Annotated[str, "the alert"]
    node: Annotated[str, "the node its instance label names"]
    state: Annotated[str, "pending, firing or resolved"]


class AlertPollErrorRecord(TypedDict):
    """With alerts: Prometheus did not answer a poll."""

    t: Seconds
    kind: Literal["alert_poll_error"]
    error: Annotated[str, "why"]


class PageRecord(TypedDict):
    """With alerts: {page: true}: each alert of each Alertmanager notification."""

    t: Seconds
    kind: Literal["page"]
    name: Annotated[str, "the alert"]
    node: Annotated[str, "the node"]
    state: Annotated[str, "firing or resolved"]
    receiver: Annotated[str | None, "Alertmanager's receiver"]


class RespondRecord(TypedDict):
    """A runbook procedure's trigger."""

    t: Seconds
    kind: Literal["respond"]
    runbook: Annotated[str, "the runbook"]
    phase: Annotated[str, "triggered or no-trigger"]
    trigger: Annotated[str, "the trigger, as the report shows it"]
    node: NotRequired[Annotated[str, "triggered: the node"]]


class RunbookStepRecord(TypedDict):
    """Each step of a runbook procedure."""

    t: Seconds
    kind: Literal["runbook_step"]
    runbook: Annotated[str, "the runbook"]
    index: Annotated[int, "the step's place"]
    step: Annotated[str, "what it did: gather/remediate/run NAME [argument]"]
    node: Annotated[str, "the node"]
    ok: Annotated[bool, "it succeeded"]
    evidence: Annotated[str, "what it saw"]
    started: Annotated[float, "s since the run started"]
    output: Annotated[str | None, "run: the program's output (capped, secrets blanked)"]


class ProbeReplyRecord(TypedDict):
    """Every change of the responder probe's answer."""

    t: Seconds
    kind: Literal["probe_reply"]
    node: Annotated[str, "the node probed"]
    reply: Annotated[str, "its answer's class (OK, BUSY, ...)"]


class ProbeTargetRecord(TypedDict):
    """The node the responder's probe is pinned to."""

    t: Seconds
    kind: Literal["probe_target"]
    node: Annotated[str, "the node"]


class ProgramProbeRecord(TypedDict):
    """Each run of a program verify step."""

    t: Seconds
    kind: Literal["program_probe"]
    runbook: Annotated[str, "the runbook"]
    command: Annotated[list[str], "the command as written"]
    node: Annotated[str, "the node"]
    ok: Annotated[bool, "exit 0"]
    evidence: Annotated[str, "its output, capped, secrets blanked"]


class SecurityRecord(TypedDict):
    """Secured topologies, at start: what an unauthorised client was refused."""

    t: Seconds
    kind: Literal["security"]
    check: Annotated[str, "what was tried"]
    node: Annotated[str, "the node"]
    command: Annotated[str, "the command"]
    refused: Annotated[bool, "it was refused"]
    answer: Annotated[str, "the answer"]


class RestoreCheckRecord(TypedDict):
    """The snapshot-restore fault: acknowledged writes before the snapshot, looked up on the restored node."""

    t: Seconds
    kind: Literal["restore_check"]
    node: Annotated[str, "the restored node"]
    source: Annotated[str, "the node snapshotted"]
    point: Annotated[float, "s since the run started: the snapshot's point"]
    snapshot_bytes: Annotated[int, "bytes"]
    expected: Annotated[int, "acknowledged writes before the point"]
    missing: Annotated[int, "of those, missing on the restored node"]
    first_missing: Annotated[list[str], "up to 5 missing keys"]


class ReadbackRecord(TypedDict):
    """After the load: acknowledged writes read back from the current primary, in chunks, then done."""

    t: Seconds
    kind: Literal["readback"]
    node: NotRequired[Annotated[str, "the primary read"]]
    values: NotRequired[Annotated[dict[str, str | None], "{key: value} of one chunk"]]
    sets: NotRequired[Annotated[dict[str, list[str]], "{set key: its members} (the set workload)"]]
    done: NotRequired[Annotated[bool, "the last record: every key was read"]]
    keys: NotRequired[Annotated[int, "keys to read"]]
    error: NotRequired[Annotated[str, "why the read-back failed"]]


class ControlRecord(TypedDict):
    """External deployments: one of the team's control commands, as it ran."""

    t: Seconds
    kind: Literal["control"]
    action: Annotated[str, "kill, stop, start, pause, resume, status, isolate or rejoin"]
    node: Annotated[str, "the node"]
    argv: Annotated[list[str], "the command, as run"]
    exit: Annotated[int | None, "its exit code (null: killed at the timeout)"]
    stdout: Annotated[str, "its output (the last 2000 characters)"]
    stderr: Annotated[str, "its error output (the last 2000 characters)"]
    seconds: Annotated[float, "how long it ran"]


class CleanupRecord(TypedDict):
    """External deployments, at the end: the run's keys removed and the deployment as found again."""

    t: Seconds
    kind: Literal["cleanup"]
    prefix: Annotated[str, "the run's key prefix (keys matched PREFIX:* and {PREFIX:*)"]
    keys_removed: Annotated[int, "keys UNLINKed"]
    restored: NotRequired[Annotated[list[str], "what was put back: nodes started, resumed"]]
    healthy: Annotated[bool, "the deployment is as it was found: one primary, every replica linked"]
    differences: NotRequired[Annotated[list[str], "what is still different when not healthy"]]
    seconds: Annotated[float, "how long putting it back took"]


class ConfigRecord(TypedDict):
    """A CONFIG SET the drill made on a node (a fault's, a remediation's, the end of the run's restore)."""

    t: Seconds
    kind: Literal["config"]
    node: Annotated[str, "the node"]
    parameter: Annotated[str, "the CONFIG parameter"]
    before: Annotated[str, "its value before this change"]
    value: Annotated[str, "the value set"]
    by: Annotated[str, "who set it: a fault, a runbook step, a rollback, the end of the run"]


class AbortRecord(TypedDict):
    """A stop condition tripped (abort_if): the drill stopped and rolled its faults back."""

    t: Seconds
    kind: Literal["abort"]
    condition: Annotated[str, "the condition as written, e.g. error_rate above 5% for 1s"]
    tripped: Annotated[float, "s since the run started: when the condition held (t: when the guard saw it)"]
    evidence: Annotated[str, "what the guard saw"]


class RollbackRecord(TypedDict):
    """After an abort: each fault still acting, ended, newest first."""

    t: Seconds
    kind: Literal["rollback"]
    index: Annotated[int, "the fault's place in the timeline"]
    action: Annotated[str, "the fault's action"]
    node: Annotated[str | None, "the node it acted on"]
    done: Annotated[str, "what the rollback did"]
    seconds: Annotated[float, "how long it took"]
    error: NotRequired[Annotated[str, "why it could not be undone"]]


class SweepRecord(TypedDict):
    """drill sweep: one cell."""

    t: Seconds
    kind: Literal["sweep"]
    rtt: Annotated[float, "round trip added, s"]
    batch: Annotated[int, "pipeline depth"]
    connections: Annotated[int, "connections"]
    requests: Annotated[int, "requests sent"]
    ops_per_s: Annotated[float, "ops/s"]


LogRecord = (
    RunRecord
    | TopologyRecord
    | LoadRecord
    | StatsRecord
    | OpRecord
    | InitRecord
    | FaultRecord
    | FaultEndRecord
    | SentinelRecord
    | ClusterRecord
    | InfoRecord
    | SurgeRecord
    | ObserverRecord
    | AlertingRecord
    | AlertRecord
    | AlertPollErrorRecord
    | PageRecord
    | RespondRecord
    | RunbookStepRecord
    | ProbeReplyRecord
    | ProbeTargetRecord
    | ProgramProbeRecord
    | SecurityRecord
    | RestoreCheckRecord
    | ReadbackRecord
    | ControlRecord
    | CleanupRecord
    | ConfigRecord
    | AbortRecord
    | RollbackRecord
    | SweepRecord
)


def record_kinds() -> dict[str, type]:
    """{kind: its definition}, in the order the docs list them."""
    return {get_args(get_type_hints(cls)["kind"])[0]: cls for cls in get_args(LogRecord)}


def record_problems(records: Iterable[dict[str, Any]]) -> list[str]:
    """What is wrong with records against their kinds' definitions (each problem once): an unknown kind, a
    missing required field, a field the definition does not name (types are mypy's business, at the
    writers). The definitions are read once per call: a log holds tens of thousands of records."""
    fields: dict[str, tuple[frozenset[str], frozenset[str]]] = {}  # kind: (required, all)
    for kind, cls in record_kinds().items():
        hints = get_type_hints(cls, include_extras=True)
        required = frozenset(name for name, hint in hints.items() if not _optional(cls, name, hint))
        fields[kind] = (required, frozenset(hints))
    problems: dict[str, None] = {}
    for record in records:
        kind = str(record.get("kind"))
        if kind not in fields:
            problems[f"unknown record kind {kind!r}"] = None
            continue
        required, named = fields[kind]
        keys = record.keys()
        for name in sorted(required - keys):
            problems[f"{kind}: missing {name}"] = None
        for name in sorted(keys - named):
            problems[f"{kind}: undefined field {name}"] = None
    return list(problems)


def describe_kinds() -> str:
    """The docs' table of record kinds, from the definitions (fields marked * are not in every record)."""
    rows = ["| kind | when | fields |", "|---|---|---|"]
    for kind, cls in record_kinds().items():
        hints = get_type_hints(cls, include_extras=True)
        ordered = sorted(hints.items(), key=lambda item: _optional(cls, *item))  # required first, stable
        fields = [
            f"`{name}`{'*' if _optional(cls, name, hint) else ''}: {_help(hint)}"
            for name, hint in ordered
            if name not in ("t", "kind")
        ]
        rows.append(f"| `{kind}` | {(cls.__doc__ or '').strip()} | {'; '.join(fields)} |")
    return "\n".join(rows)


def _optional(cls: type, name: str, hint: Any) -> bool:
    # Class-based definitions keep NotRequired in their (string) annotations: Python 3.11's
    # __optional_keys__ misses it there, so both are asked.
    return get_origin(hint) is NotRequired or name in getattr(cls, "__optional_keys__", ())


def _help(hint: Any) -> str:
    while get_origin(hint) is NotRequired:
        hint = get_args(hint)[0]
    if get_origin(hint) is Annotated:
        return str(hint.__metadata__[0])
    return getattr(hint, "__name__", str(hint))
