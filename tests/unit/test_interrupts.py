"""Ctrl-C is never lost, even when Python swallows the KeyboardInterrupt the signal handler raised."""

from __future__ import annotations

import sys
import weakref

import gevent
import pytest

from harness.cli.interrupts import caused_by_interrupt, redeliver_interrupt


class _Referent:
    pass


def test_an_interrupt_swallowed_by_a_weakref_callback_is_thrown_into_the_main_greenlet_again() -> None:
    """The import system's module-lock callback is a weakref callback: a signal landing in it raises there,
    and Python only reports the exception (a CI run went on to exit 0 after SIGINT)."""
    others: list[sys.UnraisableHookArgs] = []
    previous, sys.unraisablehook = sys.unraisablehook, redeliver_interrupt(others.append)
    try:
        referent = _Referent()

        def interrupted(_: object) -> None:
            raise KeyboardInterrupt  # as _interrupt does when the signal lands here

        reference = weakref.ref(referent, interrupted)
        del referent  # the callback runs and its exception is swallowed: only the hook sees it
        assert reference() is None
        with pytest.raises(KeyboardInterrupt):
            gevent.sleep(1)  # the drill's next wait: the interrupt arrives there
    finally:
        sys.unraisablehook = previous
    assert others == []


def test_other_swallowed_exceptions_go_to_the_previous_hook() -> None:
    others: list[sys.UnraisableHookArgs] = []
    previous, sys.unraisablehook = sys.unraisablehook, redeliver_interrupt(others.append)
    try:
        referent = _Referent()

        def broken(_: object) -> None:
            raise ValueError("a callback's own bug")

        reference = weakref.ref(referent, broken)
        del referent
        assert reference() is None
        gevent.sleep(0.01)  # nothing is thrown
    finally:
        sys.unraisablehook = previous
    assert [type(u.exc_value) for u in others] == [ValueError]


def test_an_interrupt_python_wrapped_in_another_error_is_still_an_interrupt() -> None:
    """Python 3.11 wraps what a descriptor's __set_name__ raises in a RuntimeError: an interrupt landing
    there (while a lazily imported module defines a dataclass) was reported as an internal error, exit 3."""

    class Interrupted:
        def __set_name__(self, owner: type, name: str) -> None:
            raise KeyboardInterrupt

    with pytest.raises(RuntimeError) as raised:

        class Model:
            field = Interrupted()

    assert caused_by_interrupt(raised.value)
    assert not caused_by_interrupt(RuntimeError("a bug"))
