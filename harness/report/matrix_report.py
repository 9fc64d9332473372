"""The engine matrix's comparison: one column per engine, one row per measure and per check, as a terminal
table, matrix.json and matrix.html (each engine's throughput and errors on one shared time axis). With
repeated runs a measure shows min / median / max. Pure: reports and logs in, text out."""

from __future__ import annotations

import dataclasses
import json
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from tabulate import tabulate

from harness.core.observation_log import Record
from harness.report.html import STYLE, error_chart, throughput_chart
from harness.report.model import TIME_ORIGIN, RunReport
from harness.report.timeline import build_timeline

MATRIX_VERSION = 1


@dataclass(frozen=True, slots=True)
class MatrixRun:
    engine: str
    version: str
    attempt: int
    report: RunReport
    records: tuple[Record, ...]


@dataclass(frozen=True, slots=True)
class Measure:
    name: str
    unit: str
    get: Callable[[RunReport], float | None]
    places: int  # one precision per row: seconds to the millisecond, counts whole
    why_unknown: Callable[[RunReport], str] = lambda r: ""


MEASURES = (
    Measure("MTTD", "s", lambda r: r.mttd_s, 3),
    Measure("MTTR", "s", lambda r: r.mttr_s, 3),
    Measure(
        "acknowledged writes lost",
        "",
        lambda r: None if r.lost_writes is None else float(r.lost_writes),
        0,
        lambda r: r.lost_writes_unknown,
    ),
    Measure("throughput", "ops/s", lambda r: r.load.ops_per_s, 0),
    Measure("p99 latency", "µs", lambda r: float(r.load.p99_us), 0),
)


def engines_of(runs: Sequence[MatrixRun]) -> list[str]:
    return list(dict.fromkeys(run.engine for run in runs))


def summary(runs: Sequence[MatrixRun]) -> dict[str, Any]:
    """matrix.json's content: per engine, each measure's values and min/median/max, each check's statuses."""
    out: dict[str, Any] = {}
    for engine in engines_of(runs):
        mine = [r for r in runs if r.engine == engine]
        measures = {}
        for measure in MEASURES:
            values = [measure.get(r.report) for r in mine]
            known = [v for v in values if v is not None]
            reasons = [measure.why_unknown(r.report) for r in mine if measure.get(r.report) is None]
            measures[measure.name] = {
                "unit": measure.unit,
                "values": values,
                **({"unknown": [w for w in reasons if w]} if any(reasons) else {}),
                **(
                    {"min": min(known), "median": statistics.median(known), "max": max(known)}
                    if known
                    else {}
                ),
            }
        checks: dict[str, list[str]] = {}
        for run in mine:
            for check in run.report.checks:
                checks.setdefault(check.name, []).append(check.status)
        out[engine] = {
            "version": mine[0].version,
            "runs": [
                {"run_dir": r.report.run_dir, "outcome": r.report.outcome, "notes": list(r.report.notes)}
                for r in mine
            ],
            "measures": measures,
            "checks": checks,
        }
    return out


def render_matrix_table(
    scenario: str, runs: Sequence[MatrixRun], skipped: Sequence[tuple[str, str]] = ()
) -> str:
    data = summary(runs)
    engines = list(data)
    headers = ["", *(f"{e} ({data[e]['version']})" for e in engines)]
    rows: list[list[str]] = [["outcome", *(_outcomes(data[e]["runs"]) for e in engines)]]
    for measure in MEASURES:
        rows.append(
            [
                measure.name + (f" ({measure.unit})" if measure.unit else ""),
                *(_spread(data[e]["measures"][measure.name], measure.places) for e in engines),
            ]
        )
    names = list(dict.fromkeys(name for e in engines for name in data[e]["checks"]))
    for name in names:
        rows.append([name, *(_statuses(data[e]["checks"].get(name, [])) for e in engines)])
    notes = sorted({note for e in engines for run in data[e]["runs"] for note in run["notes"]})
    table = tabulate(rows, headers=headers, disable_numparse=True)  # our precision, not tabulate's
    text = f"matrix: {scenario} on {', '.join(engines)}\n\n" + table
    text += "".join(f"\nnote: {note}" for note in notes)
    return text + "".join(f"\nnot run on {engine}: {why}" for engine, why in skipped)


def write_matrix(
    out_dir: Path,
    scenario: str,
    runs: Sequence[MatrixRun],
    wall_time_s: float,
    skipped: Sequence[tuple[str, str]] = (),
) -> str:
    """matrix.json, matrix.txt and matrix.html into out_dir; returns the table (matrix.txt's text)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    document = {
        "matrix_version": MATRIX_VERSION,
        "scenario": scenario,
        "wall_time_s": round(wall_time_s, 3),
        "engines": summary(runs),
        "not_run": [{"engine": engine, "why": why} for engine, why in skipped],
    }
    table = render_matrix_table(scenario, runs, skipped)
    (out_dir / "matrix.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    (out_dir / "matrix.txt").write_text(table + "\n", encoding="utf-8")
    (out_dir / "matrix.html").write_text(render_matrix_html(scenario, runs, table), encoding="utf-8")
    return table


def render_matrix_html(scenario: str, runs: Sequence[MatrixRun], table: str = "") -> str:
    """The comparison, then every run's throughput and errors, stacked, on the time axis of the longest."""
    timelines = [
        build_timeline(list(r.records), r.report.mttd_s, r.report.mttr_s, r.report.to_dict()["checks"])
        for r in runs
    ]
    longest = max((t.duration for t in timelines), default=1.0)
    table = table or render_matrix_table(scenario, runs)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>matrix: {escape(scenario)}</title><style>{STYLE}</style></head><body>",
        f"<h1>matrix: {escape(scenario)}</h1>",
        f"<div class='muted'>{escape(TIME_ORIGIN)}: each run's charts on its own clock</div>",
        f"<pre>{escape(table)}</pre>",
    ]
    for run, timeline in zip(runs, timelines, strict=True):
        shared = dataclasses.replace(timeline, duration=longest)
        report = run.report
        mttd = "-" if report.mttd_s is None else f"{report.mttd_s:.3f}s"
        mttr = "-" if report.mttr_s is None else f"{report.mttr_s:.3f}s"
        parts += [
            f"<h2>{escape(run.engine)} {escape(run.version)}, run {run.attempt}: {escape(report.outcome)}"
            f" · MTTD {mttd} · MTTR {mttr} · {escape(report.lost_text)} lost</h2>",
            throughput_chart(shared),
            error_chart(shared),
        ]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _outcomes(runs: list[dict[str, Any]]) -> str:
    outcomes = [r["outcome"] for r in runs]
    return (
        ", ".join(f"{outcomes.count(o)} {o}" for o in dict.fromkeys(outcomes))
        if len(runs) > 1
        else outcomes[0]
    )


def _spread(measure: dict[str, Any], places: int) -> str:
    unknown = f"unknown ({'; '.join(measure['unknown'])})" if measure.get("unknown") else ""
    if "median" not in measure:
        return unknown or "-"
    if len(measure["values"]) == 1:
        return _number(measure["median"], places)
    spread = " / ".join(_number(measure[k], places) for k in ("min", "median", "max"))
    return f"{spread}, {len(measure['unknown'])} {unknown}" if unknown else spread


def _number(value: float, places: int) -> str:
    return f"{value:,.{places}f}"


def _statuses(statuses: list[str]) -> str:
    if not statuses:
        return "-"
    if len(set(statuses)) == 1:
        return statuses[0].lower() if len(statuses) == 1 else f"{statuses[0].lower()} ×{len(statuses)}"
    return ", ".join(f"{statuses.count(s)} {s.lower()}" for s in dict.fromkeys(statuses))
