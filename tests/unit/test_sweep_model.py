from harness.sweep.model import Cell, requests_for, with_bounds


def test_bound_is_local_limit_capped_latency_bound() -> None:
    cells = [
        Cell(0.0, 100, 1, 1000, 500_000.0),
        Cell(0.05, 100, 1, 100, 1_900.0),
        Cell(0.001, 100, 1, 100, 80_000.0),
        Cell(0.05, 10, 2, 100, 390.0),
    ]
    bounded = with_bounds(cells)
    assert [b.bound for b in bounded] == [500_000.0, 2_000.0, 100_000.0, 400.0]
    assert bounded[1].ratio == 0.95


def test_requests_scale_with_the_expected_rate() -> None:
    assert requests_for(0.05, 1, 1, 2.0) == 39  # ~20 ops/s for 2 s (never fewer than 2 batches)
    assert requests_for(0.0, 100, 10, 1.0) == 2_000_000  # capped estimate
    assert requests_for(0.05, 2000, 4, 1.0) == 159_362  # 8000 / 0.0502 s
