"""Latency histograms and stats records read back: the pure maths that the load (which fills them) and the
report and runbook checks (which read them) share, below both."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

from harness.core.log_records import StatsRecord

# Latencies are also kept as a mergeable log-scale histogram: bucket b holds values near 2**(b/16) µs (~4 %).
BUCKETS_PER_OCTAVE = 16


def bucket_of(latency_us: int) -> int:
    return int(math.log2(max(latency_us, 1)) * BUCKETS_PER_OCTAVE)


def bucket_value(bucket: int) -> int:
    return round(2 ** ((bucket + 0.5) / BUCKETS_PER_OCTAVE))


def histogram_percentile(histogram: dict[int, int], q: float) -> int:
    total = sum(histogram.values())
    if not total:
        return 0
    rank = q * total
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return bucket_value(bucket)
    return bucket_value(max(histogram))


def merge_intervals(stats: Iterable[StatsRecord]) -> tuple[dict[int, int], dict[str, int]]:
    """The latency histogram and error counts of several stats records (intervals or workloads) together."""
    histogram: dict[int, int] = {}
    errors: dict[str, int] = {}
    for record in stats:
        for bucket, n in record["hist"].items():  # JSON keys are strings
            histogram[int(bucket)] = histogram.get(int(bucket), 0) + n
        for name, n in record["errors"].items():
            errors[name] = errors.get(name, 0) + n
    return histogram, errors


def merge_redirects(stats: Iterable[StatsRecord]) -> dict[str, int]:
    """A cluster's redirects followed (MOVED, ASK), summed over stats records."""
    total: Counter[str] = Counter()
    for record in stats:
        total.update(record.get("redirects", {}))
    return dict(total)


def merge_retried(stats: Iterable[StatsRecord]) -> dict[str, int]:
    """The error classes of retried attempts, summed over stats records."""
    total: Counter[str] = Counter()
    for record in stats:
        total.update(record["retried_errors"])
    return dict(total)


def percentile(sorted_values: list[int], q: float) -> int:
    if not sorted_values:
        return 0
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]
