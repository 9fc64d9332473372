"""Entry point. gevent's monkey-patching must come before anything imports socket or threading."""

from gevent import monkey

monkey.patch_all()

import signal  # noqa: E402

import gevent  # noqa: E402

from harness.cli import ExitCode, main  # noqa: E402


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
    return code


if __name__ == "__main__":
    raise SystemExit(run())
