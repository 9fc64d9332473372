"""Facts about the observation log that writers and readers share (see docs/observation-log.md).

The first record of every log (`run`) carries the schema version and the sampling intervals, so readers
judge a log by what it says rather than by constants that may have changed since it was written."""

from __future__ import annotations

SCHEMA_VERSION = 2  # 2: the run record carries the intervals; faults are invoke/complete intervals
STATS_INTERVAL_S = 0.5  # the load's aggregates (`stats` records) cover this much time each
INFO_INTERVAL_S = 0.25  # INFO of every data node (`info` records) is sampled this often
