"""The teardown finds a child forked but not yet exec'd: no Popen, tag or scratch dir names it."""

from __future__ import annotations

import os
import signal
import subprocess

from harness.backends.reaper import unexeced_forks


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
