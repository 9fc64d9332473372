"""report.html's "Key metrics" section: one panel per metric of the operations documents' dashboard, each
node a line on the drill's time axis over its healthy / warning / critical bands, with the faults and events
of the other charts, and a dot where a node crosses into a worse band."""

from __future__ import annotations

from html import escape

from harness.report.key_metrics import Panel, worst_text
from harness.report.svg_chart import RIGHT, WIDTH, frame_of, legend, x_of
from harness.report.timeline import Timeline

NODE_COLOURS = ("#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22")
BAND_COLOURS = {"healthy": "#2ca02c", "warning": "#e6a700", "critical": "#d62728"}
LISTED_CROSSINGS = 6  # in a panel's legend; the rest are counted


def key_metric_panels(timeline: Timeline) -> str:
    panels = timeline.key_metrics
    if not any(p.has_data for p in panels):
        return ""
    parts = [
        "<h2>Key metrics</h2>",
        "<div class='muted'>The operations documents' dashboard, from the drill's INFO samples: each band as "
        "they define it (healthy, warning, critical), a dot where a node crosses into a worse one.</div>",
    ]
    for panel in panels:
        parts.append(f"<h3>{escape(panel.metric.title)}: {escape(worst_text(panel))}</h3>")
        parts.append(_panel(panel, timeline) if panel.has_data else "<div class='muted'>no data</div>")
    return "\n".join(parts)


def _range(panel: Panel) -> tuple[float, float]:
    metric = panel.metric
    values = [v for _, points in panel.series for _, v in points]
    top = max(values, default=0.0) * 1.05
    if metric.lower_is_worse:  # hit rate: its bands sit just under 100 %
        return min(50.0, min(values, default=50.0)), 100.0
    floor = {"%": 100.0, "s": metric.critical * 1.2}[metric.unit]
    return 0.0, max(top, floor, metric.critical * 1.25)


def _panel(panel: Panel, timeline: Timeline) -> str:
    metric = panel.metric
    low, high = _range(panel)
    out, frame = frame_of(timeline, metric.show(high))

    def y(value: float) -> float:
        share = (min(max(value, low), high) - low) / (high - low)
        return frame.bottom - share * (frame.bottom - frame.top)

    left, right = x_of(0.0, timeline), WIDTH - RIGHT
    first, second = sorted((metric.warning, metric.critical))
    zones = (
        [("critical", low, first), ("warning", first, second), ("healthy", second, high)]
        if metric.lower_is_worse
        else [("healthy", low, first), ("warning", first, second), ("critical", second, high)]
    )
    for band, bottom, top in zones:
        out.append(
            f"<rect x='{left:.1f}' y='{y(top):.1f}' width='{right - left:.1f}' "
            f"height='{y(bottom) - y(top):.1f}' "
            f"fill='{BAND_COLOURS[band]}' fill-opacity='0.08'><title>{band}</title></rect>"
        )
    # The thresholds, inside the plot's right end: the upper one above its line, the lower one below its
    # own, so that two close thresholds (hit rate's 90 % and 95 %) never share a row.
    for edge, baseline in ((second, y(second) - 2), (first, y(first) + 11)):
        out.append(
            f"<text x='{right - 2:.1f}' y='{baseline:.1f}' text-anchor='end' fill='#666'>"
            f"{escape(metric.show(edge))}</text>"
        )
    colours = {node: NODE_COLOURS[i % len(NODE_COLOURS)] for i, (node, _) in enumerate(panel.series)}
    for node, points in panel.series:
        if points:
            coords = " ".join(f"{x_of(t - timeline.origin, timeline):.1f},{y(v):.1f}" for t, v in points)
            out.append(
                f"<polyline fill='none' stroke='{colours[node]}' stroke-width='1.5' points='{coords}'>"
            )
            out.append(f"<title>{escape(node)}</title></polyline>")
    for c in panel.crossings:
        x = x_of(c.t - timeline.origin, timeline)
        out.append(
            f"<circle cx='{x:.1f}' cy='{y(c.value):.1f}' r='4' fill='{BAND_COLOURS[c.band]}' stroke='#fff'>"
            f"<title>{escape(c.node)} into {c.band} at t={c.t:.2f}s ({escape(metric.show(c.value))})</title>"
            "</circle>"
        )
    out.append("</svg>")
    entries = [(node, colours[node]) for node, points in panel.series if points]
    entries += [
        (f"{c.node} into {c.band} at t={c.t:.2f}s ({metric.show(c.value)})", BAND_COLOURS[c.band])
        for c in panel.crossings[:LISTED_CROSSINGS]
    ]
    if len(panel.crossings) > LISTED_CROSSINGS:
        entries.append((f"and {len(panel.crossings) - LISTED_CROSSINGS} more crossings", "#666"))
    return "".join(out) + legend(entries)
