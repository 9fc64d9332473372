"""Scenario files: environment, load, faults, runbooks, expectations, alerts."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, cast

from harness.core.errors import Problem
from harness.scenario.durations import Bound, parse_bound, parse_duration
from harness.scenario.environment_file import environment_of
from harness.scenario.fault_entries import check_targets, fault_entry
from harness.scenario.fields import Cursor, Invalid, boolean, integer, number, text
from harness.scenario.files import parse_file, referenced
from harness.scenario.model import (
    MAX_MARGIN_S,
    NO_RETRY,
    AlertsSpec,
    Environment,
    Expectation,
    FaultSpec,
    IncidentSpec,
    LoadSpec,
    NemesisFault,
    NemesisSpec,
    RetryPolicy,
    Runbook,
    Scenario,
    Step,
    StopCondition,
    WorkloadKind,
    WorkloadSpec,
)
from harness.scenario.nemesis import NEMESIS_ACTIONS, default_runbook, draw, timeline
from harness.scenario.params import read_params
from harness.scenario.procedure_kinds import AlertTrigger
from harness.scenario.runbook_file import runbook_file
from harness.scenario.stop_kinds import STOP_CONDITIONS, AlertFiring, MaxDuration
from harness.scenario.workload_kinds import WORKLOAD_KINDS
from harness.scenario.yamlsource import Source

# Retry presets from SEED-FACTS.md ("Client retry policy").
RETRY_PRESETS = {
    "none": NO_RETRY,
    "production": RetryPolicy("production", 3, 1.0, 8.0, ("timeout", "connection")),
    "operations": RetryPolicy("operations", 3, 0.5, 4.0, ("timeout", "connection", "BUSY")),
}


RETRYABLE_CLASSES = ("timeout", "connection", "BUSY", "LOADING", "READONLY", "MASTERDOWN", "TRYAGAIN")

# The keys each part of a scenario file takes (the loader's and `drill schema`'s one list).
SCENARIO_KEYS = (
    "name", "description", "environment", "seed", "load", "faults", "runbooks", "expect", "alerts",
    "abort_if", "nemesis", "incidents",
)  # fmt: skip
INCIDENT_KEYS = ("name", "faults", "runbooks")
NEMESIS_KEYS = ("every", "jitter", "heal_after", "faults")
NEMESIS_ENTRY_KEYS = ("weight", "runbooks")  # beside the fault's own
ALERTS_KEYS = ("time_scale", "scrape_interval", "page")
LOAD_KEYS = ("workloads", "spawn_rate", "duration", "timeout", "retry", "processes")
RETRY_KEYS = ("retries", "base", "cap", "on")
EXPECT_KEYS = ("detection_within", "recovery_within", "lost_acknowledged_writes", "clients_ride_out")

# How much later than down-after-milliseconds detection may come when a scenario asks for "from_config":
# Sentinel counts down-after from its first unanswered ping, and it pings (and reconnects a dropped link) at
# most once a second, so that ping can leave up to 1 s after the fault; its timer adds up to 100 ms.
DETECTION_SLACK_S = 1.5


def scenario_file(path: Path, problems: list[Problem], engine: str | None = None) -> Scenario | None:
    cur = parse_file(path, problems)
    if cur is None:
        return None
    if not cur.mapping(SCENARIO_KEYS, "scenario settings"):
        return None
    name = cur.get("name", text)
    description = cur.get("description", text, "")
    environment = environment_of(cur, problems, engine)
    seed = cur.get("seed", integer(0), 0)
    load = _load(cur.child("load")) if "load" in cur.value else cur.get("load", text)
    faults = (
        tuple(f for f in (fault_entry(c) for c in cur.child("faults").items()) if f)
        if "faults" in cur.value
        else ()
    )
    runbooks = _runbooks(cur, problems)
    expect = _expect(cur.child("expect")) if "expect" in cur.value else Expectation(None, None, None)
    alerts = _alerts(cur.child("alerts")) if "alerts" in cur.value else None
    abort_if = (
        tuple(c for c in map(stop_condition, cur.child("abort_if").items()) if c)
        if "abort_if" in cur.value
        else ()
    )
    paged = [r for r in runbooks if r.respond is not None and isinstance(r.respond.trigger, AlertTrigger)]
    if paged and (alerts is None or not alerts.page):
        cur.error(f"{paged[0].name} starts on a page; add alerts: {{time_scale: N, page: true}}", "runbooks")
    steps = [s for r in runbooks for s in (*r.detect, *r.verify)]
    if "alerts" not in cur.value and any(s.check in ("alert", "page") for s in steps):
        cur.error("a runbook checks alerts; add alerts: {time_scale: N} so Prometheus runs", "runbooks")
    guards = cur.child("abort_if").items() if "abort_if" in cur.value else []
    for guard in guards:
        if "alerts" not in cur.value and isinstance(guard.value, dict) and "alert" in guard.value:
            guard.error("an alert stop condition needs alerts: {time_scale: N} so Prometheus runs", "alert")
    if isinstance(load, LoadSpec):
        _check_times(cur.child("faults"), faults, load)
    incidents: tuple[IncidentSpec, ...] = ()
    if "incidents" in cur.value:
        if "faults" in cur.value or "nemesis" in cur.value or runbooks:
            cur.error("give incidents, or faults (with runbooks), or a nemesis: one of them", "incidents")
        faults, incidents = _incidents(cur, problems, load, environment)
    nemesis = _nemesis(cur, problems) if "nemesis" in cur.value else None
    if nemesis is not None:
        if "faults" in cur.value:
            cur.error("give faults or a nemesis, not both (the nemesis draws the faults)", "nemesis")
        if runbooks:
            cur.error("with a nemesis, runbooks go with each fault of its catalogue", "runbooks")
        if isinstance(load, LoadSpec):
            faults = timeline(draw(nemesis, load.duration, int(seed or 0)))
            if not faults:
                cur.error(
                    f"the load ({load.duration:g}s) is too short for one fault of the nemesis", "nemesis"
                )
        if environment is not None:
            check_targets(cur.child("nemesis"), tuple(f.spec for f in nemesis.faults), environment)
        incidents = tuple(IncidentSpec(entry.label, entry.runbooks) for entry in nemesis.faults)
    if environment is not None and nemesis is None and not incidents:
        check_targets(cur, faults, environment)
        _check_bound_names(cur, runbooks, expect, environment)
    if sum(f.incident for f in faults) > 1:
        cur.error("mark at most one fault as the incident", "faults")
    if problems or not isinstance(load, LoadSpec) or environment is None or expect is None:
        return None
    return Scenario(
        file=path,
        name=str(name),
        description=str(description),
        environment=environment,
        seed=int(seed or 0),
        load=load,
        faults=faults,
        runbooks=tuple(runbooks),
        expect=expect,
        alerts=alerts,
        abort_if=abort_if,
        nemesis=nemesis,
        incidents=incidents,
    )


def _check_times(where: Cursor, faults: tuple[FaultSpec, ...], load: LoadSpec) -> None:
    """Each fault fires before the load ends, and its max: ends before the drill does; `where`: the list."""
    for i, fault in enumerate(faults):
        if fault.max is not None and fault.at + fault.jitter + fault.max > load.duration + MAX_MARGIN_S:
            where.child(i).error(
                f"max {fault.max:g}s would let the fault outlive the drill: it fires by "
                f"{fault.at + fault.jitter:g}s and the drill ends by {load.duration:g}s + "
                f"{MAX_MARGIN_S:g}s (read-back and teardown)",
                "max",
            )
        if fault.at + fault.jitter >= load.duration:
            where.child(i).error(
                f"fault at {fault.at:g}s (+ jitter {fault.jitter:g}s) is not before the load ends "
                f"({load.duration:g}s)",
                "at",
            )


def _incidents(
    cur: Cursor, problems: list[Problem], load: Any, environment: Environment | None
) -> tuple[tuple[FaultSpec, ...], tuple[IncidentSpec, ...]]:
    """incidents: [{name, faults: [...], runbooks: [...]}, ...]: each its own faults (the earliest starts
    it: its times are measured from that one) and its own runbooks."""
    faults: list[FaultSpec] = []
    specs: list[IncidentSpec] = []
    for place, item in enumerate(cur.child("incidents").items()):
        if not item.mapping(INCIDENT_KEYS, "incident settings"):
            continue
        name = item.get("name", text, f"incident {place + 1}")
        if "faults" not in item.value:
            item.error("required field is missing", "faults")
            continue
        own = tuple(f for f in (fault_entry(c) for c in item.child("faults").items()) if f)
        if not own or name is None:
            continue
        if isinstance(load, LoadSpec):
            _check_times(item.child("faults"), own, load)
        if environment is not None:
            check_targets(item, own, environment)
        first = min(range(len(own)), key=lambda i: own[i].at)
        faults += [
            dataclasses.replace(f, starts_incident=len(specs)) if i == first else f for i, f in enumerate(own)
        ]
        specs.append(IncidentSpec(str(name), tuple(_runbooks(item, problems))))
    if not specs and "incidents" in cur.value:
        cur.child("incidents").error("list at least one incident with its faults")
    return tuple(faults), tuple(specs)


def _nemesis(cur: Cursor, problems: list[Problem]) -> NemesisSpec | None:
    """nemesis: {every: 10s, jitter: 3s, heal_after: 3s..8s, faults: [{kill: primary, weight: 2, runbooks:
    [...]}, ...]}"""
    sub = cur.child("nemesis")
    if not sub.mapping(NEMESIS_KEYS, "nemesis settings"):
        return None
    every = sub.get("every", parse_duration)
    jitter = sub.get("jitter", parse_duration, 0.0)
    heal_after = sub.get("heal_after", _duration_range)
    entries: list[NemesisFault] = []
    for item in sub.child("faults").items() if "faults" in sub.value else []:
        spec = fault_entry(item, timed=False, extra=NEMESIS_ENTRY_KEYS)
        weight = item.get("weight", number(0.0, 1e6), 1.0) if isinstance(item.value, dict) else None
        books = _runbooks(item, problems) if isinstance(item.value, dict) else []
        if spec is None or weight is None:
            continue
        if "runbooks" not in item.value and (shipped := default_runbook(spec)) is not None:
            book = runbook_file(shipped, problems)  # the kind's shipped runbook; runbooks: [] for none
            books += [book] if book else []
        if spec.action not in NEMESIS_ACTIONS:
            item.error(f"a nemesis draws only faults it can end: {', '.join(NEMESIS_ACTIONS)}", spec.action)
            continue
        entries.append(NemesisFault(spec, float(weight), tuple(books)))
    if "faults" not in sub.value:
        sub.error("required field is missing", "faults")
    if every is None or jitter is None or heal_after is None or not entries:
        return None
    if every <= 0 or jitter >= every:
        sub.error("expected every > 0 and jitter < every", "jitter" if every > 0 else "every")
        return None
    if every < heal_after[1]:  # the next fault waits for the heal: `every` would silently not hold
        sub.error(
            f"every ({every:g}s) is shorter than heal_after's longest ({heal_after[1]:g}s): a nemesis's"
            " faults never overlap (each waits for the last one's heal); make every at least that long",
            "every",
        )
        return None
    return NemesisSpec(float(every), float(jitter), heal_after, tuple(entries))


def _runbooks(cur: Cursor, problems: list[Problem]) -> list[Runbook]:
    """runbooks: [PATH, ...] under `cur`, each loaded (its problems reported with its own file)."""
    books: list[Runbook] = []
    for ref in cur.child("runbooks").items() if "runbooks" in cur.value else []:
        book_path = referenced(ref)
        book = runbook_file(book_path, problems) if book_path else None
        if book:
            books.append(book)
    return books


def _duration_range(value: Any) -> tuple[float, float]:
    """3s..8s: a range of durations (drawn uniformly)."""
    low, sep, high = str(value).partition("..")
    if not sep:
        raise Invalid(f"expected a range of durations such as 3s..8s, got {value!r}")
    first, last = parse_duration(low.strip()), parse_duration(high.strip())
    if not 0 < first <= last:
        raise Invalid(f"expected 0 < the first <= the last, got {value!r}")
    return first, last


def stop_condition(cur: Cursor) -> StopCondition | None:
    """One abort_if entry: {KIND: {params}}, or max_duration: DURATION."""
    value = cur.value
    if not isinstance(value, dict) or len(value) != 1:
        cur.error(f"expected one stop condition as {{KIND: {{...}}}} (KIND: {', '.join(STOP_CONDITIONS)})")
        return None
    (kind,) = value
    if kind not in STOP_CONDITIONS:
        cur.error(f"unknown stop condition (expected one of: {', '.join(STOP_CONDITIONS)})", str(kind))
        return None
    params_type, _ = STOP_CONDITIONS[kind]
    inner = cur.child(kind)
    if kind == "max_duration" and not isinstance(inner.value, dict):
        seconds = cur.get(kind, parse_duration)
        return (
            None if seconds is None else StopCondition(kind, MaxDuration(seconds), cur.source.line(cur.path))
        )
    if kind == "alert" and not isinstance(inner.value, dict):
        rule = cur.get(kind, text)
        return None if rule is None else StopCondition(kind, AlertFiring(rule), cur.source.line(cur.path))
    params = read_params(inner, params_type, what=f"{kind} settings")
    return None if params is None else StopCondition(kind, params, cur.source.line(cur.path))


def _alerts(cur: Cursor) -> AlertsSpec | None:
    """alerts: {time_scale: 30, scrape_interval: 500ms}"""
    if not cur.mapping(ALERTS_KEYS, "alerts settings"):
        return None
    scale = cur.get("time_scale", number(1.0, 3600.0), 1.0)
    interval = cur.get("scrape_interval", parse_duration, 0.5)
    page = cur.get("page", boolean, False)
    if scale is None or interval is None or page is None:
        return None
    if interval < 0.1:
        cur.error("expected at least 100ms", "scrape_interval")
        return None
    return AlertsSpec(float(scale), float(interval), bool(page))


def _load(cur: Cursor) -> LoadSpec | None:
    if not cur.mapping(LOAD_KEYS, "load settings"):
        return None
    workloads = _workloads(cur.child("workloads")) if "workloads" in cur.value else None
    if "workloads" not in cur.value:
        cur.error("required field is missing", "workloads")
    users = sum(w.users for w in workloads) if workloads else 1
    spawn_rate = cur.get("spawn_rate", number(0.1, 10000), float(users))
    duration = cur.get("duration", parse_duration)
    timeout = cur.get("timeout", parse_duration, 0.5)
    retry = _retry(cur.child("retry")) if "retry" in cur.value else NO_RETRY
    processes = cur.get("processes", integer(1, 64), 1)
    if duration is not None and duration < 1:
        cur.error("the load must run for at least 1s", "duration")
        return None
    if None in (workloads, spawn_rate, duration, timeout, retry, processes):
        return None
    assert workloads is not None and retry is not None
    return LoadSpec(
        workloads,
        float(spawn_rate or 0),
        float(duration or 0),
        float(timeout or 0),
        retry,
        int(processes or 1),
    )


def _workloads(cur: Cursor) -> tuple[WorkloadSpec, ...] | None:
    if not cur.mapping(tuple(WORKLOAD_KINDS), "workloads") or not cur.value:
        if isinstance(cur.value, dict):
            cur.error(f"name at least one workload ({', '.join(WORKLOAD_KINDS)})")
        return None
    out: list[WorkloadSpec] = []
    ok = True
    for kind in cur.value:
        if kind not in WORKLOAD_KINDS:
            ok = False
            continue
        params = read_params(cur.child(kind), WORKLOAD_KINDS[kind][0], what=f"{kind} settings")
        ok = ok and params is not None
        if params is not None:
            out.append(WorkloadSpec(cast(WorkloadKind, kind), **dataclasses.asdict(params)))
    return tuple(out) if ok else None


def _retry(cur: Cursor) -> RetryPolicy | None:
    value = cur.value
    if isinstance(value, str):
        if value not in RETRY_PRESETS:
            cur.error(
                f"unknown retry preset {value!r} (expected one of: {', '.join(RETRY_PRESETS)}, or a mapping)"
            )
            return None
        return RETRY_PRESETS[value]
    if not cur.mapping(RETRY_KEYS, "retry settings"):
        return None
    retries = cur.get("retries", integer(0, 10))
    base = cur.get("base", parse_duration)
    cap = cur.get("cap", parse_duration, None)
    on = cur.get("on", _error_classes)
    if None in (retries, base, on):
        return None
    assert base is not None and on is not None
    return RetryPolicy("custom", int(retries or 0), base, cap if cap is not None else base * 8, on)


def _error_classes(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise Invalid(f"expected a list of error classes from: {', '.join(RETRYABLE_CLASSES)}")
    for item in value:
        if item not in RETRYABLE_CLASSES:
            raise Invalid(f"unknown error class {item!r} (expected: {', '.join(RETRYABLE_CLASSES)})")
    return tuple(value)


def read_expectations(source: Source, problems: list[Problem]) -> Expectation | None:
    """An expect: section on its own (`drill evaluate --expect KEY=VALUE`)."""
    return _expect(Cursor.root(source, problems))


def _expect(cur: Cursor) -> Expectation | None:
    if not cur.mapping(EXPECT_KEYS, "expectations"):
        return None
    before = len(cur.problems)
    detection = cur.get("detection_within", _detection_bound, None)
    recovery = cur.get("recovery_within", parse_bound, None)
    lost = cur.get("lost_acknowledged_writes", _lost_writes, None)
    ride_out = cur.get("clients_ride_out", boolean, False)
    if len(cur.problems) > before:
        return None
    return Expectation(detection, recovery, lost, bool(ride_out))


def _check_bound_names(
    cur: Cursor, runbooks: list[Runbook], expect: Expectation | None, env: Environment
) -> None:
    """Bounds may name only what the environment has: no failover-timeout on a cluster, no node-timeout
    on Sentinel, no min-replicas-max-lag unless its config sets it."""
    known = env.bound_settings()
    kind = "cluster" if env.cluster is not None else "Sentinel topology"

    def unknown(bound: Bound | None) -> str | None:
        names = [n for n in (bound.names if bound else ()) if n not in known]
        if not names:
            return None
        hint = "; set it under config:" if names[0] == "min-replicas-max-lag" else ""
        return f"{names[0]} is not a setting of {env.file} (a {kind}: {', '.join(known)}){hint}"

    for runbook in runbooks:
        for section in ("detect", "verify"):
            for index, step in enumerate(getattr(runbook, section)):
                for field, bound in _bounds_of(step):
                    why = unknown(bound)
                    if why is not None:
                        where = f"{section}[{index}].{step.check}.{field}"
                        cur.problems.append(Problem(str(runbook.file), step.line, where, why))
    for field, bound in (
        ("detection_within", expect.detection_within if expect else None),
        ("recovery_within", expect.recovery_within if expect else None),
    ):
        why = unknown(bound)
        if why is not None:
            cur.child("expect").error(why, field)


def _bounds_of(step: Step) -> list[tuple[str, Bound | None]]:
    """The step's `within` and every parameter of its check that is a bound (as written in the file)."""
    params = [
        (f.metadata.get("key") or f.name, getattr(step.params, f.name))
        for f in dataclasses.fields(step.params)
        if isinstance(getattr(step.params, f.name), Bound)
    ]
    return [("within", step.within), *params]


def _detection_bound(value: Any) -> Bound:
    if value == "from_config":
        return Bound(DETECTION_SLACK_S, ("down-after",))
    return parse_bound(value)


def _lost_writes(value: Any) -> int | None:
    if value == "report":
        return None
    return integer(0)(value)
