"""report.html, rendered by headless Chromium: the verdict, the timeline with its fault band and line, and the
check table must be what a person sees."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from harness.report.html import render_html
from harness.report.rerender import rerender
from harness.report.timeline import Band, Marker, build_timeline
from harness.sweep.chart import render_sweep_html
from harness.sweep.model import Cell, with_bounds
from tests.chromium import label_overlaps
from tests.unit.history_builder import failover_report

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration  # looks at report.html in a real Chromium
BLUE_LINE = (31, 119, 180)
PASS_GREEN = (44, 160, 44)
FAIL_RED = (214, 39, 40)


def render(tmp_path: Path, **changes: object) -> tuple[str, Path]:
    built = failover_report(str(tmp_path), **changes)
    html = render_html(built.report.to_dict(), build_timeline(built.records, built.mttd, built.mttr))
    page = tmp_path / "report.html"
    page.write_text(html)
    return html, page


def screenshot(page: Path, out: Path) -> Image.Image:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "chromium is needed to check the report as people see it (make test installs it)"
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1000,1500",
            f"--screenshot={out}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return Image.open(out).convert("RGB")


def count(image: Image.Image, colour: tuple[int, int, int], box: tuple[int, int, int, int]) -> int:
    """Pixels within a small distance of `colour` inside `box`."""
    data = image.crop(box).tobytes()
    return sum(
        1
        for i in range(0, len(data), 3)
        if abs(data[i] - colour[0]) <= 12
        and abs(data[i + 1] - colour[1]) <= 12
        and abs(data[i + 2] - colour[2]) <= 12
    )


def test_report_shows_verdict_timeline_band_and_checks(tmp_path: Path) -> None:
    html, page = render(tmp_path)
    assert html.count("<tr class='pass'>") == 9 and "FAIL" not in html
    image = screenshot(page, tmp_path / "report.png")
    assert image.size == (1000, 1500)
    assert count(image, PASS_GREEN, (0, 0, 400, 70)) > 500  # the PASSED badge
    # The throughput chart (below the summary and its row of event labels) has its line and the fault band.
    chart = (60, 410, 1000, 570)  # below the summary, its availability row included
    assert count(image, BLUE_LINE, chart) > 150
    assert count(image, (251, 233, 233), chart) > 20_000  # the band: the fault colour at 10 % on white
    assert count(image, PASS_GREEN, (0, 900, 120, 1500)) > 100  # "pass" cells of the check table


def test_failed_check_is_red_in_the_report(tmp_path: Path) -> None:
    html, page = render(tmp_path, odown=False)
    assert "FAILED: 1 check(s)" in html and html.count("<tr class='fail'>") == 1
    image = screenshot(page, tmp_path / "report.png")
    assert count(image, FAIL_RED, (0, 0, 500, 70)) > 500  # the FAILED badge


def test_drill_report_rerenders_from_run_files(tmp_path: Path) -> None:
    html, page = render(tmp_path)
    page.unlink()
    built = failover_report(str(tmp_path))
    (tmp_path / "observations.jsonl").write_text("".join(json.dumps(r) + "\n" for r in built.records))
    (tmp_path / "report.json").write_text(json.dumps(built.report.to_dict()))
    assert rerender(tmp_path).read_text() == html


def test_event_labels_never_overlap_however_close_the_events(tmp_path: Path) -> None:
    """A primary kill's burst of events within 0.2 s, long fault labels, and events at the right edge: laid
    out by a real browser, no two labels of a chart overlap (they used to be drawn over each other)."""
    built = failover_report(str(tmp_path))
    timeline = build_timeline(built.records, built.mttd, built.mttr)
    burst = [
        Marker(4.0 + i * 0.03, label, "sentinel")
        for i, label in enumerate(
            [
                "+sdown redis-1",
                "+odown redis-1",
                "+switch-master redis-1",
                "-sdown redis-2",
                "+convert-to-slave",
            ]
        )
    ]
    edge = [Marker(timeline.duration - 0.05, "+convert-to-slave redis-1", "sentinel")]
    bands = (
        Band(3.9, 6.0, "partition redis-1 | redis-2+redis-3+sentinel-1+sentinel-2+sentinel-3"),
        Band(4.0, 5.0, "pause redis-2 (took 12 ms)"),
    )
    crowded = dataclasses.replace(
        timeline, markers=(*timeline.markers, *burst, *edge), bands=(*timeline.bands, *bands)
    )
    page = tmp_path / "crowded.html"
    page.write_text(render_html(built.report.to_dict(), crowded))
    assert label_overlaps(page) == []


def test_sweep_chart_draws_each_line_and_its_dashed_bound(tmp_path: Path) -> None:
    """The sweep's report.html as people see it: a measured line per RTT, its bound dashed in its colour."""
    cells = with_bounds(
        [
            Cell(rtt, batch, 1, 1000, rate)
            for rtt, rates in ((0.0, (20_000, 200_000, 900_000)), (0.02, (45, 4_400, 40_000)))
            for batch, rate in zip((1, 100, 1000), rates, strict=True)
        ]
    )
    page = tmp_path / "report.html"
    page.write_text(render_sweep_html(tuple(cells), "tiny", "run-1"))
    text = page.read_text()
    assert text.count("<polyline") == 3  # two measured lines, one bound (at 0 ms the bound is the line)
    assert 'stroke-dasharray="6 4"' in text and "+20 ms RTT, 1 conn" in text
    image = screenshot(page, tmp_path / "sweep.png")
    plot = (80, 100, 670, 560)  # the plot area below the heading
    assert count(image, BLUE_LINE, plot) > 300  # the local line
    assert count(image, (255, 127, 14), plot) > 300  # the 20 ms line and its bound
