"""Availability from the clients' own writes (pure): the share of the load's time in which some write was
acknowledged, and each window without one, named by the fault that was acting when it began."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.runbooks.history import History

WRITES = frozenset({"write", "incr", "sadd", "cas", "transfer"})  # op records that change data
MIN_BUCKET_S = 0.5
ENDS = ("restart", "heal")  # faults that end others: never what an outage is blamed on


@dataclass(frozen=True, slots=True)
class Outage:
    start: float  # run clock
    end: float
    during: str  # the fault acting when it began ("no fault": none was)


@dataclass(frozen=True, slots=True)
class Availability:
    share: float  # of the load's time, in buckets, with at least one acknowledged write
    seconds: float  # the load's time judged
    bucket: float  # seconds per bucket: long enough that a healthy load acknowledges a write in each
    outages: tuple[Outage, ...]

    def text(self) -> str:
        windows = "; ".join(f"t={o.start:.1f}-{o.end:.1f}s ({o.during})" for o in self.outages[:4])
        more = f"; {len(self.outages) - 4} more" if len(self.outages) > 4 else ""
        head = f"{self.share:.1%} of {self.seconds:.1f}s with a write acknowledged in every {self.bucket:g}s"
        return head + (f"; without: {windows}{more}" if self.outages else "")


def availability(history: History) -> Availability | None:
    window = history.load_window()
    oks = sorted(float(r["t"]) for r in history.ops if r.get("f") in WRITES and r["type"] == "ok")
    attempts = sum(1 for r in history.ops if r.get("f") in WRITES)
    if window is None or not attempts:
        return None
    start, stop = window
    seconds = stop - start
    bucket = max(MIN_BUCKET_S, 4 * seconds / attempts)  # four writes a bucket on average, at least
    count = max(1, int(seconds // bucket))
    served = [False] * count
    for t in oks:
        index = int((t - start) // bucket)
        if 0 <= index < count:
            served[index] = True
    outages: list[Outage] = []
    index = 0
    while index < count:
        if served[index]:
            index += 1
            continue
        first = index
        while index < count and not served[index]:
            index += 1
        began = start + first * bucket
        outages.append(Outage(round(began, 3), round(start + index * bucket, 3), _acting(history, began)))
    return Availability(sum(served) / count, round(count * bucket, 3), round(bucket, 3), tuple(outages))


def _acting(history: History, at: float) -> str:
    faults = [f for f in history.faults if f.get("action") not in ENDS and float(f["t"]) <= at + 0.001]
    if not faults:
        return "no fault"
    last = faults[-1]
    node = f" -> {last['node']}" if last.get("node") else ""
    return f"{last['action']} {last.get('target', '')}{node}".strip()


def availability_text(data: dict[str, Any]) -> str:
    """The same line from report.json's `availability`."""
    outages = tuple(Outage(**o) for o in data["outages"])
    return Availability(data["share"], data["seconds"], data["bucket"], outages).text()
