"""What a Locust worker process is told by the drill: the load spec, the master, the topology's client
addresses, its index (and, for the drill's own workers on its machine, the log file and its clock's zero).
Free of Locust: the drill and both kinds of worker (harness/load/worker.py, remote_worker.py) share it."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from harness.scenario.model import LoadSpec, RetryPolicy, WorkloadSpec

USER_IDS_PER_WORKER = 1_000_000  # user ids (in keys and records) stay unique across processes


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    load: LoadSpec
    master: tuple[str, int]
    log: str
    start: float
    sentinels: tuple[tuple[str, int], ...]
    master_name: str
    key_prefix: str
    index: int
    cluster: tuple[tuple[tuple[str, int], tuple[str, int]], ...] = ()  # (announced, reached) per node

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @staticmethod
    def from_json(text: str) -> WorkerConfig:
        data: dict[str, Any] = json.loads(text)
        load = data["load"]
        return WorkerConfig(
            load=LoadSpec(
                workloads=tuple(WorkloadSpec(**w) for w in load["workloads"]),
                spawn_rate=float(load["spawn_rate"]),
                duration=float(load["duration"]),
                timeout=float(load["timeout"]),
                retry=RetryPolicy(**{**load["retry"], "on": tuple(load["retry"]["on"])}),
                processes=int(load["processes"]),
            ),
            master=(data["master"][0], int(data["master"][1])),
            log=data["log"],
            start=float(data["start"]),
            sentinels=tuple((h, int(p)) for h, p in data["sentinels"]),
            master_name=data["master_name"],
            key_prefix=data["key_prefix"],
            index=int(data["index"]),
            cluster=tuple(((a[0], int(a[1])), (r[0], int(r[1]))) for a, r in data.get("cluster", ())),
        )
