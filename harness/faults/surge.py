"""surge: a traffic surge, more load users for a while (SEED-FACTS' ops/s-against-baseline thresholds).
The extra users run the scenario's own workloads through the load runner; nothing on the servers is touched.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from harness.core.observation_log import ObservationLog
from harness.faults.timeline import ScheduledFault

Surge = Callable[[int, float], None]  # (extra users, seconds): LoadRunner.surge


class SurgeFaults:
    def __init__(self, surge: Surge | None, log: ObservationLog) -> None:
        self._surge = surge
        self._log = log

    def apply(self, fault: ScheduledFault) -> str:
        spec = fault.spec.surge
        if spec is None or self._surge is None:  # validation refuses both; this guards programmatic use
            raise RuntimeError("surge fault without a surge spec or a load to grow")
        invoked = self._log.now()
        self._surge(spec.users, spec.seconds)
        self._log.fault(
            invoked, fault.index, "surge", "primary", None, users=spec.users, seconds=spec.seconds
        )
        timer = threading.Timer(spec.seconds, self._ended, args=(fault.index, spec.users))
        timer.daemon = True
        timer.start()
        return "primary"

    def _ended(self, index: int, users: int) -> None:
        self._log.fault_end(index, "surge", users=users)
