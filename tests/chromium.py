"""Report pages laid out by a real headless Chromium, as people see them."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

# Measures every label as the browser lays it out and lists the pairs of one chart whose boxes overlap.
OVERLAP_PROBE = """<script>
const found = [];
document.querySelectorAll("svg").forEach((svg, chart) => {
  const boxes = [...svg.querySelectorAll("text")].map((t) => [t.textContent, t.getBBox()]);
  boxes.forEach(([a, p], i) => boxes.slice(i + 1).forEach(([b, q]) => {
    if (p.x < q.x + q.width && q.x < p.x + p.width && p.y < q.y + q.height && q.y < p.y + p.height) {
      found.push(chart + ": " + a + " / " + b);
    }
  }));
});
document.body.setAttribute("data-overlaps", JSON.stringify(found));
</script>"""


def label_overlaps(page: Path) -> list[str]:
    """Every pair of labels of one chart whose boxes overlap once Chromium has laid the page out."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "chromium is needed to lay the report out (make test installs it)"
    probed = page.with_name(f"probed-{page.name}")
    probed.write_text(page.read_text().replace("</body>", OVERLAP_PROBE + "</body>"))
    dom = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", probed.as_uri()],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    match = re.search(r'data-overlaps="([^"]*)"', dom)
    assert match is not None, "the probe did not run"
    found: list[str] = json.loads(html.unescape(match.group(1)))
    return found
