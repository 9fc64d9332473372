"""`drill worker --master HOST:PORT`: this machine runs part of a drill's load, as a Locust worker.

The drill (`drill run ... --workers N --master-bind HOST:PORT`, harness/load/remote.py) hands the worker its
load spec and the topology's client addresses; the worker measures its clock against the drill's (Cristian's
method: the probe with the shortest round trip, its midpoint taken for the drill's reading), runs the users
Locust gives it, and sends every record back as a log line on the drill's clock. It ends when the drill
quits it, or when the drill stops answering (Locust's own heartbeat timeout).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

from harness.core.errors import DrillError
from harness.load.remote_protocol import CLOCK, CONFIG, FINISH, FINISHED, HELLO, LINES, READY
from harness.load.worker_config import WorkerConfig

CLOCK_PROBES = 7
CONFIG_TIMEOUT_S = 30.0


def own_address(master: tuple[str, int]) -> str:
    """The address this machine reaches the master from (a UDP socket's connect only picks the route)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(master)
        return str(probe.getsockname()[0])


def best_alignment(samples: list[tuple[float, float, float]]) -> tuple[float, float]:
    """From probes (sent, the drill's reading, received), all but the reading on this machine's monotonic
    clock: where the drill's clock reads 0 on ours, and how far off that may be (half the round trip)."""
    sent, reading, received = min(samples, key=lambda s: s[2] - s[0])
    return (sent + received) / 2 - reading, (received - sent) / 2


def run_remote_worker(master: tuple[str, int], say: Callable[[str], None]) -> int:
    # Imported here: Locust patches the process with gevent on import (the CLI has done so first).
    import gevent
    from gevent.event import AsyncResult
    from gevent.queue import Queue
    from locust.env import Environment
    from locust.event import Events

    from harness.load.forwarded_log import ForwardedLog
    from harness.load.users import make_user_classes
    from harness.load.worker_loop import WorkerLoop, worker_context

    where = f"{master[0]}:{master[1]}"
    environment = Environment(user_classes=[], events=Events(), stop_timeout=2.0)
    say(f"drill worker: joining the drill at {where} (Locust retries until it answers)")
    try:
        runner = environment.create_worker_runner(*master)
    except ConnectionError:
        raise DrillError(
            f"no drill answered at {where}. Hint: start `drill run ... --workers N "
            f"--master-bind {where}` first, and check that this machine reaches it"
        ) from None
    address = own_address(master)
    configured: AsyncResult = AsyncResult()
    replies: Queue[tuple[dict[str, Any], float]] = Queue()
    runner.register_message(
        CONFIG, lambda environment, msg, **_: configured.set(WorkerConfig.from_json(msg.data["config"]))
    )
    runner.register_message(CLOCK, lambda environment, msg, **_: replies.put((msg.data, time.monotonic())))
    runner.send_message(HELLO, {"address": address})
    try:
        config: WorkerConfig = configured.get(timeout=CONFIG_TIMEOUT_S)
    except gevent.Timeout:
        raise DrillError(
            f"the drill at {where} accepted this worker but sent no load in "
            f"{CONFIG_TIMEOUT_S:g}s: is it a drill (not another Locust master)?"
        ) from None
    log = ForwardedLog(lambda lines: runner.send_message(LINES, {"lines": lines}))
    context = worker_context(config, log)
    environment.user_classes = make_user_classes(context)
    loop = WorkerLoop(environment, context, log, config.index)
    samples = []
    for _ in range(CLOCK_PROBES):
        runner.send_message(CLOCK, {"sent": time.monotonic()})
        data, received = replies.get(timeout=10)
        samples.append((float(data["sent"]), float(data["now"]), received))
    origin, uncertainty = best_alignment(samples)
    log.align(origin)

    def finish(environment: Environment, msg: Any, **_: Any) -> None:
        runner.stop()  # the users end what they are in (stop_timeout), then the last lines go
        loop.finish()
        runner.send_message(FINISHED, None)

    runner.register_message(FINISH, finish, concurrent=True)
    runner.send_message(READY, {"address": address, "uncertainty": uncertainty})
    say(
        f"drill worker {config.index}: joined from {address}, clock within ±{uncertainty * 1e3:.2f} ms; "
        f"{len(config.load.workloads)} workload(s), users as the drill assigns them"
    )
    loop.run(runner)
    say(f"drill worker {config.index}: the drill ended the load")
    return 0
