"""drill bench load's figures and table: pure, so the table's format is tested without Locust."""

from __future__ import annotations

from dataclasses import dataclass

from tabulate import tabulate

CONNECTIONS = 10
GOALS = {1: 0.5, 16: 0.9, 100: 0.9}
ROUNDS = 3


@dataclass(frozen=True, slots=True)
class LoadBenchRow:
    batch: int
    benchmark_rps: float
    harness_rps: float
    bare_rps: float = 0.0

    @property
    def ratio(self) -> float:
        return self.harness_rps / self.benchmark_rps if self.benchmark_rps else 0.0

    @property
    def bookkeeping(self) -> float:
        """The harness users' rate as a share of the bare user's: what the bookkeeping leaves."""
        return self.harness_rps / self.bare_rps if self.bare_rps else 0.0


def render(rows: list[LoadBenchRow], connections: int = CONNECTIONS, cluster: bool = False) -> str:
    table = [
        (
            "SET" if row.batch == 1 else f"SET pipeline {row.batch}",
            f"{row.benchmark_rps:,.0f}",
            f"{row.harness_rps:,.0f}",
            f"{row.ratio:.2f}",
            f">= {GOALS[row.batch]:.2f}",
            f"{row.bare_rps:,.0f}" if row.bare_rps else "-",
            f"{row.bookkeeping:.2f}" if row.bare_rps else "-",
        )
        for row in rows
    ]
    headers = [
        "command",
        "redis-benchmark ops/s",
        "harness users ops/s",
        "ratio",
        "goal",
        "bare user ops/s",
        "harness / bare",
    ]
    server = "same fresh 3-primary cluster (--cluster)" if cluster else "same fresh redis-server"
    title = f"{connections} connections each, {server}, medians of {ROUNDS} alternating runs\n"
    return title + tabulate(table, headers=headers, tablefmt="simple", disable_numparse=True)
