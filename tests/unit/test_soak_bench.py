"""drill bench soak's figures from samples (the sampling itself runs a real drill: `drill bench soak`)."""

from __future__ import annotations

from harness.bench.soak_bench import Sample, SoakResult, render


def test_log_rate_and_memory_over_the_load() -> None:
    # 120 s of load, memory growing 1 MB every 10 s, the log 3 MB a minute; the drill runs 10 s longer.
    samples = tuple(Sample(float(t), 100.0 + t / 10, 3.0 * t / 60) for t in range(0, 131))
    result = SoakResult("soak.yaml", 0, 120.0, samples, 52_345.6, 451.2)
    assert round(result.log_mb_per_min, 2) == 3.25  # the whole log over the minutes of load
    assert (result.rss_at(0.25), result.rss_at(0.5), result.rss_at(1.0)) == (103.0, 106.0, 112.0)
    assert result.rss_max_mb == 113.0
    text = render(result)
    assert "3.25 MB per minute of load" in text and "+6.0 MB per minute" in text and "over" not in text
    assert "52,346 ops/s, of which 451 tracked writes/s" in text
    heavy = SoakResult("soak.yaml", 1, 120.0, tuple(Sample(s.t, s.rss_mb * 5, s.log_mb * 4) for s in samples))
    assert "unknown (the drill wrote no report)" in render(heavy)
    assert render(heavy).count("over") == 2 and "exit 1" in render(heavy)
