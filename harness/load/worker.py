"""A Locust worker process for multi-process load (`load.processes` > 1).

`python -m harness.load.worker CONFIG_JSON`: takes the load spec the drill hands it (it does not read the
scenario file again: the drill may have changed it, e.g. `--secure`), connects to the drill's Locust master on
loopback, runs the users it is given and writes their ops and stats to the drill's observation log
(whole-line appends, the drill's clock), until the master stops it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from harness.load.worker_config import WorkerConfig


def run_worker(config: WorkerConfig) -> int:
    # Imported here: Locust patches the process with gevent on import, which main() has done first.
    from locust.env import Environment
    from locust.event import Events

    from harness.core.access import LOAD_CREDENTIALS_VAR, credentials_from_json
    from harness.core.observation_log import ObservationLog
    from harness.load.users import make_user_classes
    from harness.load.worker_loop import WorkerLoop, worker_context

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
