"""The charts' shared frame (inline SVG): the time axis of the drill, its fault bands and event markers, with
their labels packed in rows above the plot so that none overlaps another; and the legend under a chart."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from harness.report.timeline import Band, Marker, Timeline

WIDTH, PLOT_PX = 960, 140  # the plot's height; label rows above it add to the chart's
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 12, 28
MARKER_COLOURS = {
    "sentinel": "#555",
    "detected": "#d62728",
    "recovered": "#2ca02c",
    "aborted": "#8c2d04",
    "closest": "#e6550d",  # where a stop condition that held back came nearest to tripping
}
CHAR_PX = 6.6  # an 11 px label's width per character (wide enough for the usual sans fonts)
LABEL_GAP = 4
ROW_PX = 14  # a label row: the 11 px font's box is 13 px high


def x_of(t: float, timeline: Timeline) -> float:
    return LEFT + (WIDTH - LEFT - RIGHT) * max(0.0, min(t, timeline.duration)) / timeline.duration


@dataclass(frozen=True, slots=True)
class Frame:
    """Where a chart's plot lies in its SVG: event labels take rows above it, as many as they need."""

    top: float
    bottom: float


def frame_of(timeline: Timeline, top_label: str) -> tuple[list[str], Frame]:
    """Axes, fault bands and event markers shared by every chart, with their labels packed in rows above
    the plot so that none overlaps another however close the events."""
    labels = [(x_of(b.start, timeline), f"fault: {b.label}", "#d62728") for b in timeline.bands]
    labels += [(x_of(m.t, timeline), m.label, MARKER_COLOURS[m.kind]) for m in timeline.markers]
    placed = packed(labels)
    rows = max((row for *_, row in placed), default=-1) + 1
    top = TOP + ROW_PX * rows
    frame = Frame(top, top + PLOT_PX)
    height = frame.bottom + BOTTOM
    out = [f"<svg width='{WIDTH}' height='{height:.0f}' xmlns='http://www.w3.org/2000/svg'>"]
    for band in timeline.bands:
        out.append(band_rect(band, timeline, frame))
    out.append(
        f"<line x1='{LEFT}' y1='{frame.bottom}' x2='{WIDTH - RIGHT}' y2='{frame.bottom}' stroke='#999'/>"
    )
    out.append(f"<line x1='{LEFT}' y1='{frame.top}' x2='{LEFT}' y2='{frame.bottom}' stroke='#999'/>")
    step = max(1, math.ceil(timeline.duration / 15))
    first = math.ceil(timeline.origin)  # ticks at whole seconds of t, the run's clock
    for second in range(first, int(timeline.origin + timeline.duration) + 1, step):
        x = x_of(second - timeline.origin, timeline)
        out.append(f"<text x='{x:.1f}' y='{height - 10:.0f}' text-anchor='middle'>{second}s</text>")
    out.append(f"<text x='{LEFT - 6}' y='{frame.top + 4}' text-anchor='end'>{escape(top_label)}</text>")
    for marker in timeline.markers:
        out.append(marker_line(marker, timeline, frame))
    for x, text, colour, anchor, row in placed:
        at = x + 3 if anchor == "start" else x - 3
        out.append(
            f"<text x='{at:.1f}' y='{TOP + ROW_PX * row}' text-anchor='{anchor}' fill='{colour}'>"
            f"{escape(text)}</text>"
        )
    return out, frame


def packed(labels: list[tuple[float, str, str]]) -> list[tuple[float, str, str, str, int]]:
    """(x, text, colour, anchor, row) for each label: right of its x (left of it when it would run past
    the chart), in the first row where it overlaps no other label."""
    rows: list[list[tuple[float, float]]] = []
    out = []
    for x, text, colour in sorted(labels, key=lambda label: label[0]):
        width = CHAR_PX * len(text)
        start, anchor = (x + 3, "start") if x + 3 + width <= WIDTH - RIGHT else (x - 3 - width, "end")
        span = (start - LABEL_GAP, start + width + LABEL_GAP)
        row = next(
            (i for i, taken in enumerate(rows) if all(span[1] <= a or b <= span[0] for a, b in taken)),
            len(rows),
        )
        if row == len(rows):
            rows.append([])
        rows[row].append(span)
        out.append((x, text, colour, anchor, row))
    return out


def band_rect(band: Band, timeline: Timeline, frame: Frame) -> str:
    x0, x1 = x_of(band.start, timeline), x_of(band.end, timeline)
    return (
        f"<rect x='{x0:.1f}' y='{frame.top}' width='{max(x1 - x0, 1):.1f}' "
        f"height='{frame.bottom - frame.top}' fill='#d62728' fill-opacity='0.10'>"
        f"<title>fault: {escape(band.label)}</title></rect>"
    )


def marker_line(marker: Marker, timeline: Timeline, frame: Frame) -> str:
    x = x_of(marker.t, timeline)
    colour = MARKER_COLOURS[marker.kind]
    dash = "" if marker.kind not in ("sentinel", "closest") else " stroke-dasharray='3,3'"
    return (
        f"<line x1='{x:.1f}' y1='{frame.top}' x2='{x:.1f}' y2='{frame.bottom}' stroke='{colour}'{dash}>"
        f"<title>{escape(marker.label)} at t={marker.t + timeline.origin:.3f}s</title></line>"
    )


def legend(entries: list[tuple[str, str]]) -> str:
    """Series names under the chart, where they cannot cover an event label."""
    spans = "".join(f"<span style='color:{c}'>&#9632; {escape(name)}</span> " for name, c in entries)
    return f"<div class='legend'>{spans}</div>"
