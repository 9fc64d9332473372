"""Sweep results and the throughput model they are compared with. Pure."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Cell:
    rtt: float  # seconds added by the latency toxic
    batch: int
    connections: int
    requests: int
    ops_per_s: float


@dataclass(frozen=True, slots=True)
class BoundedCell:
    cell: Cell
    bound: float | None  # c x b / (RTT + c x b / local rate): see with_bounds; None when nothing bounds it

    @property
    def ratio(self) -> float | None:
        return self.cell.ops_per_s / self.bound if self.bound else None


def with_bounds(cells: list[Cell]) -> list[BoundedCell]:
    """Each cell with its bound: with the added RTT, a round trip of `connections x batch` commands takes the
    RTT plus what the same round trip takes locally (the RTT 0 measurement of that batch and connections),
    so the bound is c x b / (RTT + c x b / local). Without a local measurement: c x b / RTT."""
    local = {(c.batch, c.connections): c.ops_per_s for c in cells if c.rtt == 0}
    out = []
    for cell in cells:
        rate = local.get((cell.batch, cell.connections))
        if cell.rtt == 0:
            bound = rate
        else:
            in_flight = cell.connections * cell.batch
            bound = in_flight / (cell.rtt + (in_flight / rate if rate else 0.0))
        out.append(BoundedCell(cell, bound))
    return out


def requests_for(rtt: float, batch: int, connections: int, seconds: float, base_rtt: float = 0.0002) -> int:
    """How many requests make a measurement of about `seconds`, from the model with a small base RTT: whole
    batches, since redis-benchmark sends whole pipelines and counts every reply, and aborts ("All clients
    disconnected") when its clients are done with a count other than -n."""
    estimate = min(2_000_000.0, connections * batch / (rtt + base_rtt))
    requests = int(min(5_000_000, max(connections * batch * 2, estimate * seconds)))
    return -(-requests // batch) * batch
