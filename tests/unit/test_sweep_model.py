from harness.sweep.model import Cell, requests_for, with_bounds


def test_bound_adds_the_rtt_to_the_local_round_trip() -> None:
    cells = [
        Cell(0.0, 100, 1, 1000, 500_000.0),
        Cell(0.05, 100, 1, 100, 1_900.0),
        Cell(0.001, 100, 1, 100, 80_000.0),
        Cell(0.05, 10, 2, 100, 390.0),
    ]
    bounded = with_bounds(cells)
    # 100 commands take 0.2 ms locally: with 50 ms added, 100 / 0.0502 s; with 1 ms, 100 / 0.0012 s.
    assert [round(b.bound or 0, 1) for b in bounded] == [500_000.0, 1_992.0, 83_333.3, 400.0]
    assert round(bounded[1].ratio or 0, 3) == 0.954


def test_requests_scale_with_the_expected_rate() -> None:
    assert requests_for(0.05, 1, 1, 2.0) == 39  # ~20 ops/s for 2 s (never fewer than 2 batches)
    assert requests_for(0.0, 100, 10, 1.0) == 2_000_000  # capped estimate
    assert requests_for(0.05, 2000, 4, 1.0) == 160_000  # 8000 / 0.0502 s = 159,362, in whole batches
    # The WAN sweep's 20 ms cell with batch 50: 1,237 made redis-benchmark abort now and then (its replies
    # counted to 1,250, not -n); whole batches of 50 end on -n exactly.
    assert requests_for(0.02, 50, 1, 0.5) == 1_250
