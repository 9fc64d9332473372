"""Runbook checks, one definition each: a parameters class and a pure function over the history.

Every module of this package may define checks with `@check(Params)`; `all_checks()` finds them, and the
runbook loader, `drill kinds` and evaluation all read that one catalogue. Adding a check is adding one
function and its parameters class to a module here.
"""
