"""Frozen, typed models of environments, scenarios and runbooks."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from harness.core.loopback import Network
from harness.core.secrets import SecretSource
from harness.scenario.durations import Bound
from harness.scenario.procedure_kinds import Probing, Trigger

ConfigValue = str | int | float | bool


@dataclass(frozen=True, slots=True)
class SentinelSpec:
    count: int
    quorum: int
    down_after_ms: int
    failover_timeout_ms: int
    parallel_syncs: int


@dataclass(frozen=True, slots=True)
class ProxySpec:
    """Which network paths go through the Toxiproxy-compatible proxy, so faults can act on them."""

    clients: bool  # one link per data node, for clients, Sentinels and replicas (nodes announce it)
    replication: bool  # one link per replica to the initial primary (until Sentinel reconfigures it)
    server: tuple[str, int] | None = None  # a running Toxiproxy server's API to use instead of our own proxy


@dataclass(frozen=True, slots=True)
class SecuritySpec:
    """A secured topology (harness/backends/secured.py): ACL users per role with the default user off,
    and TLS on client, replication and Sentinel or cluster-bus links; passwords and certificates are made
    per run."""

    acl: bool = True
    tls: bool = True
    # The users' passwords derive from this secret (HMAC per user); without it, from a random one per run.
    secret: SecretSource | None = None


@dataclass(frozen=True, slots=True)
class ClusterSpec:
    """A Redis Cluster: `shards` primaries splitting the 16384 slots, each with its replicas."""

    shards: int
    replicas_per_shard: int
    node_timeout_ms: int  # cluster-node-timeout: how long a node may be unreachable before it is failed

    @property
    def nodes(self) -> int:
        return self.shards * (1 + self.replicas_per_shard)


CONTROL_ACTIONS = ("kill", "stop", "start", "pause", "resume", "status", "isolate", "rejoin")


@dataclass(frozen=True, slots=True)
class ControlSpec:
    """A deployment's own commands for acting on its nodes: argv templates per action (no shell unless the
    team writes one), filled with {node}, {host}, {port}, {role} and the node's own variables; `isolate`
    (drop what reaches the node from {peers}: their hosts, comma-separated) and `rejoin` (undo every
    isolate of the node) are how partitions reach packet filters only the team's commands can."""

    actions: tuple[tuple[str, tuple[str, ...]], ...]  # (action, argv template), actions of CONTROL_ACTIONS
    timeout: float  # each command is killed after this long, and the action fails
    # Per node, by the address it is found at ("host:port"): its variables ({unit}, {container}, ...).
    node_vars: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()

    def template(self, action: str) -> tuple[str, ...] | None:
        return next((argv for name, argv in self.actions if name == action), None)

    def variables(self, address: str) -> dict[str, str]:
        return dict(next((pairs for where, pairs in self.node_vars if where == address), ()))


@dataclass(frozen=True, slots=True)
class ExternalLogin:
    """How the harness logs in to a deployment it did not start, as the team's clients do: an ACL user (None:
    the default user) and where its password is (never the password itself)."""

    user: str | None
    password: SecretSource


@dataclass(frozen=True, slots=True)
class ExternalTls:
    """The team's TLS files (PEM): the CA their servers' certificates chain to, and a client certificate and
    key where the servers ask for one (tls-auth-clients)."""

    ca: Path
    cert: Path | None = None
    key: Path | None = None


@dataclass(frozen=True, slots=True)
class AddressedDeployment:
    """A deployment the harness did not start, found by address: a Sentinel deployment through its
    Sentinels, a cluster through some of its nodes (`seeds`)."""

    sentinels: tuple[tuple[str, int], ...]
    control: ControlSpec | None = None
    # Announced address -> where this machine reaches it (a port-forward, a NAT): nodes that announce
    # addresses the harness cannot reach (pod IPs, container-internal ones).
    address_map: tuple[tuple[tuple[str, int], tuple[str, int]], ...] = ()
    key_prefix: str = "drill"  # the run's keys are KEY_PREFIX:<run id>:... (the team's ACL may name it)
    # Networks the deployment lives in besides this machine's loopback: nothing outside them is reached.
    networks: tuple[Network, ...] = ()
    seeds: tuple[tuple[str, int], ...] = ()  # a cluster's: found through these nodes (CLUSTER NODES)
    # Logins per role (operator, monitor, load, exporter) on data nodes; a role not given logs in as the
    # operator, else with auth:'s password. sentinel_login: the Sentinels' (their requirepass or ACL user).
    logins: tuple[tuple[str, ExternalLogin], ...] = ()
    sentinel_login: ExternalLogin | None = None
    tls: ExternalTls | None = None

    @property
    def finders(self) -> str:
        """Where it is found, for messages."""
        kind, addresses = ("nodes", self.seeds) if self.seeds else ("Sentinels", self.sentinels)
        return f"the {kind} at {', '.join(f'{h}:{p}' for h, p in addresses)}"

    def reach(self, address: tuple[str, int]) -> tuple[str, int]:
        return dict(self.address_map).get(address, address)


NO_SENTINELS = SentinelSpec(count=0, quorum=0, down_after_ms=0, failover_timeout_ms=0, parallel_syncs=0)


@dataclass(frozen=True, slots=True)
class Environment:
    """A replicated topology: one primary, N replicas, M Sentinels; or a cluster of shards (`cluster`),
    where `replicas` counts every data node but the first and there are no Sentinels."""

    file: Path
    name: str
    engine: str  # an engines.ENGINE_NAMES name, or "redis": the system's redis-server, whatever its version
    backend: Literal["local", "docker"]
    master_name: str
    replicas: int
    sentinels: SentinelSpec
    config: tuple[tuple[str, ConfigValue], ...]
    readiness_timeout: float
    proxy: ProxySpec | None = None
    password: SecretSource | None = None  # requirepass of every data node (and Sentinel's auth-pass)
    security: SecuritySpec | None = None  # ACL users and TLS (`drill run --secure` sets it on any file)
    image: str | None = None  # Docker backend: run nodes from this local image instead of building one
    # Nodes the harness did not start: the containers of this Compose project (faults need a CLI flag).
    external_compose_project: str | None = None
    cluster: ClusterSpec | None = None
    # Nodes the harness did not start, found by address (faults need a CLI flag, and `control` to act).
    external_deployment: AddressedDeployment | None = None
    confirm: str | None = None  # a run must name this with --target: a drill aimed elsewhere stops

    @property
    def external(self) -> bool:
        return self.external_compose_project is not None or self.external_deployment is not None

    @property
    def owner(self) -> str:
        """Whose nodes an external environment's are, for messages."""
        if self.external_compose_project is not None:
            return f"Compose project {self.external_compose_project}'s containers"
        if self.external_deployment is not None:
            return f"the deployment found through {self.external_deployment.finders}"
        return "nodes this run starts"

    def bound_settings(self) -> dict[str, float]:
        """Values that time bounds in runbooks may refer to, in seconds."""
        config = dict(self.config)
        # Seconds in redis.conf; only when set (a bound on it means nothing without it).
        lag = (
            {"min-replicas-max-lag": float(config["min-replicas-max-lag"])}
            if "min-replicas-max-lag" in config
            else {}
        )
        if self.cluster is not None:
            # A node is failed once it has been unreachable for node-timeout: the cluster's down-after, so
            # runbooks written against either topology and `from_config` bounds read the same.
            timeout = self.cluster.node_timeout_ms / 1000
            return {"node-timeout": timeout, "down-after": timeout, **lag}
        return {
            "down-after": self.sentinels.down_after_ms / 1000,
            "failover-timeout": self.sentinels.failover_timeout_ms / 1000,
            **lag,
        }


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How load users retry a failed operation. Every attempt is recorded."""

    name: str
    retries: int
    base: float
    cap: float
    on: tuple[str, ...]  # error classes that are retried, e.g. "timeout", "connection", "BUSY"


NO_RETRY = RetryPolicy(name="none", retries=0, base=0.0, cap=0.0, on=())


WorkloadKind = Literal[
    "acked-writes", "kv", "pipeline", "bank", "lua-cas", "keyspace", "counter", "crossslot", "set"
]


@dataclass(frozen=True, slots=True)
class WorkloadSpec:
    """One kind of Locust user and how many of them run."""

    kind: WorkloadKind
    users: int
    wait: float  # per user, between steps
    write_ratio: float = 0.5  # acked-writes, kv: share of steps that write
    batch: int = 100  # pipeline: commands per round trip
    accounts: int = 10  # bank: accounts transfers move money between
    keys: int = 4  # counter, lua-cas: how many counters or registers the users share
    tagged_ratio: float = 0.5  # crossslot: share of MSETs whose keys share a hash tag


@dataclass(frozen=True, slots=True)
class LoadSpec:
    workloads: tuple[WorkloadSpec, ...]
    spawn_rate: float
    duration: float
    timeout: float
    retry: RetryPolicy
    processes: int = 1  # Locust worker processes; 1 runs the users in the drill's own process

    @property
    def users(self) -> int:
        return sum(w.users for w in self.workloads)


ServerFaultKind = Literal[
    "long-script",
    "oom",
    "misconf",
    "slow-command",
    "client-flood",
    "loading",
    "switchover",
    "truncate-aof",
    "snapshot-restore",
    "full-sync",
    "reshard",
    "debug-sleep",
    "client-pause",
    "client-kill",
]
FaultAction = Literal[
    "kill", "terminate", "restart", "network", "heal", "surge", "partition", "pause", ServerFaultKind
]

# Who a per-peer partition separates: roles resolved when it fires, node names, or the clients (the load
# users and the harness's probes and observers).
PARTITION_GROUPS = ("primary", "primaries", "replica", "replicas", "sentinels", "clients")


@dataclass(frozen=True, slots=True)
class PartitionSpec:
    """Packets dropped between two groups (from `between` to `others` only, when one_way)."""

    between: tuple[str, ...]
    others: tuple[str, ...]
    one_way: bool = False

    @property
    def label(self) -> str:
        arrow = "->" if self.one_way else "|"
        return f"{'+'.join(self.between)} {arrow} {'+'.join(self.others)}"


@dataclass(frozen=True, slots=True)
class PauseSpec:
    """The node frozen (SIGSTOP, or its container frozen) for `seconds`, then thawed."""

    seconds: float


@dataclass(frozen=True, slots=True)
class SurgeSpec:
    """A traffic surge: the load gains `users` more users (spread over its workloads) for `seconds`."""

    users: int
    seconds: float


@dataclass(frozen=True, slots=True)
class ServerFaultSpec:
    """A failure the server is driven into through its own commands: no process or network is touched."""

    kind: ServerFaultKind
    seconds: float = 30.0  # long-script: how long the Lua loop runs unless it is killed
    writes: bool = False  # long-script: write before looping, so SCRIPT KILL answers UNKILLABLE
    value_bytes: int = 65536  # oom, full-sync: size of each filler value
    keys: int = 200_000  # slow-command, loading, full-sync: keys created first (the dataset they act on)
    every: float = 0.2  # slow-command: seconds between two KEYS *
    connections: int = 1100  # client-flood: idle connections opened and held
    cut_bytes: int = 64  # truncate-aof: bytes cut off the end of the newest AOF file (the node must be down)
    to: str = ""  # reshard: the primary receiving the slots ("": the next shard's)
    slots: int = 1000  # reshard: how many slots move
    batch: int = 100  # reshard: keys per MIGRATE
    mode: str = "write"  # client-pause: WRITE or ALL
    client_type: str = "normal"  # client-kill: normal, replica or pubsub


@dataclass(frozen=True, slots=True)
class NetworkSpec:
    """One network effect on a proxied link, as a Toxiproxy toxic (or the proxy disabled, for a partition)."""

    effect: Literal[
        "latency",
        "bandwidth",
        "timeout",
        "reset",
        "partition",
        "packet-loss",
        "redis-error",
        "redis-delay",
        "redis-drop",
    ]
    stream: Literal["upstream", "downstream", "both"] = "both"
    latency: float = 0.0  # seconds (redis-delay: per matching command)
    jitter: float = 0.0  # seconds
    rate_kbs: int = 0  # bandwidth, KB/s
    timeout: float = 0.0  # seconds; for "timeout" 0 holds data until healed, for "reset" the delay
    loss_rate: float = 0.0  # packet-loss: chance a chunk is lost (then retransmitted after `timeout`)
    correlation: float = 0.0  # packet-loss: added chance after a loss
    commands: tuple[str, ...] = ()  # redis-*: the command names matched ("*": every data command)
    key_pattern: str = ""  # redis-*: a glob one of the command's keys must match
    rate: float = 1.0  # redis-*: share of the matching commands acted on
    error: str = ""  # redis-error: the error class or text
    first: int = 0  # redis-error, redis-drop: only the first N matching commands per connection


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """One entry of the fault timeline: act on a target at a time (plus seeded jitter)."""

    at: float
    jitter: float
    action: FaultAction
    # kill/terminate/restart: "primary", "replica", "last-killed" or a node name.
    # network/heal: a link: "primary", "replica", a data node name, "replication:<replica>" or
    # "replication:replica"; heal also takes "all".
    target: str
    network: NetworkSpec | None = None
    incident: bool = False  # the runbooks' incident (times are measured from it); default: the first fault
    server: ServerFaultSpec | None = None  # long-script, oom, misconf: target is "primary" or a node
    surge: SurgeSpec | None = None  # surge: target is "primary", where the extra traffic lands
    partition: PartitionSpec | None = None  # partition: target is the spec's label
    pause: PauseSpec | None = None  # pause: target is "primary", "replica" or a node name
    # The longest it may last, from when it fires; enforced by a watchdog outside the harness's process (a
    # harness that dies leaves nothing cut or frozen). None: until the drill's planned end + MAX_MARGIN_S.
    max: float | None = None
    # The incident this fault starts (an index into Scenario.incidents): its times are measured from it.
    starts_incident: int | None = None

    @property
    def kind(self) -> str:
        """What the fault does: a server fault's own kind (long-script, misconf, ...), else its action."""
        return self.server.kind if self.server is not None else self.action


MAX_MARGIN_S = (
    30.0  # a fault without `max:` lasts at most to the load's planned end plus this (read-back, teardown)
)


@dataclass(frozen=True, slots=True)
class Step:
    """One runbook step: a named check (harness/runbooks/checks), its parameters and its time bound."""

    check: str
    line: int | None
    params: Any  # an instance of the check's own parameters class
    within: Bound | None = None


@dataclass(frozen=True, slots=True)
class Action:
    """One step of a runbook's procedure, done live during the drill: gather evidence, remediate, or run
    the team's own program."""

    kind: Literal["gather", "remediate", "run"]
    name: str  # see harness/respond/actions.py for the catalogue; for run: the program's file name
    line: int | None
    if_still: str = ""  # run only if a probe of the node still gets this error reply (e.g. BUSY)
    argument: str = ""  # set-maxmemory-policy: the policy
    command: tuple[str, ...] = ()  # run: argv, the program resolved against the runbook's directory
    timeout: float = 30.0  # run: its whole process group is killed after this long


@dataclass(frozen=True, slots=True)
class Response:
    """When the procedure starts (a trigger, watched on the incident's node: see procedure_kinds.TRIGGERS),
    and its steps in order."""

    trigger: Trigger
    steps: tuple[Action, ...]

    @property
    def probe(self) -> str:
        """What the responder's probe sends: a replica answers writes with READONLY."""
        return self.trigger.probe if isinstance(self.trigger, Probing) else "write"


@dataclass(frozen=True, slots=True)
class Runbook:
    file: Path
    name: str
    detect: tuple[Step, ...]
    verify: tuple[Step, ...]
    respond: Response | None = None


@dataclass(frozen=True, slots=True)
class Expectation:
    detection_within: Bound | None  # None: not checked
    recovery_within: Bound | None
    max_lost_writes: int | None  # None: report only
    clients_ride_out: bool = False  # every operation succeeded in the end, under the load's retry policy


@dataclass(frozen=True, slots=True)
class AlertsSpec:
    """Run Prometheus and the Redis exporter against the topology with the rules' `for:` shortened."""

    time_scale: float  # every `for:` divided by this (30: 1m -> 2s, 5m -> 10s)
    scrape_interval: float  # also Prometheus's rule evaluation interval
    page: bool = False  # also Alertmanager, paging the drill's receiver (monitoring/alertmanager.yml)


@dataclass(frozen=True, slots=True)
class StopCondition:
    """One entry of a scenario's `abort_if:`: when it trips, the drill stops and rolls its faults back."""

    kind: str  # a name of harness/scenario/stop_kinds.py's STOP_CONDITIONS
    params: Any  # an instance of its parameters class
    line: int | None = None

    @property
    def label(self) -> str:
        """As written: `error_rate above 5% for 1s`, `max_duration after 60s`, `alert RedisDown`."""
        if self.kind == "alert":
            node = str(getattr(self.params, "node", "any"))
            return f"alert {getattr(self.params, 'name', '')}" + ("" if node == "any" else f" on {node}")
        words = [self.kind]
        for f in dataclasses.fields(self.params):
            kind = f.metadata["kind"]
            words.append(f"{f.metadata['key'] or f.name} {kind.show_default(getattr(self.params, f.name))}")
        return " ".join(words)


@dataclass(frozen=True, slots=True)
class NemesisFault:
    """One entry of the catalogue: a fault as written (its `at` unused), how often it is drawn, and the
    runbooks its incidents are judged by."""

    spec: FaultSpec
    weight: float = 1.0
    runbooks: tuple[Runbook, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.spec.action} {self.spec.target}"


@dataclass(frozen=True, slots=True)
class NemesisSpec:
    every: float
    jitter: float
    heal_after: tuple[float, float]  # drawn uniformly in this range, seconds
    faults: tuple[NemesisFault, ...]


@dataclass(frozen=True, slots=True)
class IncidentSpec:
    """One incident of a scenario with several: what it is called and the runbooks that judge it."""

    name: str
    runbooks: tuple[Runbook, ...] = ()


@dataclass(frozen=True, slots=True)
class Scenario:
    file: Path
    name: str
    description: str
    environment: Environment
    seed: int
    load: LoadSpec
    faults: tuple[FaultSpec, ...]
    runbooks: tuple[Runbook, ...]
    expect: Expectation = field(default_factory=lambda: Expectation(None, None, None))
    alerts: AlertsSpec | None = None
    abort_if: tuple[StopCondition, ...] = ()  # any one trips: the drill stops, its faults rolled back
    # A drawn schedule (harness/scenario/nemesis.py): `faults` is what it drew with `seed`, each drawn fault
    # an incident judged by its catalogue entry's runbooks.
    nemesis: NemesisSpec | None = None
    # Several incidents (`incidents:`, or a nemesis's catalogue): each fault whose starts_incident names one
    # starts it; each is judged by its own runbooks, with its own MTTD and MTTR.
    incidents: tuple[IncidentSpec, ...] = ()

    def incident_faults(self) -> tuple[tuple[int, IncidentSpec], ...]:
        """(the fault's place in `faults`, its incident) for each fault that starts an incident."""
        return tuple(
            (i, self.incidents[f.starts_incident])
            for i, f in enumerate(self.faults)
            if f.starts_incident is not None
        )


@dataclass(frozen=True, slots=True)
class SweepSpec:
    """A throughput sweep: one measurement per added round-trip time, pipeline batch and connection count."""

    link: str  # the link the latency goes on (a client link selector, e.g. "primary")
    rtts: tuple[float, ...]  # seconds; 0 measures the local limit that caps the bound
    batches: tuple[int, ...]
    connections: tuple[int, ...]
    cell_duration: float  # target seconds per measurement


@dataclass(frozen=True, slots=True)
class Sweep:
    file: Path
    name: str
    description: str
    environment: Environment
    seed: int
    sweep: SweepSpec


def secured(drill: Scenario | Sweep) -> Scenario | Sweep:
    """The same drill on the secured variant of its environment (`drill run --secure`): ACL users replace
    an `auth:` password (the default user is off), and TLS covers every link."""
    own = drill.environment.security
    spec = SecuritySpec(acl=True, tls=True, secret=own.secret if own else None)
    env = dataclasses.replace(drill.environment, security=spec, password=None)
    return dataclasses.replace(drill, environment=env)
