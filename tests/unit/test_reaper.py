"""The teardown finds a child forked but not yet exec'd: no Popen, tag or scratch dir names it; and
`drill cleanup` leaves a run alone that is still starting."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from harness.backends.reaper import owner_alive, unexeced_forks
from harness.core.run_context import RUN_ID_TIME


def test_a_fork_that_has_not_execd_is_found_and_an_execd_child_is_not() -> None:
    read_end, write_end = os.pipe()
    fork = os.fork()
    if fork == 0:  # the child stays ours, unexec'd, until the parent closes the pipe
        os.close(write_end)
        os.read(read_end, 1)
        os._exit(0)
    os.close(read_end)
    execd = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    try:
        found = unexeced_forks()
        assert fork in found
        assert execd.pid not in found
    finally:
        os.close(write_end)
        os.waitpid(fork, 0)
        execd.send_signal(signal.SIGTERM)
        execd.communicate(timeout=10)
    assert fork not in unexeced_forks()


def test_a_run_without_its_owner_file_is_alive_only_while_it_is_starting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between making its scratch dir and writing owner.pid, a starting run has no owner file: a cleanup
    then (another drill's, in a parallel CI job) must not take it. A run that old without one is dead."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    starting = f"{time.strftime(RUN_ID_TIME)}-abcdef"
    old = "19990101-000000-c0ffee"
    for run_id in (starting, old):
        (tmp_path / "redis-drill" / run_id).mkdir(parents=True)
    assert owner_alive(starting)
    assert not owner_alive(old)
    (tmp_path / "redis-drill" / starting / "owner.pid").write_text("999999999")  # a pid no process has
    assert not owner_alive(starting)
    (tmp_path / "redis-drill" / starting / "owner.pid").write_text(str(os.getppid()))
    assert owner_alive(starting)
