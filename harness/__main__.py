"""Entry point. gevent's monkey-patching must come before anything imports socket or threading.

Ctrl-C and SIGTERM are answered from the first line: while Python imports the harness (about a second)
nothing has started, so the process just says so and exits 130; cli.main then installs the handlers that
tear a run down.
"""

import os
import signal
import sys


def _interrupted_while_importing(signum: int, frame: object) -> None:
    # Not an exception: raised inside the import system it can be swallowed, or wrapped in another error.
    os.write(sys.stderr.fileno(), b"drill: interrupted before anything started\n")
    os._exit(130)


signal.signal(signal.SIGINT, _interrupted_while_importing)
signal.signal(signal.SIGTERM, _interrupted_while_importing)

from gevent import monkey  # noqa: E402

monkey.patch_all()

import gevent  # noqa: E402

from harness.cli.main import ExitCode, main  # noqa: E402


def run() -> int:
    # Ctrl-C is handled by cli.py (teardown, exit 130); the hub need not print it as an error too.
    hub = gevent.get_hub()
    hub.NOT_ERROR = (*hub.NOT_ERROR, KeyboardInterrupt)
    try:
        code = main()
    except KeyboardInterrupt:
        # One Ctrl-C can reach the main greenlet twice: raised there, and thrown again by the hub when the
        # signal hit another greenlet first. The first one already tore the run down and said so; seen once
        # in CI as an exit by SIGINT instead of 130.
        code = ExitCode.INTERRUPTED
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # teardown is done: the outcome stands
    if code == ExitCode.INTERRUPTED:
        # Leave without the interpreter's own finalisation: after an interrupt it ended the process by
        # SIGINT instead of exit 130 (after every exit handler had run) in 3-6 of 40 Ctrl-Cs on a busy
        # machine, and in none of 40 when the process left here. Nothing is left to flush but these two.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    raise SystemExit(run())
