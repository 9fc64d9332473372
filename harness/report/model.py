"""RunReport: what a drill measured and decided. Versioned: bump SCHEMA_VERSION on incompatible changes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from harness.core.histograms import histogram_percentile, merge_intervals, merge_redirects, merge_retried
from harness.core.log_records import AlertingRecord, TopologyRecord
from harness.report.availability import Availability, availability
from harness.report.config_changes import ConfigChange, config_changes
from harness.report.key_metrics import KeyMetricSummary, key_metrics, summarize
from harness.report.shard_latency import ShardLatency, latency_by_shard
from harness.runbooks.evaluate import Evaluation, Incident
from harness.runbooks.history import History
from harness.runbooks.lost_writes import ShardLoss, lost_by_shard
from harness.runbooks.verdict import Verdict
from harness.scenario.durations import format_seconds

SCHEMA_VERSION = 1
# Every time a person reads (terminal, report.json, HTML, JUnit, matrix) is on the log's one clock.
TIME_ORIGIN = "t: seconds since the run started (the observation log's clock)"
# Operations are counted in two places, for two purposes; their labels say which.
UNCERTAIN_OPS = "uncertain (sent, outcome unknown; every workload)"
UNCERTAIN_WRITES = "tracked writes uncertain (sent, outcome unknown: neither acknowledged nor lost)"
CUT_OFF = "cut off when the load stopped, which the operations line leaves out"


@dataclass(frozen=True, slots=True)
class FaultSummary:
    """A fault as a reader wants it: what was written, the node it resolved to, and when (t)."""

    index: int
    action: str
    target: str  # as written in the scenario
    node: str | None  # what it resolved to (None: a heal of everything, a partition of Sentinels only)
    role: str | None  # the node's role as it said itself just before the fault
    t: float  # invoked
    completed: float | None  # the action returned
    ended: float | None  # a fault that ends by itself (fault_end)
    details: dict[str, Any]  # groups, link, effect, mechanism, ... as the fault record has them

    @property
    def text(self) -> str:
        where = f" -> {self.node}" + (f" ({self.role})" if self.role else "") if self.node else ""
        groups = self.details.get("groups")
        if groups:
            where += f" [{'+'.join(groups['between'])} | {'+'.join(groups['and'])}]"
        return f"t={self.t:.3f}s {self.action} {self.target}{where}"


@dataclass(frozen=True, slots=True)
class LoadSummary:
    duration_s: float
    ok: int
    fail: int
    info: int
    retries: int
    ops_per_s: float
    p50_us: int
    p90_us: int
    p99_us: int
    p999_us: int
    max_us: int
    errors: dict[str, int]
    retried_errors: dict[str, int]  # error classes of the attempts the retry policy repeated
    redirects: dict[str, int] = field(default_factory=dict)  # a cluster's MOVED and ASK replies followed


@dataclass(frozen=True, slots=True)
class ControlSummary:
    """One of an external deployment's own control commands, as it ran."""

    t: float
    action: str
    node: str
    command: str  # the argv, words joined by spaces
    exit: int | None  # None: killed at the timeout
    seconds: float
    stdout: str
    stderr: str


def control_summaries(history: History) -> tuple[ControlSummary, ...]:
    return tuple(
        ControlSummary(
            round(float(r["t"]), 6),
            r["action"],
            r["node"],
            " ".join(r["argv"]),
            r["exit"],
            r["seconds"],
            r["stdout"],
            r["stderr"],
        )
        for r in history.controls
    )


@dataclass(frozen=True, slots=True)
class Abort:
    """A stop condition tripped: what, when, on what evidence, and the rollback step by step."""

    condition: str
    tripped: float  # t the condition held
    seen: float  # t the guard saw it and stopped the drill
    evidence: str
    rollback: tuple[dict[str, Any], ...]  # {t, action, node, done, seconds, error?}, newest fault first
    rollback_seconds: float

    @property
    def text(self) -> str:
        return f"{self.condition} at t={self.tripped:.2f}s; rolled back in {self.rollback_seconds:.2f}s"


def abort_of(history: History) -> Abort | None:
    if not history.aborts:
        return None
    record = history.aborts[0]
    steps = tuple({k: v for k, v in r.items() if k != "kind"} for r in history.rollbacks)
    return Abort(
        record["condition"],
        float(record["tripped"]),
        float(record["t"]),
        record["evidence"],
        steps,
        round(sum(float(r["seconds"]) for r in history.rollbacks), 6),
    )


@dataclass(frozen=True, slots=True)
class RunReport:
    scenario: str
    run_id: str
    run_dir: str
    backend: str
    retry_policy: str
    seed: int
    wall_time_s: float
    mttd_s: float | None
    mttr_s: float | None
    load: LoadSummary
    workloads: dict[str, LoadSummary]
    acknowledged_writes: int
    uncertain_writes: int
    lost_writes: int | None  # None: the read-back failed, and lost_writes_unknown says why (never 0)
    checks: tuple[Verdict, ...]
    notes: tuple[str, ...] = ()  # how the run differed from production, e.g. time-scaled alert rules
    engine: str = ""  # name and version, as the log's run record says (empty: an external topology's)
    lost_by_shard: tuple[ShardLoss, ...] = ()  # a cluster's acknowledged and lost writes per shard
    latency_by_shard: tuple[ShardLatency, ...] = ()  # a cluster's latency per shard, around the incident
    lost_writes_unknown: str = ""  # why lost_writes is unknown
    uncertain_interrupted: int = 0  # of uncertain_writes: in flight when the load stopped
    load_window: tuple[float, float] | None = None  # t of the load's start and stop
    faults: tuple[FaultSummary, ...] = ()
    nodes: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> {kind, address, client_address}
    controls: tuple[ControlSummary, ...] = ()  # an external deployment's control commands, in order
    aborted: Abort | None = None  # a stop condition tripped (abort_if): exit 4
    key_metrics: tuple[KeyMetricSummary, ...] = ()  # the dashboard's six metrics: the worst band each reached
    config_changes: tuple[ConfigChange, ...] = ()  # each CONFIG parameter set: before, during, after
    incidents: tuple[Incident, ...] = ()  # a nemesis's drawn faults, each with its MTTD and MTTR
    availability: Availability | None = None  # from the clients' acknowledged writes (None: no tracked write)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failed_checks(self) -> tuple[Verdict, ...]:
        return tuple(c for c in self.checks if c.failed)

    @property
    def unknown_checks(self) -> tuple[Verdict, ...]:
        return tuple(c for c in self.checks if c.unknown)

    @property
    def outcome(self) -> str:
        """aborted (a stop condition tripped); passed; failed (some check failed); unknown (nothing failed,
        but some check could not judge)."""
        if self.aborted is not None:
            return "aborted"
        if self.failed_checks:
            return "failed"
        return "unknown" if self.unknown_checks else "passed"

    @property
    def reported_loss(self) -> bool:
        """Passed, with acknowledged writes lost and only reported: the headline must not look plain green."""
        return self.outcome == "passed" and bool(self.lost_writes)

    @property
    def headline(self) -> str:
        if self.aborted is not None:
            return f"ABORTED: {self.aborted.text}"
        if self.outcome == "failed":
            return f"FAILED ({len(self.failed_checks)} check(s))"
        if self.outcome == "unknown":
            return f"UNKNOWN ({len(self.unknown_checks)} check(s) could not judge)"
        if self.reported_loss:
            return (
                f"PASSED · {self.lost_writes:,} of {self.acknowledged_writes:,} acknowledged writes lost "
                "(reported)"
            )
        return "PASSED"

    @property
    def lost_text(self) -> str:
        return loss_text(self.lost_writes, self.acknowledged_writes, self.lost_writes_unknown)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["checks"] = [{**asdict(c), "status": c.status} for c in self.checks]
        return {
            "schema_version": SCHEMA_VERSION,
            "time_origin": TIME_ORIGIN,
            "passed": self.passed,
            "outcome": self.outcome,
            "headline": self.headline,
            "reported_loss": self.reported_loss,
            **data,
        }


def loss_text(lost: int | None, acknowledged: int, why: str) -> str:
    """A loss figure as every renderer says it: a count, or unknown with its reason (never 0)."""
    if lost is None:
        return f"unknown of {acknowledged} ({why or 'not read back'})"
    return f"{lost} of {acknowledged}"


def uncertain_writes_text(uncertain: int, interrupted: int) -> str:
    """The tracked writes' uncertain count, labelled so it is not read as the operations' own."""
    cut = f"; {interrupted} of them {CUT_OFF}" if interrupted else ""
    return f"{uncertain} {UNCERTAIN_WRITES}{cut}"


def time_origin_text(load_window: tuple[float, float] | list[float] | None) -> str:
    """The one time origin, named where a report begins, with the load's window on it."""
    if not load_window:
        return TIME_ORIGIN
    return f"{TIME_ORIGIN}; the load ran from t={load_window[0]:.3f}s to t={load_window[1]:.3f}s"


def fault_summaries(history: History) -> tuple[FaultSummary, ...]:
    ends = {int(e.get("index", -1)): e for e in history.fault_ends}
    common = {"t", "kind", "completed", "index", "action", "target", "node", "role"}
    out = []
    for position, record in enumerate(history.faults):
        index = int(record.get("index", position))  # hand-made logs may leave it out
        end = ends.get(index)
        out.append(
            FaultSummary(
                index=index,
                action=str(record["action"]),
                target=str(record.get("target", "")),
                node=record.get("node"),
                role=record.get("role"),
                t=round(float(record["t"]), 6),
                completed=record.get("completed"),
                ended=round(float(end["t"]), 6) if end else None,
                details={k: v for k, v in record.items() if k not in common},
            )
        )
    return tuple(out)


def shard_loss_text(shard: ShardLoss) -> str:
    return f"{shard.shard}'s {loss_text(shard.lost, shard.acknowledged, shard.unknown)}"


def summarize_load(history: History, workload: str | None = None) -> LoadSummary:
    """Totals over the whole load, or over one workload's intervals."""
    stats = [s for s in history.stats if workload is None or s.get("workload") == workload]
    window = history.load_window()
    duration = (window[1] - window[0]) if window else 0.0
    histogram, errors = merge_intervals(stats)
    ok = sum(s["ok"] for s in stats)
    return LoadSummary(
        duration_s=round(duration, 3),
        ok=ok,
        fail=sum(s["fail"] for s in stats),
        info=sum(s["info"] for s in stats),
        retries=sum(s.get("retries", 0) for s in stats),
        ops_per_s=round(ok / duration, 1) if duration else 0.0,
        p50_us=histogram_percentile(histogram, 0.50),
        p90_us=histogram_percentile(histogram, 0.90),
        p99_us=histogram_percentile(histogram, 0.99),
        p999_us=histogram_percentile(histogram, 0.999),
        max_us=max((s.get("max_us", 0) for s in stats), default=0),
        errors=dict(sorted(errors.items())),
        retried_errors=dict(sorted(merge_retried(stats).items())),
        redirects=dict(sorted(merge_redirects(stats).items())),
    )


def _workloads(history: History) -> list[str]:
    return sorted({str(s["workload"]) for s in history.stats if s.get("workload")})


def build_report(
    *,
    scenario: str,
    run_id: str,
    run_dir: str,
    backend: str,
    retry_policy: str,
    seed: int,
    wall_time_s: float,
    history: History,
    evaluation: Evaluation,
) -> RunReport:
    lost = evaluation.lost
    return RunReport(
        scenario=scenario,
        run_id=run_id,
        run_dir=run_dir,
        backend=backend,
        engine=history.run.get("engine", "") if history.run else "",
        retry_policy=retry_policy,
        seed=seed,
        wall_time_s=round(wall_time_s, 3),
        mttd_s=evaluation.mttd,
        mttr_s=evaluation.mttr,
        load=summarize_load(history),
        workloads={w: summarize_load(history, w) for w in _workloads(history)},
        acknowledged_writes=lost.acknowledged,
        uncertain_writes=lost.uncertain,
        uncertain_interrupted=lost.interrupted,
        lost_writes=None if lost.error else len(lost.lost),
        lost_writes_unknown=f"read-back failed: {lost.error}" if lost.error else "",
        lost_by_shard=lost_by_shard(history, lost),
        latency_by_shard=latency_by_shard(history, evaluation.mttr),
        checks=evaluation.verdicts,
        load_window=history.load_window(),
        faults=fault_summaries(history),
        controls=control_summaries(history),
        aborted=abort_of(history),
        key_metrics=summarize(key_metrics(history)),
        config_changes=config_changes(history),
        incidents=evaluation.incidents,
        availability=availability(history),
        nodes=dict(history.topologies[0].get("nodes", {})) if history.topologies else {},
        notes=(
            *(_security_note(r) for r in history.topologies[:1] if _security_note(r)),
            *(_alerting_note(r) for r in history.alerting),
            *(history.run.get("engine_notes", []) if history.run else []),
        ),
    )


def _security_note(record: TopologyRecord) -> str:
    security = record["security"]
    parts = []
    if security.get("acl"):
        parts.append("ACL users per role, default user off")
    if security.get("tls"):
        # A cluster has no Sentinels; its nodes' own links are the bus (tls-cluster).
        peers = "cluster bus" if record.get("shards") else "Sentinel"
        parts.append(f"TLS on client, replication and {peers} links")
    return f"secured topology: {'; '.join(parts)}" if parts else ""


def _alerting_note(record: AlertingRecord) -> str:
    durations = ", ".join(f"{name} {format_seconds(s)}" for name, s in record["for_s"].items())
    return (
        f"alert rules ({record['rules']}) time-scaled: every for: divided by {record['time_scale']:g} "
        f"({durations}); scrape and evaluation every {format_seconds(record['scrape_interval'])}"
    )
