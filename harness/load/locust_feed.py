"""Locust's own statistics (its web UI and CSV) fed per interval from the load's interval stats, instead of
a Locust request event per call."""

from __future__ import annotations

import time
from collections import Counter

from locust.stats import RequestStats, StatsEntry, bucket_response_time

from harness.load.stats import IntervalStats


def feed_locust(stats: RequestStats, kind: str, interval: IntervalStats) -> None:
    """Add an interval's calls to Locust's statistics in one go, per call name, as its request events
    would have one by one (counts, ms response-time distribution, min/max, requests per second): a Locust
    event per call costs the load generator a tenth of its rate. Failed calls count as requests without a
    response time, and as failures by error class."""
    now = time.time()
    for name, latencies in interval.by_name.items():
        if not latencies:
            continue
        rounded: Counter[int] = Counter(bucket_response_time(round(v / 1000)) for v in latencies)
        total_ms = round(sum(latencies) / 1000)
        for entry in (stats.get(name, kind), stats.total):
            _add_requests(entry, now, len(latencies), rounded, total_ms, min(latencies), max(latencies))
    for (name, error), n in interval.failed.items():
        for _ in range(n):
            stats.log_request(kind, name, None, 0)  # type: ignore[arg-type]  # Locust takes None: no time
            stats.log_error(kind, name, error)


def _add_requests(
    entry: StatsEntry, now: float, n: int, rounded: Counter[int], total_ms: int, low_us: int, high_us: int
) -> None:
    """StatsEntry.log, n times at once (the same fields, the same per-second cache)."""
    last = entry.last_request_timestamp
    if entry.use_response_times_cache and last and int(now) > int(last):
        entry._cache_response_times(int(now) - 1)
    entry.num_requests += n
    entry.num_reqs_per_sec[int(now)] += n
    entry.last_request_timestamp = now
    entry.total_response_time += total_ms
    low, high = round(low_us / 1000), round(high_us / 1000)
    entry.min_response_time = low if entry.min_response_time is None else min(entry.min_response_time, low)
    entry.max_response_time = max(entry.max_response_time, high)
    for value, count in rounded.items():
        entry.response_times[value] += count
