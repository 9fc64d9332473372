"""The terminal report: a summary and the check table."""

from __future__ import annotations

from tabulate import tabulate

from harness.report.model import (
    UNCERTAIN_OPS,
    LoadSummary,
    RunReport,
    shard_loss_text,
    time_origin_text,
    uncertain_writes_text,
)
from harness.report.shard_latency import shard_latency_text
from harness.runbooks.evaluate import Incident
from harness.runbooks.verdict import Verdict


def incident_text(incident: Incident) -> str:
    if incident.skipped:  # its reason names the fault already
        return f"skipped: {incident.label}: {incident.skipped.removeprefix(incident.label + ': ')}"
    if not incident.fired:
        return f"{incident.label}: not fired (the drill stopped first)"

    def took(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}s"

    verdict = "pass" if incident.passed else "FAIL"
    times = f"MTTD {took(incident.mttd)}, MTTR {took(incident.mttr)}, {incident.lost} lost write(s)"
    return f"{verdict}: {incident.label} at t={incident.t:.2f}s, {times}"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}s"


def _value(check: Verdict, value: float | None) -> str:
    if value is None:
        return "-"
    return _seconds(value) if check.unit == "s" else f"{value:g} {check.unit}"


def render_table(report: RunReport) -> str:
    load = report.load
    errors = ", ".join(f"{k}={v}" for k, v in load.errors.items()) or "none"
    summary = [
        (
            "scenario",
            f"{report.scenario} (run {report.run_id}, backend {report.backend}"
            + (f", engine {report.engine}" if report.engine else "")
            + f", seed {report.seed})",
        ),
        ("times", time_origin_text(report.load_window)),
        *(("fault", fault.text) for fault in report.faults),
        ("MTTD", _seconds(report.mttd_s)),
        ("MTTR", _seconds(report.mttr_s)),
        (
            "throughput",
            f"{load.ops_per_s:,.0f} ops/s over {load.duration_s:.1f}s (retry policy: "
            f"{report.retry_policy}, {load.retries} retries)",
        ),
        ("latency", f"p50 {load.p50_us} µs, p99 {load.p99_us} µs, max {load.max_us} µs"),
        ("operations", f"{load.ok} ok, {load.fail} failed, {load.info} {UNCERTAIN_OPS}"),
        ("errors", errors),
        *(
            [("cluster redirects", ", ".join(f"{k}={v}" for k, v in load.redirects.items()))]
            if load.redirects
            else []
        ),
        (
            "lost acknowledged writes",
            f"{report.lost_text} acknowledged "
            f"({uncertain_writes_text(report.uncertain_writes, report.uncertain_interrupted)})",
        ),
        *(
            [("lost by shard", ", ".join(shard_loss_text(s) for s in report.lost_by_shard))]
            if report.lost_by_shard
            else []
        ),
        *(("latency by shard", shard_latency_text(s)) for s in report.latency_by_shard),
        *((f"metric: {k.metric}", k.text) for k in report.key_metrics if k.worst != "no data"),
        *(("config", c.text()) for c in report.config_changes),
        *((f"incident {i.number}", incident_text(i)) for i in report.incidents),
        *((("availability", report.availability.text()),) if report.availability else ()),
        ("wall time", _seconds(report.wall_time_s)),
        *(("note", note) for note in report.notes),
    ]
    workloads = [
        (
            name,
            f"{w.ops_per_s:,.0f}",
            w.p50_us,
            w.p90_us,
            w.p99_us,
            w.p999_us,
            w.max_us,
            ", ".join(f"{k}={v}" for k, v in w.errors.items()) or "-",
            _retries(w),
        )
        for name, w in report.workloads.items()
    ]
    rows = [
        (c.status, c.source, c.name, _value(c, c.measured), _value(c, c.bound), c.evidence)
        for c in report.checks
    ]
    verdict = report.headline
    return "\n".join(
        [
            tabulate(summary, tablefmt="plain"),
            "",
            tabulate(
                workloads,
                headers=[
                    "workload",
                    "ops/s",
                    "p50 µs",
                    "p90 µs",
                    "p99 µs",
                    "p99.9 µs",
                    "max µs",
                    "errors",
                    "retries",
                ],
                tablefmt="simple",
                maxcolwidths=[None, None, None, None, None, None, None, 40, None],
            ),
            "",
            tabulate(
                rows,
                headers=["", "runbook", "check", "measured", "bound", "evidence"],
                tablefmt="simple",
                maxcolwidths=[None, 20, 44, None, None, 60],
            ),
            *_controls(report),
            *_rollback(report),
            "",
            f"{verdict}  report: {report.run_dir}/report.json",
        ]
    )


def _controls(report: RunReport) -> list[str]:
    """The deployment's own commands the run ran (status checks counted, not listed)."""
    acted = [c for c in report.controls if c.action != "status"]
    if not report.controls:
        return []
    status = len(report.controls) - len(acted)
    rows = [
        (
            f"{c.t:.3f}s",
            c.action,
            c.node,
            "timed out" if c.exit is None else c.exit,
            f"{c.seconds:.3f}s",
            c.command,
            last_line(c.stderr or c.stdout),
        )
        for c in acted
    ]
    table = tabulate(
        rows,
        headers=["t", "control", "node", "exit", "took", "command", "last output"],
        tablefmt="simple",
        maxcolwidths=[None, None, None, None, None, 60, 40],
    )
    return ["", table, f"(and {status} status checks)" if status else ""]


def _rollback(report: RunReport) -> list[str]:
    """After an abort: each fault still acting, ended, with how long it took."""
    if report.aborted is None:
        return []
    rows = [
        (
            f"{s['t']:.3f}s",
            s["action"],
            s["node"] or "-",
            s["done"] or f"NOT undone: {s.get('error', '')}",
            f"{s['seconds']:.3f}s",
        )
        for s in report.aborted.rollback
    ]
    table = tabulate(rows, headers=["t", "rolled back", "node", "what was done", "took"], tablefmt="simple")
    lead = (
        f"ABORTED: {report.aborted.condition} at t={report.aborted.tripped:.3f}s: {report.aborted.evidence}"
    )
    return ["", lead, table if rows else "(no fault was still acting)"]


def last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""


def _retries(load: LoadSummary) -> str:
    """The count, and what was retried: a fault the policy absorbed stays visible."""
    if not load.retried_errors:
        return str(load.retries)
    return f"{load.retries} ({', '.join(f'{k}={v}' for k, v in load.retried_errors.items())})"
