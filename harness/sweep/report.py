"""Sweep output: a table per connection count (RTT rows, batch columns) and a CSV of every cell."""

from __future__ import annotations

import csv
import io

from tabulate import tabulate

from harness.sweep.model import BoundedCell

# SEED-FACTS.md, "Throughput by network (pipelining)": the documented expectation, for comparison.
DOCUMENTED = {
    0.0: "local: best batch 100-500, ~1 M ops/s",
    0.001: "LAN 1 ms: best batch 200-1000, ~200 K ops/s",
    0.05: "WAN 50 ms: best batch 500-2000, ~20 K ops/s",
}


def render_csv(cells: list[BoundedCell]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["rtt_ms", "batch", "connections", "requests", "ops_per_s", "bound_ops_per_s", "ratio"])
    for b in cells:
        c = b.cell
        writer.writerow(
            [
                f"{c.rtt * 1000:g}",
                c.batch,
                c.connections,
                c.requests,
                f"{c.ops_per_s:.0f}",
                "" if b.bound is None else f"{b.bound:.0f}",
                "" if b.ratio is None else f"{b.ratio:.2f}",
            ]
        )
    return out.getvalue()


def _k(value: float) -> str:
    return (
        f"{value / 1e6:.2f}M" if value >= 1e6 else f"{value / 1e3:.1f}K" if value >= 1e3 else f"{value:.0f}"
    )


def render_tables(cells: tuple[BoundedCell, ...]) -> str:
    batches = sorted({b.cell.batch for b in cells})
    blocks = []
    for connections in sorted({b.cell.connections for b in cells}):
        rows = []
        for rtt in sorted({b.cell.rtt for b in cells}):
            row = [f"{rtt * 1000:g} ms"]
            for batch in batches:
                match = [
                    b
                    for b in cells
                    if (b.cell.rtt, b.cell.batch, b.cell.connections) == (rtt, batch, connections)
                ]
                if not match:
                    row.append("")
                    continue
                cell = match[0]
                bound = "" if cell.bound is None else f" / {_k(cell.bound)}"
                row.append(f"{_k(cell.cell.ops_per_s)}{bound}")
            best = max(
                (b for b in cells if b.cell.rtt == rtt and b.cell.connections == connections),
                key=lambda b: b.cell.ops_per_s,
            )
            row.append(f"{best.cell.batch}")
            row.append(DOCUMENTED.get(round(rtt, 6), ""))
            rows.append(row)
        headers = ["added RTT", *(f"batch {b}" for b in batches), "best batch", "documented"]
        blocks.append(
            f"{connections} connection(s): measured ops/s / bound c x b / (RTT + local round trip)\n"
            + tabulate(rows, headers=headers, tablefmt="simple")
        )
    return "\n\n".join(blocks)
