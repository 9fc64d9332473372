"""What every workload shares: the drill context, timing, retry policy, stats, Locust events, op records."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count
from typing import ClassVar, Literal, TypeVar, cast

from locust.env import Environment

from harness.core.access import Credentials
from harness.core.log_records import OpFields, OpRecord, OpType
from harness.core.observation_log import RecordSink
from harness.load.cluster_session import ClusterSession, Route
from harness.load.resp import encode
from harness.load.retrying import Attempted, call_with_policy
from harness.load.session import PrimarySession, Session
from harness.load.stats import IntervalStats
from harness.load.watchdog import CallWatchdog
from harness.scenario.model import LoadSpec, WorkloadSpec

T = TypeVar("T")
ValueField = Literal["value", "result", "applied"]  # where an op record carries the call's value


@dataclass(frozen=True, slots=True)
class LoadContext:
    """Everything users need, handed over explicitly instead of through module globals."""

    spec: LoadSpec
    sentinels: tuple[tuple[str, int], ...]
    master_name: str
    log: RecordSink  # the observation log, or a remote worker's stand-in that forwards to it
    stats: dict[str, IntervalStats]  # per workload kind
    key_prefix: str
    user_ids: count[int]
    primary: tuple[str, int] | None = None  # talk to this server instead of asking Sentinel (benchmarks)
    watchdog: CallWatchdog | None = None  # enforces the call timeout; None: each socket does
    credentials: Credentials = field(default_factory=Credentials)  # the load's user on data nodes (and TLS)
    sentinel_credentials: Credentials = field(default_factory=Credentials)  # the load's user on Sentinels
    # A cluster's nodes, asked for its slot map: each as the cluster announces it and where the load reaches
    # it (its proxied link, or itself). (): a Sentinel topology.
    cluster: tuple[Route, ...] = ()


def open_session(context: LoadContext, redirects: Counter[str] | None = None) -> Session:
    """A user's connection(s): to a cluster's nodes by slot (its redirects counted into `redirects`), or
    to the primary Sentinel names."""
    if context.cluster:
        return ClusterSession(
            context.cluster, context.spec.timeout, context.watchdog, context.credentials, redirects
        )
    return PrimarySession(
        context.sentinels,
        context.master_name,
        context.spec.timeout,
        context.primary,
        context.watchdog,
        context.credentials,
        context.sentinel_credentials,
    )


class Workload:
    """One user's behaviour. Subclasses implement step(); tracked ones pass a record to op()."""

    kind: ClassVar[str]

    def __init__(self, spec: WorkloadSpec, context: LoadContext, environment: Environment) -> None:
        self.spec = spec
        self.context = context
        self.environment = environment
        self.user_id = next(context.user_ids)
        self.rng = random.Random(self.user_id)
        stats = context.stats.get(self.kind)
        self.session = open_session(context, None if stats is None else stats.redirects)

    def key(self, *parts: object) -> str:
        return ":".join((self.context.key_prefix, self.kind, *map(str, parts)))

    def tagged(self, group: tuple[object, ...], *parts: object) -> str:
        """A key whose hash tag is the prefix, the workload and `group`: keys of one group share a cluster
        slot, so a transaction or pipeline over them is served by one node."""
        return tagged_key(self.context.key_prefix, self.kind, group, *parts)

    def step(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        self.session.close()

    def op(
        self,
        name: str,
        call: Callable[[], T],
        ops: int = 1,
        record: OpFields | None = None,
        value_field: ValueField | None = None,
    ) -> Attempted[T]:
        """Run one operation under the retry policy; account for it; log it when `record` is given
        (with the call's value under `value_field` when it succeeded)."""
        log = self.context.log
        stats = self.context.stats[self.kind]
        t0 = log.now() if record is not None else 0.0
        start = time.perf_counter()
        try:
            result = call_with_policy(self.context.spec.retry, call, stats.count_retry)
        except BaseException:
            # Stopped mid-call (the load ending kills the greenlet): the command may have been applied, so a
            # tracked operation is recorded as info rather than vanishing from the history.
            if record is not None:
                interrupted = self._op_record(record, "info", t0)
                interrupted["error"] = "interrupted"
                log.write(interrupted)
            raise
        latency_us = int((time.perf_counter() - start) * 1e6)
        error = result.error.error if result.error else None
        # Locust's own statistics get these per interval, from here (harness.load.locust_feed).
        stats.record(
            result.outcome, latency_us, error, (), ops, name
        )  # its retries were counted as they came
        if record is not None:
            done = self._op_record(record, result.outcome, t0)
            if value_field is not None and result.outcome == "ok":
                done[value_field] = result.value
            if error:
                done["error"] = error
            if result.retries:
                done["retries"] = result.retries
                done["retried"] = list(result.retried)
            log.write(done)
        return result

    def _op_record(self, fields: OpFields, outcome: OpType, t0: float) -> OpRecord:
        record = cast(OpRecord, fields)  # the workload's fields, completed just below with OpRecord's others
        record["t"], record["kind"], record["w"] = self.context.log.now(), "op", self.kind
        record["type"], record["t0"] = outcome, round(t0, 6)
        return record

    # --- state the checkers need: set before the load, read back after it ---------------------------------

    @classmethod
    def initial_state(cls, spec: WorkloadSpec, prefix: str) -> dict[str, int]:
        """Keys and values to set before the load starts (logged as an init record)."""
        return {}


def tagged_key(prefix: str, kind: str, group: tuple[object, ...], *parts: object) -> str:
    tag = ":".join((prefix, kind, *map(str, group)))
    return ":".join(("{" + tag + "}", *map(str, parts)))


def initialize(session: Session, values: dict[str, int]) -> None:
    """Set the checkers' starting state, a SET per key (on a cluster each goes to its key's node)."""
    for key, value in values.items():
        session.one(encode("SET", key, value), key)
