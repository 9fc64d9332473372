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
    bound: float | None  # min(local limit, connections x batch / RTT); None when nothing bounds it

    @property
    def ratio(self) -> float | None:
        return self.cell.ops_per_s / self.bound if self.bound else None


def with_bounds(cells: list[Cell]) -> list[BoundedCell]:
    """Each cell with its bound: the RTT 0 measurement of the same batch and connections caps c x b / RTT."""
    local = {(c.batch, c.connections): c.ops_per_s for c in cells if c.rtt == 0}
    out = []
    for cell in cells:
        cap = local.get((cell.batch, cell.connections))
        if cell.rtt == 0:
            bound = cap
        else:
            latency_bound = cell.connections * cell.batch / cell.rtt
            bound = min(latency_bound, cap) if cap is not None else latency_bound
        out.append(BoundedCell(cell, bound))
    return out


def requests_for(rtt: float, batch: int, connections: int, seconds: float, base_rtt: float = 0.0002) -> int:
    """How many requests make a measurement of about `seconds`, from the model with a small base RTT."""
    estimate = min(2_000_000.0, connections * batch / (rtt + base_rtt))
    return int(min(5_000_000, max(connections * batch * 2, estimate * seconds)))
