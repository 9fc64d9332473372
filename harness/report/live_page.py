"""The drill page `drill run --ui` serves beside Locust's UI while the drill runs: the timeline so far
(faults, Sentinel and cluster events, alerts, runbook steps, an abort), the load and the key-metric panels,
rendered from the observation log as it grows. One static page that reloads itself every second: no
script, no CDN."""

from __future__ import annotations

from html import escape

from harness.core.observation_log import Record
from harness.report.html import STYLE, error_chart, throughput_chart
from harness.report.key_metrics_html import key_metric_panels
from harness.report.timeline import MARKED_EVENTS, build_timeline

RELOAD_S = 1
# What the page reads from the log (a long drill's op records would only cost the server's memory).
KINDS = frozenset(
    {"run", "topology", "load", "stats", "info", "fault", "fault_end", "sentinel", "cluster", "alert",
     "page", "respond", "runbook_step", "abort", "rollback"}
)  # fmt: skip


def render_live(scenario: str, records: list[Record]) -> str:
    timeline = build_timeline(records, None, None)
    now = max((float(r["t"]) for r in records), default=0.0)
    ended = any(r["kind"] == "load" and r.get("phase") == "stop" for r in records)
    state = "the load has stopped: the run is judging" if ended else "running"
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<meta http-equiv='refresh' content='{RELOAD_S}'>",
        f"<title>{escape(scenario)}: live</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(scenario)} <span class='verdict unknown'>live t={now:.1f}s</span></h1>",
        f"<div class='muted'>{state}; this page reloads every {RELOAD_S}s from the run's observation log "
        "(t: seconds since the run started). Locust's own UI is at <a href='/'>/</a>.</div>",
        "<h2>Events</h2>",
        _events(records),
        "<h2>Throughput (acknowledged ops/s)</h2>",
        throughput_chart(timeline) if timeline.points else "<div class='muted'>no load yet</div>",
        "<h2>Errors per 0.5 s by class</h2>",
        error_chart(timeline) if timeline.points else "<div class='muted'>no load yet</div>",
        key_metric_panels(timeline),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _events(records: list[Record]) -> str:
    rows = [(float(r["t"]), text) for r in records if (text := event_text(r))]
    if not rows:
        return "<div class='muted'>nothing yet</div>"
    cells = "".join(f"<tr><td class='num'>{t:.3f}s</td><td>{escape(text)}</td></tr>" for t, text in rows)
    return f"<table><tr><th>t</th><th>event</th></tr>{cells}</table>"


def event_text(record: Record) -> str:
    """One line for a record worth a row of the live timeline ("" for the rest)."""
    kind = record["kind"]
    if kind == "fault":
        node = f" -> {record['node']}" if record.get("node") else ""
        return f"fault: {record['action']} {record.get('target', '')}{node}"
    if kind == "fault_end":
        return f"fault ended: {record['action']} ({record.get('outcome', '')})"
    if kind == "sentinel" and record.get("event") in MARKED_EVENTS:
        return f"{record['event']} {record.get('node') or ''} ({record.get('sentinel', '')})"
    if kind == "alert":
        return f"alert {record['name']} {record['state']} ({record['node']})"
    if kind == "page":
        return f"paged: {record['name']} {record['state']} ({record['node']})"
    if kind == "respond":
        return f"runbook {record['runbook']}: {record['phase']} ({record['trigger']})"
    if kind == "runbook_step":
        outcome = "ok" if record["ok"] else "FAILED"
        return f"runbook {record['runbook']} step {record['step']} on {record['node']}: {outcome}"
    if kind == "abort":
        return f"ABORTED: {record['condition']} ({record['evidence']})"
    if kind == "rollback":
        done = record["done"] or f"could not be undone: {record.get('error')}"
        return f"rollback: {record['action']} {record.get('node') or ''}: {done}"
    if kind == "load":
        return f"load {record['phase']}"
    return ""
