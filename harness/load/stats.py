"""Per-interval aggregates of the bulk load, so the log stays small at full throughput."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from harness.core.histograms import bucket_of, percentile
from harness.core.log_records import StatsRecord


@dataclass
class IntervalStats:
    """Counts and latencies (µs) since the last drain. Owned by one load run, never global."""

    ok: int = 0
    fail: int = 0
    info: int = 0
    retries: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    retried: Counter[str] = field(default_factory=Counter)  # error classes of attempts that were retried
    by_name: dict[str, list[int]] = field(default_factory=dict)  # call name -> latencies of ok calls
    failed: Counter[tuple[str, str]] = field(default_factory=Counter)  # (call name, error class) -> calls
    # A cluster's MOVED and ASK replies followed; the sessions add to it directly, so it is cleared in place.
    redirects: Counter[str] = field(default_factory=Counter)

    @property
    def latencies_us(self) -> list[int]:
        return [v for values in self.by_name.values() for v in values]

    def record(
        self,
        outcome: str,
        latency_us: int,
        error: str | None,
        retried: tuple[str, ...] = (),
        ops: int = 1,
        name: str = "",
    ) -> None:
        """One call named `name` (SET, pipeline 16, ...), which carried `ops` commands (a pipeline carries
        many); latency is per call. `error` is how it ended (None: ok); `retried` the error of each earlier
        attempt the retry policy repeated."""
        if outcome == "ok":
            self.ok += ops
            latencies = self.by_name.get(name)
            if latencies is None:
                latencies = self.by_name[name] = []
            latencies.append(latency_us)
        elif outcome == "fail":
            self.fail += ops
        else:
            self.info += ops
        if error:
            self.errors[error] += 1
            self.failed[(name, error)] += 1
        if retried:
            self.retries += len(retried)
            self.retried.update(retried)

    def count_retry(self, error: str) -> None:
        """An attempt that failed with `error` and is about to be retried, counted now (not when its call
        ends, seconds of backoff later): a reply the clients got is placed in the interval it came in."""
        self.retries += 1
        self.retried[error] += 1

    def drain(self, t: float, workload: str, worker: int | None = None) -> StatsRecord:
        """The interval's summary as the log's `stats` record at time `t`; resets the counters."""
        lat = sorted(self.latencies_us)
        summary = StatsRecord(
            t=t,
            kind="stats",
            workload=workload,
            ok=self.ok,
            fail=self.fail,
            info=self.info,
            retries=self.retries,
            errors=dict(self.errors),
            retried_errors=dict(self.retried),
            p50_us=percentile(lat, 0.50),
            p99_us=percentile(lat, 0.99),
            max_us=lat[-1] if lat else 0,
            hist={str(bucket): n for bucket, n in Counter(bucket_of(v) for v in lat).items()},
        )
        if worker is not None:
            summary["worker"] = worker
        if self.redirects:
            summary["redirects"] = dict(self.redirects)
            self.redirects.clear()
        self.ok = self.fail = self.info = self.retries = 0
        self.errors = Counter()
        self.retried = Counter()
        self.by_name = {}
        self.failed = Counter()
        return summary
