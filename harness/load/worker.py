"""A Locust worker process for multi-process load (`load.processes` > 1).

`python -m harness.load.worker CONFIG_JSON`: takes the load spec the drill hands it (it does not read the
scenario file again: the drill may have changed it, e.g. `--secure`), connects to the drill's Locust master on
loopback, runs the users it is given and writes their ops and stats to the drill's observation log
(whole-line appends, the drill's clock), until the master stops it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
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
    cluster: tuple[tuple[str, int], ...] = ()

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
            cluster=tuple((h, int(p)) for h, p in data.get("cluster", ())),
        )


def run_worker(config: WorkerConfig) -> int:
    # Imported here: Locust patches the process with gevent on import, which main() has done first.
    from locust.env import Environment
    from locust.event import Events

    from harness.access import LOAD_CREDENTIALS_VAR, credentials_from_json
    from harness.load.users import make_user_classes
    from harness.load.worker_loop import WorkerLoop, worker_context
    from harness.observation_log import ObservationLog

    # Credentials come from the drill through this process's environment, never argv (world-readable).
    credentials = credentials_from_json(os.environ.pop(LOAD_CREDENTIALS_VAR))
    log = ObservationLog(Path(config.log), start=config.start)
    context = worker_context(config, log, credentials)
    environment = Environment(user_classes=make_user_classes(context), events=Events(), stop_timeout=2.0)
    runner = environment.create_worker_runner(*config.master)
    WorkerLoop(environment, context, log, config.index).run(runner)
    return 0


def main() -> int:
    from gevent import monkey

    monkey.patch_all()
    return run_worker(WorkerConfig.from_json(sys.argv[1]))


if __name__ == "__main__":
    raise SystemExit(main())
