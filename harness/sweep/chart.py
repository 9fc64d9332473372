"""The sweep's report.html: one log-log chart of ops/s against batch size, a line per added RTT and connection
count, each with its bound dashed beside it in the same colour. Pure: cells in, HTML out."""

from __future__ import annotations

import html
import math

from harness.sweep.model import BoundedCell
from harness.sweep.report import DOCUMENTED

WIDTH, HEIGHT = 900, 520
LEFT, RIGHT, TOP, BOTTOM = 80, 230, 30, 60  # margins: the legend sits on the right
# Distinct colours (Tableau 10), one per (RTT, connections) line.
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


def render_sweep_html(cells: tuple[BoundedCell, ...], name: str, run_id: str) -> str:
    lines = sorted({(b.cell.rtt, b.cell.connections) for b in cells})
    batches = sorted({b.cell.batch for b in cells})
    values = [b.cell.ops_per_s for b in cells if b.cell.ops_per_s > 0]
    values += [b.bound for b in cells if b.bound]
    if not batches or not values:
        body = "<p>No measurements.</p>"
    else:
        body = _chart(cells, lines, batches, min(values), max(values))
    notes = "".join(
        f"<li>{html.escape(f'{rtt * 1000:g} ms')}: {html.escape(text)}</li>"
        for rtt, text in DOCUMENTED.items()
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(name)} sweep</title>
<style>body{{font-family:sans-serif;margin:20px;color:#222}} svg text{{font-size:12px}}</style></head>
<body><h1>{html.escape(name)}: pipelined SET throughput by batch size</h1>
<p>Run {html.escape(run_id)}. Solid: measured ops/s; dashed, same colour: its bound connections
&times; batch / (RTT + the same round trip measured locally). Both axes logarithmic. The table and every
cell are in sweep.csv.</p>
{body}
<h2>What our operations documents expect</h2><ul>{notes}</ul>
</body></html>
"""


def _chart(
    cells: tuple[BoundedCell, ...],
    lines: list[tuple[float, int]],
    batches: list[int],
    low: float,
    high: float,
) -> str:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    x_lo, x_hi = (
        math.log10(batches[0]),
        math.log10(batches[-1]) if len(batches) > 1 else math.log10(batches[0]) + 1,
    )
    y_lo, y_hi = math.floor(math.log10(low)), math.ceil(math.log10(high))
    y_hi = y_hi if y_hi > y_lo else y_lo + 1

    def x(batch: float) -> float:
        return LEFT + (math.log10(batch) - x_lo) / (x_hi - x_lo) * plot_w

    def y(value: float) -> float:
        return TOP + plot_h - (math.log10(max(value, 10**y_lo)) - y_lo) / (y_hi - y_lo) * plot_h

    parts = [f'<svg width="{WIDTH}" height="{HEIGHT}" xmlns="http://www.w3.org/2000/svg">']
    parts.append(f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999"/>')
    for decade in range(y_lo, y_hi + 1):
        at = y(10**decade)
        parts.append(f'<line x1="{LEFT}" y1="{at:.1f}" x2="{LEFT + plot_w}" y2="{at:.1f}" stroke="#eee"/>')
        parts.append(f'<text x="{LEFT - 8}" y="{at + 4:.1f}" text-anchor="end">{_ops(10**decade)}</text>')
    for batch in batches:
        at = x(batch)
        parts.append(f'<line x1="{at:.1f}" y1="{TOP}" x2="{at:.1f}" y2="{TOP + plot_h}" stroke="#eee"/>')
        parts.append(f'<text x="{at:.1f}" y="{TOP + plot_h + 18}" text-anchor="middle">{batch}</text>')
    middle_x, middle_y = LEFT + plot_w / 2, TOP + plot_h / 2
    parts.append(
        f'<text x="{middle_x}" y="{HEIGHT - 15}" text-anchor="middle">batch (commands per round trip)</text>'
    )
    parts.append(
        f'<text x="18" y="{middle_y}" text-anchor="middle" transform="rotate(-90 18 {middle_y})">ops/s</text>'
    )
    for index, (rtt, connections) in enumerate(lines):
        colour = COLOURS[index % len(COLOURS)]
        mine = sorted(
            (b for b in cells if (b.cell.rtt, b.cell.connections) == (rtt, connections)), key=_batch
        )
        measured = " ".join(f"{x(b.cell.batch):.1f},{y(b.cell.ops_per_s):.1f}" for b in mine)
        bound = " ".join(f"{x(b.cell.batch):.1f},{y(b.bound):.1f}" for b in mine if b.bound)
        parts.append(f'<polyline points="{measured}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
        if bound and rtt > 0:  # at 0 ms the bound is the measurement itself
            parts.append(
                f'<polyline points="{bound}" fill="none" stroke="{colour}" stroke-width="1.5" '
                'stroke-dasharray="6 4"/>'
            )
        for b in mine:
            parts.append(
                f'<circle cx="{x(b.cell.batch):.1f}" cy="{y(b.cell.ops_per_s):.1f}" r="3.5" fill="{colour}">'
                f"<title>{_label(rtt, connections)}, batch {b.cell.batch}: {b.cell.ops_per_s:,.0f} ops/s"
                f"{'' if b.ratio is None else f' ({b.ratio:.2f} of its bound)'}</title></circle>"
            )
        legend_y = TOP + 14 + index * 22
        legend_x = LEFT + plot_w + 20
        parts.append(
            f'<line x1="{legend_x}" y1="{legend_y - 4}" x2="{legend_x + 28}" y2="{legend_y - 4}" '
            f'stroke="{colour}" stroke-width="2.5"/>'
        )
        parts.append(
            f'<text x="{legend_x + 36}" y="{legend_y}">{html.escape(_label(rtt, connections))}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _batch(cell: BoundedCell) -> int:
    return cell.cell.batch


def _label(rtt: float, connections: int) -> str:
    return f"+{rtt * 1000:g} ms RTT, {connections} conn"


def _ops(value: float) -> str:
    return f"{value / 1e6:g}M" if value >= 1e6 else f"{value / 1e3:g}K" if value >= 1e3 else f"{value:g}"
