"""Runbook files: detect and verify steps (checks from the check registry) and the live procedure."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from harness.core.errors import Problem
from harness.scenario.check_kinds import CHECK_PARAMS
from harness.scenario.durations import parse_bound, parse_duration
from harness.scenario.fields import Cursor, choice, text
from harness.scenario.files import parse_file
from harness.scenario.model import (
    Action,
    Response,
    Runbook,
    Step,
)
from harness.scenario.params import parse_argv, parse_reply_class, read_params
from harness.scenario.procedure_kinds import GATHERERS, REMEDIATIONS, STEP_OPTION, TRIGGERS

# The keys each part of a runbook file takes (the loader's and `drill schema`'s one list).
RUNBOOK_KEYS = ("name", "detect", "respond", "verify")
RESPOND_KEYS = ("when", "steps")
ACTION_KINDS = ("gather", "remediate", "run")
RUN_KEYS = ("command", "timeout")


def runbook_file(path: Path, problems: list[Problem]) -> Runbook | None:
    cur = parse_file(path, problems)
    if cur is None:
        return None
    if not cur.mapping(RUNBOOK_KEYS, "runbook settings"):
        return None
    name = cur.get("name", text)
    before = len(problems)
    detect = (
        tuple(s for s in (_step(c) for c in cur.child("detect").items()) if s)
        if "detect" in cur.value
        else ()
    )
    verify = (
        tuple(s for s in (_step(c) for c in cur.child("verify").items()) if s)
        if "verify" in cur.value
        else ()
    )
    if not detect and not verify and len(problems) == before:
        cur.error("a runbook needs at least one step under detect or verify")
    for section, steps in (("detect", detect), ("verify", verify)):
        for index, step in enumerate(steps):
            if step.check == "program" and (
                found := program_problem(program_path(step.params.command[0], path.parent))
            ):
                where = f"{section}[{index}].program.command"
                problems.append(Problem(str(path), step.line, where, found))
    respond = _response(cur.child("respond")) if "respond" in cur.value else None
    if name is None or len(problems) > before:
        return None
    return Runbook(file=path, name=name, detect=detect, verify=verify, respond=respond)


def _step(cur: Cursor) -> Step | None:
    checks = CHECK_PARAMS
    value = cur.value
    if not isinstance(value, dict) or len(value) != 1:
        cur.error(f"a step is a mapping with exactly one check name (one of: {', '.join(checks)})")
        return None
    name = next(iter(value))
    if name not in checks:
        cur.error(f"unknown check (expected one of: {', '.join(checks)})", name)
        return None
    params = cur.child(name)
    line = cur.source.line(params.path)
    parsed = read_params(params, checks[name], extra=("within",))
    within = params.get("within", parse_bound, None) if isinstance(params.value, dict) else None
    if parsed is None or (isinstance(params.value, dict) and "within" in params.value and within is None):
        return None
    return Step(check=name, line=line, params=parsed, within=within)


def _response(cur: Cursor) -> Response | None:
    """respond: {when: {reply: BUSY, within: 15s}, steps: [{gather: slowlog}, {remediate: script-kill}]}"""
    if not cur.mapping(RESPOND_KEYS, "respond settings"):
        return None
    for field in ("when", "steps"):
        if field not in cur.value:
            cur.error("required field is missing", field)
            return None
    when = cur.child("when")
    given = [k for k in TRIGGERS if isinstance(when.value, dict) and k in when.value]
    if len(given) != 1:
        when.error(f"give exactly one trigger: {', '.join(TRIGGERS)}")
        return None
    trigger = read_params(when, TRIGGERS[given[0]][0], what=f"respond.when ({given[0]}) settings")
    steps = [_action(c) for c in cur.child("steps").items()]
    if trigger is None or None in steps:
        return None
    return Response(trigger, tuple(s for s in steps if s is not None))


def _action(cur: Cursor) -> Action | None:
    value = cur.value
    kinds = [k for k in ACTION_KINDS if isinstance(value, dict) and k in value]
    if len(kinds) != 1:
        cur.error(f"a respond step has exactly one of gather, remediate, run (and optionally {STEP_OPTION})")
        return None
    kind = kinds[0]
    if kind == "run":
        return _run_step(cur)
    catalogue = GATHERERS if kind == "gather" else REMEDIATIONS
    step = cur.get(kind, choice(*catalogue))
    if step is None:
        return None
    arguments = read_params(cur, catalogue[step][0], extra=(kind, STEP_OPTION), what=f"{step} step")
    if_still = cur.get(STEP_OPTION, parse_reply_class, "")
    if arguments is None or if_still is None:
        return None
    line = cur.source.line((*cur.path, kind))
    return Action(kind, str(step), line, str(if_still), str(getattr(arguments, "argument", "")))


def _run_step(cur: Cursor) -> Action | None:
    """run: {command: [scripts/restart-node.sh, ARG...], timeout: 30s}: the team's own program. A command
    naming a path is resolved against the runbook's directory; a bare name is looked up on PATH."""
    if not cur.mapping(("run", STEP_OPTION), "run step"):
        return None
    sub = cur.child("run")
    if not sub.mapping(RUN_KEYS, "run settings"):
        return None
    argv = sub.get("command", parse_argv)
    timeout = sub.get("timeout", parse_duration, 30.0)
    if_still = cur.get(STEP_OPTION, parse_reply_class, "")
    if argv is None or timeout is None or if_still is None:
        return None
    path = program_path(argv[0], Path(cur.source.file).parent)
    if (problem := program_problem(path)) is not None:
        sub.error(problem, "command")
        return None
    line = cur.source.line((*cur.path, "run"))
    return Action("run", path.name, line, str(if_still), "", (str(path), *argv[1:]), float(timeout))


def program_path(program: str, base: Path) -> Path:
    """A runbook's program: a path relative to the runbook's directory, or a bare name found on PATH."""
    if "/" in program:
        return Path(os.path.normpath(base / program))
    found = shutil.which(program)
    return Path(found) if found else Path(program)


def program_problem(path: Path) -> str | None:
    if not path.is_file():
        return f"{path} not found"
    if not os.access(path, os.X_OK):
        return f"{path} is not executable (chmod +x it)"
    return None
