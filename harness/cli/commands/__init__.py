"""The verbs, in the order `drill --help` lists them: the parser is built from this registry."""

from __future__ import annotations

from harness.cli.command import Command
from harness.cli.commands import (
    audit,
    bench,
    cleanup,
    engines,
    evaluate,
    image,
    init,
    kinds,
    listing,
    matrix,
    node,
    plan,
    proxy,
    report,
    run,
    schema,
    shrink,
    validate,
    worker,
)

COMMANDS: tuple[Command, ...] = tuple(
    m.COMMAND
    for m in (
        run,
        plan,
        init,
        worker,
        validate,
        proxy,
        audit,
        listing,
        kinds,
        schema,
        node,
        evaluate,
        shrink,
        report,
        bench,
        cleanup,
        engines,
        matrix,
        image,
    )
)
