"""Remote load workers' pure parts: the clock alignment, the forwarded log's lines, the CLI's refusals."""

from __future__ import annotations

import json
import time

import pytest

from harness.cli.main import main
from harness.core.log_records import LoadRecord
from harness.load.forwarded_log import ForwardedLog
from harness.load.remote_worker import best_alignment
from tests.conftest import ROOT


def test_alignment_takes_the_probe_with_the_shortest_round_trip() -> None:
    # (sent, the drill's reading, received) on the worker's clock, the drill's 100 s ahead of it.
    samples = [(0.0, 100.004, 0.010), (1.0, 101.0005, 1.001), (2.0, 102.03, 2.050)]
    origin, uncertainty = best_alignment(samples)
    assert origin == pytest.approx(-100.0, abs=1e-9)  # the drill's clock read 0 at the worker's -100.0
    assert uncertainty == pytest.approx(0.0005)


def test_forwarded_lines_are_the_log_s_lines_on_the_drill_s_clock() -> None:
    sent: list[list[str]] = []
    log = ForwardedLog(sent.append)
    log.align(time.monotonic() - 1000.0)  # the drill's clock started 1000 s ago
    record = LoadRecord(t=log.now(), kind="load", phase="stop")
    assert 1000 <= record["t"] < 1010
    log.write(record)
    assert sent == []  # held until a flush (or 64 KiB)
    log.flush()
    (lines,) = sent
    assert [json.loads(line) for line in lines] == [
        {"t": round(record["t"], 6), "kind": "load", "phase": "stop"}
    ]
    assert lines[0].endswith("\n") and " " not in lines[0]
    log.close()
    log.write(LoadRecord(t=0.0, kind="load", phase="start"))
    log.flush()
    assert len(sent) == 1  # after close: dropped, as the log drops a late greenlet's records


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--master-bind", "127.0.0.1:5557"], "--master-bind goes with --workers N"),
        (["--workers", "1", "--master-bind", "nowhere"], "expected HOST:PORT"),
        (["--workers", "0"], "expected a whole number of at least 1"),
        (["--workers", "1", "--secure"], "is secured"),
    ],
)
def test_remote_worker_options_refused_before_anything_starts(
    extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", str(ROOT / "scenarios" / "primary-failover.yaml"), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_worker_needs_a_master_address(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["worker", "--master", "5557"]) == 2
    assert "expected HOST:PORT" in capsys.readouterr().err
