"""The run's dead man's switch: a process of its own (`python -m harness.backends.watchdog JOURNAL PID`,
in its own session, tagged with the run id) that reads the run's undo journal and undoes each entry when
its fault's `max:` runs out, or at once when the harness process is gone. It leaves when the harness closes
the journal, or when nothing is left to undo and the harness is gone or every deadline has passed: it never
outlives the longest `max:` by more than a few seconds."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from harness.backends.netfilter import delete_table
from harness.backends.reaper import register_pid
from harness.core.errors import BackendError
from harness.core.observation_log import ObservationLog
from harness.core.run_context import RunContext
from harness.core.undo_journal import JOURNAL, Undo, UndoJournal, read_journal

POLL_S = 0.2
LINGER_S = 2.0  # after the last deadline with nothing left to undo


def start_watchdog(run: RunContext, log: ObservationLog) -> subprocess.Popen[bytes]:
    """Start the run's watchdog, detached from the harness (its own session: a Ctrl-C or a kill of the
    harness's process group does not reach it), tagged with the run id for `drill cleanup`. It writes a
    fault_end record for each fault it ends into the run's log, on the run's clock."""
    args = [str(run.work_dir / JOURNAL), str(os.getpid()), str(log.path), repr(log.start)]
    process = subprocess.Popen(
        [sys.executable, "-m", "harness.backends.watchdog", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=(run.run_dir / "logs" / "watchdog.log").open("ab"),
        env=run.process_env(),
        start_new_session=True,
    )
    register_pid(run.work_dir, "watchdog", process.pid)
    return process


class DeadMansSwitch:
    """The harness's side: arm a fault with what undoes it and by when (the watchdog is started, or started
    again, as needed), disarm it when the harness ends it itself, close at teardown."""

    def __init__(self, run: RunContext, log: ObservationLog) -> None:
        self._run = run
        self._log = log
        self._journal = UndoJournal(run.work_dir / JOURNAL)
        self._process: subprocess.Popen[bytes] | None = None

    def arm(self, fault: int, action: str, undos: list[tuple[str, dict[str, Any]]], deadline: float) -> None:
        for op, args in undos:
            self._journal.add(Undo(fault, action, op, args, deadline))
        if undos and (self._process is None or self._process.poll() is not None):
            self._process = start_watchdog(self._run, self._log)

    def disarm(self, fault: int) -> None:
        if self._process is not None:
            self._journal.done(fault)

    def close(self) -> None:
        """Teardown is over (the backend healed and thawed everything itself): the watchdog leaves."""
        if self._process is None:
            return
        with contextlib.suppress(OSError):  # the scratch dir is gone: the watchdog has found no journal
            self._journal.close()
        try:
            self._process.wait(timeout=2 * POLL_S + 1)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def undo(entry: Undo) -> None:
    """Carry one entry out; what is already undone (a table gone, a process gone) is fine."""
    if entry.op == "nft-delete-chain":
        delete_table(str(entry.args["table"]), entry.args.get("namespace"), str(entry.args["chain"]))
    elif entry.op == "sigcont":
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(entry.args["pid"]), signal.SIGCONT)
    else:
        raise BackendError(f"the watchdog does not know how to undo {entry.op!r}")


def watch(journal: Path, harness_pid: int, log: ObservationLog) -> int:
    undone: set[tuple[int, str, str]] = set()
    ended: set[int] = set()
    while True:
        pending = read_journal(journal)
        if pending.closed:
            return 0
        harness_gone = not os.path.exists(f"/proc/{harness_pid}")
        now = time.time()
        left = 0
        for entry in pending.undos:
            key = (entry.fault, entry.op, repr(sorted(entry.args.items())))
            if key in undone:
                continue
            if harness_gone or now >= entry.deadline:
                why = "the harness is gone" if harness_gone else "its max ran out"
                try:
                    undo(entry)
                    outcome = f"ended by the watchdog: {why}"
                except (BackendError, OSError) as exc:
                    outcome = f"the watchdog could not end it ({why}): {exc}"
                print(f"{time.strftime('%H:%M:%S')} fault {entry.fault} {entry.op} {entry.args}: {outcome}",
                      file=sys.stderr, flush=True)  # fmt: skip
                undone.add(key)
                if entry.fault not in ended:  # one record per fault, however many undos it had
                    ended.add(entry.fault)
                    log.fault_end(entry.fault, entry.action, outcome=outcome)
                    log.flush()
            else:
                left += 1
        last = max((u.deadline for u in pending.undos), default=0.0)
        if left == 0 and (harness_gone or now > last + LINGER_S):
            return 0
        time.sleep(POLL_S)


def main(argv: list[str]) -> int:
    journal, harness_pid, log_path, start = Path(argv[0]), int(argv[1]), Path(argv[2]), float(argv[3])
    log = ObservationLog(log_path, start)  # the run's own log, on its clock (monotonic is machine-wide)
    try:
        return watch(journal, harness_pid, log)
    finally:
        log.close()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
