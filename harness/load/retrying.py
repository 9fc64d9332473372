"""The load users' retry policy applied explicitly: every attempt is counted, none is hidden."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from redis.backoff import ExponentialBackoff

from harness.core.log_records import OpType
from harness.load.classify import Classified, classify, retry_groups
from harness.scenario.model import RetryPolicy

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Attempted(Generic[T]):
    """What a call under a retry policy came to: its value or its last error, and the retries spent."""

    value: T | None
    error: Classified | None
    outcome: OpType
    retries: int
    retried: tuple[str, ...] = ()  # the error class of each attempt that was retried: visible, not hidden


def call_with_policy(
    policy: RetryPolicy, call: Callable[[], T], retrying: Callable[[str], None] = lambda error: None
) -> Attempted[T]:
    """`retrying` is told each error class the policy is about to retry, when the attempt failed: the
    load's stats count it in that interval (a call that retries for seconds ends much later)."""
    if not policy.retries:  # the measurement load's case: one attempt, nothing to set up per call
        try:
            return Attempted(call(), None, "ok", 0)
        except Exception as exc:  # classified: every Redis failure is data here
            error = classify(exc)
            return Attempted(None, error, "info" if error.outcome == "info" else "fail", 0)
    backoff = ExponentialBackoff(cap=policy.cap, base=policy.base)
    retries = 0
    retried: list[str] = []
    uncertain = False  # an earlier attempt may have taken effect
    while True:
        try:
            value = call()
        except Exception as exc:  # classified below; every Redis failure is data here
            error = classify(exc)
            uncertain = uncertain or error.outcome == "info"
            if retries < policy.retries and retry_groups(error.error) & set(policy.on):
                retrying(error.error)
                # redis-py's compute(n) is base * 2**n: pass n-1 so the first wait is the base itself.
                time.sleep(backoff.compute(retries))
                retries += 1
                retried.append(error.error)
                continue
            return Attempted(None, error, "info" if uncertain else "fail", retries, tuple(retried))
        return Attempted(value, None, "ok", retries, tuple(retried))
