"""Locust users. kv-with-ack-tracking: unique writes recorded one by one, plus reads, via Sentinel."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from itertools import count
from typing import Any

import redis
from locust import User, constant, task
from redis.sentinel import Sentinel

from harness.load.retrying import call_with_policy
from harness.load.stats import IntervalStats
from harness.observe.log import ObservationLog
from harness.observe.probe import no_retry
from harness.scenario.model import LoadSpec


@dataclass(frozen=True, slots=True)
class LoadContext:
    """Everything a user needs, handed over explicitly instead of through module globals."""

    spec: LoadSpec
    sentinels: tuple[tuple[str, int], ...]
    master_name: str
    log: ObservationLog
    stats: IntervalStats
    key_prefix: str
    user_ids: count[int]


def make_user_class(context: LoadContext) -> type[User]:
    """A User subclass bound to one drill's context."""
    attributes = {"drill": context, "wait_time": constant(context.spec.wait), "abstract": False}
    return type("AckTrackingKvUser", (AckTrackingKvUser,), attributes)


class AckTrackingKvUser(User):
    abstract = True
    drill: LoadContext

    def on_start(self) -> None:
        spec = self.drill.spec
        self.user_id = next(self.drill.user_ids)
        self.seq = 0
        self.rng = random.Random(self.user_id)
        self.acked: list[str] = []
        options: dict[str, Any] = {
            "socket_timeout": spec.timeout,
            "socket_connect_timeout": spec.timeout,
            "retry": no_retry(),
        }
        sentinel = Sentinel(list(self.drill.sentinels), sentinel_kwargs=dict(options), **options)
        self.client: redis.Redis = sentinel.master_for(self.drill.master_name, **options)

    def on_stop(self) -> None:
        self.client.close()

    @task
    def step(self) -> None:
        if self.rng.random() < self.drill.spec.write_ratio or not self.acked:
            self._write()
        else:
            self._read()

    def _write(self) -> None:
        self.seq += 1
        key = f"{self.drill.key_prefix}:{self.user_id}:{self.seq}"
        value = f"{self.user_id}:{self.seq}"
        log = self.drill.log
        t0 = log.now()
        start = time.perf_counter()
        result = call_with_policy(self.drill.spec.retry, lambda: self.client.set(key, value))
        latency_us = int((time.perf_counter() - start) * 1e6)
        record: dict[str, Any] = {
            "f": "write",
            "key": key,
            "value": value,
            "type": result.outcome,
            "t0": round(t0, 6),
        }
        if result.error:
            record["error"] = result.error.error
        if result.retries:
            record["retries"] = result.retries
        log.append("op", **record)
        if result.outcome == "ok":
            self.acked.append(key)
        self._account(
            "SET", result.outcome, latency_us, result.error.error if result.error else None, result.retries
        )

    def _read(self) -> None:
        key = self.rng.choice(self.acked[-100:])
        start = time.perf_counter()
        result = call_with_policy(self.drill.spec.retry, lambda: self.client.get(key))
        latency_us = int((time.perf_counter() - start) * 1e6)
        self._account(
            "GET", result.outcome, latency_us, result.error.error if result.error else None, result.retries
        )

    def _account(self, name: str, outcome: str, latency_us: int, error: str | None, retries: int) -> None:
        self.drill.stats.record(outcome, latency_us, error, retries)
        # Locust's own stats (ms, exceptions named by class) stay usable for its UI and CSV.
        self.environment.events.request.fire(
            request_type="redis",
            name=name,
            response_time=latency_us / 1000,
            response_length=0,
            exception=RuntimeError(error) if error else None,
            context={},
        )
