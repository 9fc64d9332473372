"""Ctrl-C and SIGTERM end a run in the main greenlet, wherever the signal lands."""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import FrameType

import gevent


def interrupt(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C and SIGTERM end the run in the main greenlet, whichever greenlet the signal lands in: raised
    in a (monkey-patched) thread, a thread's excepthook would swallow it and the drill would run on."""
    main_greenlet = gevent.get_hub().parent
    if main_greenlet is None or gevent.getcurrent() is main_greenlet:
        raise KeyboardInterrupt
    throw_when_main_waits()


def throw_when_main_waits() -> bool:
    """KeyboardInterrupt thrown into the main greenlet when it next yields to the hub (False: no hub
    parent to throw into)."""
    hub = gevent.get_hub()
    if hub.parent is None:
        return False
    hub.loop.run_callback(hub.parent.throw, KeyboardInterrupt)
    return True


def caused_by_interrupt(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(16):  # a chain is short; a cycle is not followed forever
        if seen is None:
            return False
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def redeliver_interrupt(
    default: Callable[[sys.UnraisableHookArgs], object],
) -> Callable[[sys.UnraisableHookArgs], None]:
    """A hook for exceptions Python swallows: one raised by `interrupt` while the interpreter ran a weakref
    callback or a __del__ (the import system's module-lock callback, say: seen in CI as an interrupt the drill
    ignored, running on to exit 0) is thrown into the main greenlet again, when it next waits."""

    def hook(unraisable: sys.UnraisableHookArgs) -> None:
        if not (isinstance(unraisable.exc_value, KeyboardInterrupt) and throw_when_main_waits()):
            default(unraisable)

    return hook
