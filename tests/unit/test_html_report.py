"""report.html, rendered by headless Chromium: the verdict, the timeline with its fault band and line, and the
check table must be what a person sees."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from harness.report.html import render_html
from harness.report.rerender import rerender
from harness.report.timeline import build_timeline
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
    # The throughput chart (below the summary) has its line and the fault band behind it.
    chart = (60, 320, 1000, 480)
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
