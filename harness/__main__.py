"""Entry point. gevent's monkey-patching must come before anything imports socket or threading."""

from gevent import monkey

monkey.patch_all()

from harness.cli import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
