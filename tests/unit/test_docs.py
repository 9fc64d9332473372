"""The docs site builds with every page in its nav and no broken link (`mkdocs build --strict`), its reference
pages are what the definitions produce (`drill kinds SECTION --format markdown`), and README stays a front
page: its two set-up commands first, under 220 lines."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli.kinds import SECTIONS, render_markdown

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("section", SECTIONS)
def test_reference_page_is_what_the_definitions_produce(section: str) -> None:
    page = ROOT / "docs" / "reference" / f"{section}.md"
    assert page.read_text(encoding="utf-8") == render_markdown(section), (
        f"docs/reference/{section}.md is stale: drill kinds {section} --format markdown > it"
    )


def test_the_docs_site_builds_strictly(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert built.returncode == 0, built.stdout + built.stderr
    assert (tmp_path / "site" / "reference" / "checks" / "index.html").is_file()
    pages = {p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")}
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert not [p for p in pages if p not in nav], "a page missing from mkdocs.yml's nav"


def test_readme_is_a_front_page() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) < 220, len(lines)
    commands = [line for line in lines[:6] if line.startswith("make ")]
    assert [c.split()[:2] for c in commands] == [["make", "drill"], ["make", "test"]]
    assert "TOUR_OUTPUT" not in "\n".join(lines)
