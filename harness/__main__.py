"""Entry point. gevent's monkey-patching must come before anything imports socket or threading."""

from gevent import monkey

monkey.patch_all()

import gevent  # noqa: E402

from harness.cli import main  # noqa: E402


def run() -> int:
    # Ctrl-C is handled by cli.py (teardown, exit 130); the hub need not print it as an error too.
    hub = gevent.get_hub()
    hub.NOT_ERROR = (*hub.NOT_ERROR, KeyboardInterrupt)
    return main()


if __name__ == "__main__":
    raise SystemExit(run())
