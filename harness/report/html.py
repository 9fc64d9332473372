"""report.html: one static file (inline SVG, no scripts) showing the drill at a glance: throughput, latency
and errors over time with fault bands and event markers, then the checks with their evidence."""

from __future__ import annotations

import math
from html import escape
from typing import Any

from harness.report.availability import availability_text
from harness.report.key_metrics_html import key_metric_panels
from harness.report.model import (
    UNCERTAIN_OPS,
    loss_text,
    time_origin_text,
    uncertain_writes_text,
)
from harness.report.shard_latency import shard_latency_from_json, shard_latency_text
from harness.report.svg_chart import LEFT, RIGHT, WIDTH, frame_of, legend, x_of
from harness.report.timeline import Timeline

ERROR_COLOURS = ("#d62728", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")

STYLE = """
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 22px 0 6px; }
h3 { font-size: 13px; margin: 14px 0 2px; font-weight: 600; }
.verdict { display: inline-block; padding: 3px 10px; border-radius: 4px; color: #fff; font-weight: 600; }
.passed { background: #2ca02c; } .failed { background: #d62728; } .unknown { background: #7f7f7f; }
.aborted { background: #8c2d04; }
.reported { background: #d97706; }
table { border-collapse: collapse; font-size: 13px; }
td, th { border-bottom: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.fail td { background: #fdecea; } .status-pass { color: #2ca02c; font-weight: 600; }
.status-fail { color: #d62728; font-weight: 600; }
svg text { font-size: 11px; fill: #333; } .muted { color: #666; font-size: 13px; }
.legend { font-size: 12px; margin: 0 0 0 70px; }
"""


def render_html(report: dict[str, Any], timeline: Timeline) -> str:
    passed = bool(report["passed"])
    failed = [c for c in report["checks"] if c["status"] == "FAIL"]
    unknown = [c for c in report["checks"] if c["status"] == "UNKNOWN"]
    outcome = report.get("outcome", "passed" if passed else "failed")
    verdict = {
        "passed": "PASSED",
        "failed": f"FAILED: {len(failed)} check(s)",
        "unknown": f"UNKNOWN: {len(unknown)} check(s) could not judge",
        "aborted": str(report.get("headline", "ABORTED")),
    }[outcome]
    badge = outcome
    if outcome == "passed" and report.get("reported_loss"):  # passed by design, but loss is never plain green
        verdict, badge = str(report["headline"]), "reported"
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{escape(report['scenario'])}: {verdict}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(report['scenario'])} <span class='verdict {badge}'>{escape(verdict)}</span></h1>",
        f"<div class='muted'>run {escape(report['run_id'])} · backend {escape(report['backend'])}"
        + (f" · engine {escape(report['engine'])}" if report.get("engine") else "")
        + " · seed "
        f"{report['seed']} · retry policy {escape(report['retry_policy'])} · wall time "
        f"{report['wall_time_s']:.1f}s</div>",
        f"<div class='muted'>{escape(time_origin_text(report.get('load_window')))}</div>",
        _summary(report),
        *(
            (
                "<h2>Incidents</h2>",
                _incident_lane(report["incidents"], timeline),
                _incidents(report["incidents"]),
            )
            if report.get("incidents")
            else ()
        ),
        "<h2>Throughput (acknowledged ops/s)</h2>",
        throughput_chart(timeline),
        "<h2>Latency (µs, log scale)</h2>",
        _chart(
            timeline,
            [
                ("p50", "#1f77b4", [float(p.p50_us) for p in timeline.points]),
                ("p99", "#ff7f0e", [float(p.p99_us) for p in timeline.points]),
            ],
            log_scale=True,
        ),
        "<h2>Errors per 0.5 s by class</h2>",
        error_chart(timeline),
        *(
            ("<h2>Lost acknowledged writes (a tick at each one's acknowledgement)</h2>", _lost_lane(timeline))
            if timeline.lost
            else ()
        ),
        "<h2>Checks</h2>",
        _checks(report["checks"]),
        *(("<h2>Faults</h2>", _faults(report["faults"])) if report.get("faults") else ()),
        *(("<h2>Aborted</h2>", _aborted(report["aborted"])) if report.get("aborted") else ()),
        *(("<h2>Control commands</h2>", _controls(report["controls"])) if report.get("controls") else ()),
        *(
            ("<h2>CONFIG changes</h2>", _configs(report["config_changes"]))
            if report.get("config_changes")
            else ()
        ),
        key_metric_panels(timeline),
        "<h2>Workloads</h2>",
        _workloads(report.get("workloads", {})),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def throughput_chart(timeline: Timeline) -> str:
    return _chart(timeline, [("ops/s", "#1f77b4", [p.ops_per_s for p in timeline.points])], log_scale=False)


def _summary(report: dict[str, Any]) -> str:
    def seconds(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}s"

    load = report["load"]
    rows = [
        ("MTTD", seconds(report["mttd_s"])),
        ("MTTR", seconds(report["mttr_s"])),
        ("throughput", f"{load['ops_per_s']:,.0f} ops/s"),
        ("latency", f"p50 {load['p50_us']} µs · p99 {load['p99_us']} µs · max {load['max_us']} µs"),
        ("operations", f"{load['ok']} ok · {load['fail']} failed · {load['info']} {UNCERTAIN_OPS}"),
        (
            "lost acknowledged writes",
            loss_text(
                report["lost_writes"], report["acknowledged_writes"], report.get("lost_writes_unknown", "")
            )
            + f" ({_uncertain(report)})",
        ),
        *(
            (
                f"lost on {s['shard']}'s shard (slots {s['slots'][0]}-{s['slots'][1]})",
                loss_text(s["lost"], s["acknowledged"], s.get("unknown", "")),
            )
            for s in report.get("lost_by_shard", [])
        ),
        *(
            (f"latency on {s['shard']}'s shard", shard_latency_text(shard_latency_from_json(s)))
            for s in report.get("latency_by_shard", [])
        ),
        *(
            (("availability", availability_text(report["availability"])),)
            if report.get("availability")
            else ()
        ),
    ]
    cells = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return f"<h2>Summary</h2><table>{cells}</table>"


def _uncertain(report: dict[str, Any]) -> str:
    return uncertain_writes_text(report["uncertain_writes"], report.get("uncertain_interrupted", 0))


def _faults(faults: list[dict[str, Any]]) -> str:
    """Each fault with the node it resolved to, when it was invoked, completed and ended (t)."""

    def t(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}s"

    head = "<tr><th>t</th><th>fault</th><th>node</th><th>role</th><th>completed</th><th>ended</th></tr>"
    rows = "".join(
        f"<tr><td class='num'>{t(f['t'])}</td><td>{escape(f['action'])} {escape(f['target'])}</td>"
        f"<td>{escape(f['node'] or '-')}</td><td>{escape(f['role'] or '-')}</td>"
        f"<td class='num'>{t(f['completed'])}</td><td class='num'>{t(f['ended'])}</td></tr>"
        for f in faults
    )
    return f"<table>{head}{rows}</table>"


def _aborted(aborted: dict[str, Any]) -> str:
    """The stop condition, its evidence, and the rollback step by step."""
    head = "<tr><th>t</th><th>rolled back</th><th>node</th><th>what was done</th><th>took</th></tr>"
    rows = "".join(
        f"<tr><td class='num'>{s['t']:.3f}s</td><td>{escape(s['action'])}</td>"
        f"<td>{escape(s['node'] or '-')}</td>"
        f"<td>{escape(s['done'] or 'NOT undone: ' + s.get('error', ''))}</td>"
        f"<td class='num'>{s['seconds']:.3f}s</td></tr>"
        for s in aborted["rollback"]
    )
    lead = (
        f"<p><b>{escape(aborted['condition'])}</b> held at t={aborted['tripped']:.3f}s: "
        f"{escape(aborted['evidence'])}. The drill stopped at t={aborted['seen']:.3f}s and rolled back in "
        f"{aborted['rollback_seconds']:.3f}s.</p>"
    )
    return lead + (f"<table>{head}{rows}</table>" if rows else "<p>No fault was still acting.</p>")


def _controls(controls: list[dict[str, Any]]) -> str:
    """The deployment's own commands, each with its exit code and output."""
    names = ("t", "control", "node", "exit", "took", "command", "output")
    head = "<tr>" + "".join(f"<th>{name}</th>" for name in names) + "</tr>"
    rows = "".join(
        f"<tr><td class='num'>{c['t']:.3f}s</td><td>{escape(c['action'])}</td><td>{escape(c['node'])}</td>"
        f"<td class='num'>{'timed out' if c['exit'] is None else c['exit']}</td>"
        f"<td class='num'>{c['seconds']:.3f}s</td><td><code>{escape(c['command'])}</code></td>"
        f"<td><pre>{escape((c['stdout'] + c['stderr']).strip())}</pre></td></tr>"
        for c in controls
    )
    return f"<table>{head}{rows}</table>"


def _chart(timeline: Timeline, series: list[tuple[str, str, list[float]]], log_scale: bool) -> str:
    values = [v for _, _, vs in series for v in vs if v > 0]
    top = max(values, default=1.0)
    low = min(values, default=1.0) if log_scale else 0.0
    label = f"{top:,.0f}"
    out, frame = frame_of(timeline, label)
    bottom = frame.bottom

    def y(value: float) -> float:
        if log_scale:
            if value <= 0 or top <= low:
                return bottom
            share = (math.log(value) - math.log(low)) / (math.log(top) - math.log(low))
        else:
            share = value / top if top else 0.0
        return bottom - share * (bottom - frame.top)

    for name, colour, points in series:
        coords = " ".join(
            f"{x_of(p.t, timeline):.1f},{y(v):.1f}" for p, v in zip(timeline.points, points, strict=True)
        )
        out.append(f"<polyline fill='none' stroke='{colour}' stroke-width='1.5' points='{coords}'>")
        out.append(f"<title>{escape(name)}</title></polyline>")
    out.append("</svg>")
    return "".join(out) + legend([(name, colour) for name, colour, _ in series])


def _lost_lane(timeline: Timeline) -> str:
    """Each lost acknowledged write as a tick when it was acknowledged, against the faults and events."""
    out, frame = frame_of(timeline, f"{len(timeline.lost):,}")
    bottom = frame.bottom
    for t in timeline.lost:
        x = x_of(t, timeline)
        out.append(f"<line x1='{x:.1f}' y1='{bottom - 40}' x2='{x:.1f}' y2='{bottom}' stroke='#d62728'/>")
    first, last = min(timeline.lost), max(timeline.lost)
    out.append("</svg>")
    origin = timeline.origin
    caption = (
        f"{len(timeline.lost):,} lost, acknowledged from t={first + origin:.3f}s to t={last + origin:.3f}s"
    )
    return "".join(out) + legend([(caption, "#d62728")])


def error_chart(timeline: Timeline) -> str:
    classes = sorted({name for p in timeline.points for name in p.errors})
    totals = [sum(p.errors.values()) for p in timeline.points]
    top = max(totals, default=0) or 1
    out, frame = frame_of(timeline, f"{top:,}")
    bottom = frame.bottom
    width = max((WIDTH - LEFT - RIGHT) / max(len(timeline.points), 1) - 1, 1)
    for point in timeline.points:
        base = float(bottom)
        for index, name in enumerate(classes):
            count = point.errors.get(name, 0)
            if not count:
                continue
            height = count / top * (bottom - frame.top)
            base -= height
            x = x_of(point.t - 0.5, timeline)
            colour = ERROR_COLOURS[index % len(ERROR_COLOURS)]
            out.append(
                f"<rect x='{x:.1f}' y='{base:.1f}' width='{width:.1f}' height='{height:.1f}' "
                f"fill='{colour}'><title>{escape(name)}: {count}</title></rect>"
            )
    if not classes:
        out.append(f"<text x='{LEFT + 10}' y='{bottom - 8}'>no errors</text>")
    out.append("</svg>")
    entries = [(name, ERROR_COLOURS[i % len(ERROR_COLOURS)]) for i, name in enumerate(classes)]
    return "".join(out) + (legend(entries) if entries else "")


INCIDENT_ROWS = 8  # rows of the incident lane; the ninth incident shares the first's, far later in time
INCIDENT_ROW_PX = 16


def _incident_lane(incidents: list[dict[str, Any]], timeline: Timeline) -> str:
    """Each incident in its own band, from its fault to its recovery (MTTR) or the load's end, on the
    drill's time axis with the faults and events of the other charts."""
    out, frame = frame_of(timeline, "")
    for i, incident in enumerate(j for j in incidents if j["fired"]):
        start = incident["t"] - timeline.origin
        end = start + incident["mttr"] if incident["mttr"] is not None else timeline.duration
        x0, x1 = x_of(start, timeline), x_of(end, timeline)
        top = frame.top + 4 + (i % INCIDENT_ROWS) * INCIDENT_ROW_PX
        colour = "#2ca02c" if incident["passed"] else "#d62728"
        title = escape(f"incident {incident['number']}: {incident['label']}")
        out.append(
            f"<rect x='{x0:.1f}' y='{top:.1f}' width='{max(x1 - x0, 2):.1f}' height='{INCIDENT_ROW_PX - 3}' "
            f"fill='{colour}' fill-opacity='0.35'><title>{title}</title></rect>"
            f"<text x='{x0 + 3:.1f}' y='{top + 10:.1f}'>incident {incident['number']}</text>"
        )
    out.append("</svg>")
    return "".join(out) + legend([("recovered", "#2ca02c"), ("failed or not recovered", "#d62728")])


def _incidents(incidents: list[dict[str, Any]]) -> str:
    """A nemesis's drawn faults, one row each: when it fired, its MTTD and MTTR, its verdict."""

    def took(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}s"

    head = (
        "<tr><th></th><th>incident</th><th>fault</th><th>t</th><th>MTTD</th><th>MTTR</th>"
        "<th>lost writes acknowledged in it</th></tr>"
    )
    rows = []
    for i in incidents:
        status = "pass" if i["passed"] else ("FAIL" if i["fired"] else "not fired")
        css = "pass" if i["passed"] else "fail"
        label = i["label"] + (f" (skipped: {i['skipped']})" if i.get("skipped") else "")
        if i.get("skipped"):
            status, css = "skipped", "skipped"
        rows.append(
            f"<tr class='{css}'><td class='status-{css}'>{status}</td><td>{i['number']}</td>"
            f"<td>{escape(label)}</td><td class='num'>{took(i['t'])}</td>"
            f"<td class='num'>{took(i['mttd'])}</td><td class='num'>{took(i['mttr'])}</td>"
            f"<td class='num'>{i.get('lost', 0)}</td></tr>"
        )
    return f"<table>{head}{''.join(rows)}</table>"


def _configs(changes: list[dict[str, Any]]) -> str:
    """Each parameter the drill set: the value it found, what was set and by whom, what it left."""
    head = "<tr><th>node</th><th>parameter</th><th>before</th><th>during</th><th>after</th></tr>"
    rows = []
    for c in changes:
        during = "<br>".join(escape(step) for step in c["during"])
        flagged = "" if c["restored"] else " class='fail'"
        rows.append(
            f"<tr{flagged}><td>{escape(c['node'])}</td><td>{escape(c['parameter'])}</td>"
            f"<td>{escape(c['before'])}</td><td>{during}</td><td>{escape(c['after'])}</td></tr>"
        )
    return f"<table>{head}{''.join(rows)}</table>"


def _checks(checks: list[dict[str, Any]]) -> str:
    def value(number: float | None, unit: str) -> str:
        if number is None:
            return "-"
        return f"{number:.3f}s" if unit == "s" else f"{number:g} {unit}"

    rows = []
    for c in checks:
        ok = c["status"] == "pass"
        rows.append(
            f"<tr class='{'pass' if ok else 'fail'}'><td class='status-{'pass' if ok else 'fail'}'>"
            f"{escape(c['status'])}</td><td>{escape(c['source'])}</td><td>{escape(c['name'])}</td>"
            f"<td class='num'>{value(c['measured'], c['unit'])}</td>"
            f"<td class='num'>{value(c['bound'], c['unit'])}</td><td>{escape(c['evidence'])}</td></tr>"
        )
    head = "<tr><th></th><th>runbook</th><th>check</th><th>measured</th><th>bound</th><th>evidence</th></tr>"
    return f"<table id='checks'>{head}{''.join(rows)}</table>"


def _workloads(workloads: dict[str, dict[str, Any]]) -> str:
    head = (
        "<tr><th>workload</th><th>ops/s</th><th>p50 µs</th><th>p90 µs</th><th>p99 µs</th><th>p99.9 µs</th>"
        "<th>max µs</th><th>errors</th><th>retries</th></tr>"
    )
    rows = []
    for name, w in workloads.items():
        errors = ", ".join(f"{k}={v}" for k, v in w["errors"].items()) or "-"
        retried = ", ".join(f"{k}={v}" for k, v in w.get("retried_errors", {}).items())
        retries = f"{w['retries']} ({retried})" if retried else str(w["retries"])
        numbers = "".join(
            f"<td class='num'>{w[k]:,}</td>" for k in ("p50_us", "p90_us", "p99_us", "p999_us", "max_us")
        )
        rows.append(
            f"<tr><td>{escape(name)}</td><td class='num'>{w['ops_per_s']:,.0f}</td>{numbers}"
            f"<td>{escape(errors)}</td><td class='num'>{escape(retries)}</td></tr>"
        )
    return f"<table>{head}{''.join(rows)}</table>"
