"""Evaluate a scenario against its observation log: runbook steps, MTTD/MTTR bounds, lost writes. Pure."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, replace

from harness.core.histograms import merge_intervals, merge_retried
from harness.core.observation_log import Record
from harness.runbooks.checkers import reads, run_checkers
from harness.runbooks.checks.registry import run_check
from harness.runbooks.history import History
from harness.runbooks.lost_writes import LostWrites, lost_writes
from harness.runbooks.one_primary import one_primary
from harness.runbooks.procedure import procedure_verdicts
from harness.runbooks.restored import restored_verdicts
from harness.runbooks.security import security_verdicts
from harness.runbooks.stop_conditions import stop_verdicts
from harness.runbooks.verdict import Verdict
from harness.scenario.durations import Bound
from harness.scenario.model import Runbook, Scenario


@dataclass(frozen=True, slots=True)
class Incident:
    """One incident of a run with several: its fault, when it fired, its MTTD and MTTR, and the lost
    acknowledged writes acknowledged from it to the next incident."""

    number: int
    index: int  # the fault's place in the scenario's timeline
    label: str  # "kill primary -> redis-1"
    t: float | None  # when it fired (None: the drill stopped first)
    mttd: float | None
    mttr: float | None
    passed: bool
    fired: bool
    lost: int = 0  # acknowledged writes lost, acknowledged between this incident and the next one
    skipped: str = ""  # a drawn fault that could not act when its time came: why (nothing was done)


@dataclass(frozen=True, slots=True)
class Evaluation:
    verdicts: tuple[Verdict, ...]
    mttd: float | None  # seconds from the incident to its first detection (a nemesis: the worst)
    mttr: float | None  # seconds from the incident until every verify step held (a nemesis: the worst)
    lost: LostWrites
    incidents: tuple[Incident, ...] = ()  # a nemesis's, one per drawn fault

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.verdicts)


def evaluate(scenario: Scenario, records: list[Record]) -> Evaluation:
    history = History(tuple(records))
    settings = scenario.environment.bound_settings()
    steps, mttd, mttr = _runbook_steps(scenario.runbooks, history, settings)
    lost = lost_writes(history)
    undecided = _undecided(steps)
    incidents: list[Incident] = []
    if scenario.incidents:  # several incidents (a nemesis's drawn faults too), each judged by its own
        steps, incidents = _incidents(scenario, records, settings)
        incidents = _with_losses(incidents, lost)
        measured = [i for i in incidents if i.fired]
        mttd = max((i.mttd for i in measured if i.mttd is not None), default=None)
        mttr = max((i.mttr for i in measured if i.mttr is not None), default=None)
        undecided = {"detect": None, "verify": None}
    verdicts = (
        steps
        + _expectations(scenario, mttd, mttr, lost, settings, history, undecided, bool(incidents))
        + run_checkers(history)
        + ([reads(history)] if incidents and not any(r.get("f") == "read" for r in history.ops) else [])
        + _one_primary(history, bool(incidents))
        + security_verdicts(history)
        + restored_verdicts(history)
        + stop_verdicts(scenario.abort_if, history)
    )
    return Evaluation(tuple(_cut_short(verdicts, history)), mttd, mttr, lost, tuple(incidents))


def _one_primary(history: History, several: bool) -> list[Verdict]:
    """A run of several incidents (a nemesis's too) is judged on its whole history: one primary at a time,
    by the clients' own acknowledgements. A single-incident drill judges split brain with its runbook
    (single_primary) and its lost writes, as its file says."""
    verdict = one_primary(history) if several else None
    return [verdict] if verdict is not None else []


def _runbook_steps(
    runbooks: tuple[Runbook, ...], history: History, settings: dict[str, float]
) -> tuple[list[Verdict], float | None, float | None]:
    """Every runbook step judged from the history's incident, and the MTTD and MTTR they give."""
    steps = _judged(runbooks, history, settings)
    return (steps, *_times(steps))


def _judged(runbooks: tuple[Runbook, ...], history: History, settings: dict[str, float]) -> list[Verdict]:
    steps: list[Verdict] = []
    for runbook in runbooks:
        steps += [run_check(step, history, settings, runbook.name, "detect") for step in runbook.detect]
        steps += procedure_verdicts(runbook, history)
        steps += [run_check(step, history, settings, runbook.name, "verify") for step in runbook.verify]
    return steps


def _times(steps: list[Verdict]) -> tuple[float | None, float | None]:
    """The MTTD and MTTR the steps give."""
    timed = [v for v in steps if not v.quantity]  # MTTD and MTTR are times since the incident
    detected = [v.measured for v in timed if v.section == "detect" and v.measured is not None]
    verify = [v for v in timed if v.section == "verify"]
    mttd = min(detected) if detected else None
    mttr = (
        max(v.measured for v in verify if v.measured is not None)
        if verify and all(v.measured is not None for v in verify)
        else None
    )
    return mttd, mttr


def _undecided(steps: list[Verdict]) -> dict[str, Verdict | None]:
    return {
        section: next((v for v in steps if v.section == section and v.unknown), None)
        for section in ("detect", "verify")
    }


def _incidents(
    scenario: Scenario, records: list[Record], settings: dict[str, float]
) -> tuple[list[Verdict], list[Incident]]:
    """Each incident judged from the fault that starts it, by its own runbooks and the scenario's time
    bounds; one whose fault never fired (the drill stopped first) is listed as not fired."""
    fired = {int(r["index"]): r for r in records if r["kind"] == "fault"}
    skipped = {i: str(r["skipped"]) for i, r in fired.items() if r.get("skipped")}
    fired = {i: r for i, r in fired.items() if i not in skipped}
    starts = sorted(float(fired[i]["t"]) for i, _ in scenario.incident_faults() if i in fired)
    verdicts: list[Verdict] = []
    incidents: list[Incident] = []
    for number, (index, entry) in enumerate(scenario.incident_faults(), 1):
        record = fired.get(index)
        fault = scenario.faults[index]
        node = f" -> {record['node']}" if record and record.get("node") else ""
        # A nemesis's incidents are named by their fault; hand-written ones by their own name.
        what = f"{fault.action} {fault.target}{node}"
        label = what if scenario.nemesis is not None else f"{entry.name} ({what})"
        if index in skipped:  # nothing was done: nothing to judge, and no failure of the runbooks'
            incidents.append(Incident(number, index, label, None, None, None, True, False, 0, skipped[index]))
            continue
        if record is None:
            incidents.append(Incident(number, index, label, None, None, None, False, False))
            continue
        # This fault is the incident every time is measured from, and the next incident ends its window:
        # what comes after it is that incident's to judge (a replica still down at the end of the drill is
        # not a failure of the kill three incidents before).
        began = float(record["t"])
        until = next((t for t in starts if t > began), float("inf"))
        steps = _judged(entry.runbooks, _window(records, record, until), settings)
        steps = _overtaken(steps, entry.runbooks, records, record, until - began, settings)
        mttd, mttr = _times(steps)
        steps += _bounds(scenario, mttd, mttr, settings, _undecided(steps))
        prefix = f"incident {number} ({label} at t={float(record['t']):.2f}s): "
        steps = [replace(v, name=prefix + v.name) for v in steps]
        verdicts += steps
        passed = all(v.passed or v.unknown for v in steps)
        incidents.append(Incident(number, index, label, float(record["t"]), mttd, mttr, passed, True))
    return verdicts, incidents


def _window(records: list[Record], incident: Record, until: float) -> History:
    """The records before `until`, with `incident` the fault every time is measured from."""
    return History(
        tuple(
            {**r, "incident": r is incident} if r["kind"] == "fault" else r
            for r in records
            if float(r["t"]) < until
        )
    )


def _overtaken(
    steps: list[Verdict],
    runbooks: tuple[Runbook, ...],
    records: list[Record],
    incident: Record,
    gap: float,
    settings: dict[str, float],
) -> list[Verdict]:
    """A step not yet met when the next incident began, whose own bound runs past it, is judged over its
    whole bound: an incident may start while another still recovers (a primary killed during a replica's
    resync), and the first keeps the time its runbook promises. The evidence says it was overtaken."""
    late = {
        i
        for i, v in enumerate(steps)
        if v.failed and not v.quantity and v.measured is None and v.bound is not None and v.bound > gap
    }
    if not late:
        return steps
    longest = max(steps[i].bound or 0.0 for i in late)
    again = _judged(runbooks, _window(records, incident, float(incident["t"]) + longest), settings)
    note = f" (overtaken: the next incident began {gap:.2f}s after this one; judged over its own bound)"
    return [
        replace(again[i], evidence=again[i].evidence + note) if i in late else v for i, v in enumerate(steps)
    ]


def _with_losses(incidents: list[Incident], lost: LostWrites) -> list[Incident]:
    """Each lost write counted against the incident it was acknowledged in (from its fault to the next's)."""
    fired = sorted((i for i in incidents if i.t is not None), key=lambda i: i.t or 0.0)
    starts = [i.t or 0.0 for i in fired]
    counts = dict.fromkeys((i.number for i in fired), 0)
    for _, acknowledged in lost.lost:
        place = bisect_right(starts, acknowledged) - 1
        if place >= 0:
            counts[fired[place].number] += 1
    return [replace(i, lost=counts.get(i.number, 0)) for i in incidents]


def _cut_short(verdicts: list[Verdict], history: History) -> list[Verdict]:
    """Still judged on what was observed, but a time check not met whose window ran past an abort is
    marked cut short: the drill stopped before the check could have passed."""
    aborts, incident = history.aborts, history.incident
    if not aborts or incident is None:
        return verdicts
    stopped = float(aborts[0]["t"]) - float(incident["t"])  # seconds after the incident
    marked = []
    for v in verdicts:
        window_open = v.bound is None or v.bound > stopped
        if v.failed and not v.quantity and v.measured is None and window_open and v.section != "guard":
            until = "its window" if v.bound is None else f"its window ({v.bound:g}s)"
            note = (
                f" (cut short: the drill was aborted {stopped:.2f}s after the incident, before {until} ended)"
            )
            v = replace(v, cut_short=True, evidence=v.evidence + note)
        marked.append(v)
    return marked


def _time_bound(
    name: str,
    what: str,
    measured: float | None,
    bound: Bound,
    settings: dict[str, float],
    missing: str,
    undecided: Verdict | None,
) -> Verdict:
    """MTTD or MTTR against its bound. When the time was not measured because a step could not judge,
    the bound cannot be judged either."""
    limit = bound.resolve(settings)
    passed = measured is not None and measured <= limit
    evidence = f"{what}, bound {bound}" if measured is not None else missing
    unknown = measured is None and undecided is not None
    if unknown and undecided is not None:
        evidence = f"{what} unknown: {undecided.name} could not judge ({undecided.evidence})"
    return Verdict(
        f"expect: {name}", "scenario", "expect", passed, measured, limit, "s", evidence, None, unknown
    )


def _bounds(
    scenario: Scenario,
    mttd: float | None,
    mttr: float | None,
    settings: dict[str, float],
    undecided: dict[str, Verdict | None],
) -> list[Verdict]:
    """detection_within and recovery_within, against one incident's MTTD and MTTR."""
    expect = scenario.expect
    out: list[Verdict] = []
    if expect.detection_within is not None:
        out.append(
            _time_bound(
                "detection_within",
                "MTTD",
                mttd,
                expect.detection_within,
                settings,
                "the incident was never detected by a detect step",
                undecided["detect"],
            )
        )
    if expect.recovery_within is not None:
        out.append(
            _time_bound(
                "recovery_within",
                "MTTR",
                mttr,
                expect.recovery_within,
                settings,
                "not every verify step held by the end of the drill",
                undecided["verify"],
            )
        )
    return out


def _expectations(
    scenario: Scenario,
    mttd: float | None,
    mttr: float | None,
    lost: LostWrites,
    settings: dict[str, float],
    history: History,
    undecided: dict[str, Verdict | None],
    per_incident: bool = False,
) -> list[Verdict]:
    """The scenario's expectations; with incidents (a nemesis) the time bounds are judged per incident."""
    expect, incident = scenario.expect, history.incident
    out = [] if per_incident else _bounds(scenario, mttd, mttr, settings, undecided)
    count = len(lost.lost)
    evidence = (
        f"{lost.acknowledged} acknowledged, {lost.uncertain} uncertain, {lost.read_back} read back, "
        f"{count} lost"
    )
    if lost.lost:
        first, last = min(t for _, t in lost.lost), max(t for _, t in lost.lost)
        evidence += f", acknowledged between {first:.3f}s and {last:.3f}s ({last - first:.3f}s window)"
        if incident is not None:
            evidence += f", starting {first - float(incident['t']):+.3f}s from the incident"
        evidence += ": " + ", ".join(k for k, _ in lost.lost[:3])
    if lost.error:
        evidence = f"read-back failed: {lost.error}"
    if expect.clients_ride_out:
        out.append(_ride_out(scenario, history))
    limit = expect.max_lost_writes
    passed = lost.error is None and (limit is None or count <= limit)
    out.append(
        Verdict(
            "expect: lost_acknowledged_writes",
            "scenario",
            "expect",
            passed,
            None if lost.error else float(count),  # no read-back: how many were lost is not known
            None if limit is None else float(limit),
            "writes",
            evidence,
            unknown=lost.error is not None,
        )
    )
    return out


def _ride_out(scenario: Scenario, history: History) -> Verdict:
    """The client retry policy's promise (SEED-FACTS "Client retry policy"): under it, the load's clients
    ride out the fault, i.e. no operation failed or ended uncertain once its retries were spent."""
    stats = history.stats
    ops = sum(int(s.get("ok", 0)) + int(s.get("fail", 0)) + int(s.get("info", 0)) for s in stats)
    failed = sum(int(s.get("fail", 0)) + int(s.get("info", 0)) for s in stats)
    retries = sum(int(s.get("retries", 0)) for s in stats)
    _, errors = merge_intervals(stats)
    retried = ", ".join(f"{name}={n}" for name, n in sorted(merge_retried(stats).items()))
    policy = scenario.load.retry.name
    evidence = f"retry policy {policy}: {ops} operations, {retries} retries"
    evidence += f" ({retried})" if retried else ""
    evidence += f", {failed} failed or uncertain"
    if errors and failed:
        evidence += " (" + ", ".join(f"{name}={n}" for name, n in sorted(errors.items())) + ")"
    name = "expect: clients_ride_out"
    return Verdict(name, "scenario", "expect", ops > 0 and failed == 0, float(failed), 0.0, "ops", evidence)
