"""A nemesis's schedule: drawn from its catalogue with the seed, the same for the same seed, faults one
after another each with its end; and its bad input at its lines."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import pytest

from harness.core.errors import ConfigError
from harness.runbooks.evaluate import evaluate
from harness.scenario.loader import load_scenario
from harness.scenario.model import FaultSpec, Scenario
from harness.scenario.nemesis import END_MARGIN_S, draw, with_seed
from tests.unit.history_builder import KILL_AT, failover_log

ROOT = Path(__file__).resolve().parents[2]

NEMESIS = f"""\
name: nemesis
environment: {ROOT}/environments/sentinel-3.yaml
seed: 11
load:
  duration: 240s
  workloads: {{acked-writes: {{users: 2}}}}
nemesis:
  every: 10s
  jitter: 3s
  heal_after: 3s..8s
  faults:
    - {{kill: primary, weight: 2, runbooks: [{ROOT}/runbooks/p1-redis-down.yaml]}}
    - {{kill: replica}}
    - {{partition: {{between: [primary], and: [sentinels, replicas]}}}}
    - {{pause: {{node: replica, duration: 1s}}}}
    - {{long-script: {{node: primary}}}}
runbooks: []
"""


def loaded(tmp_path: Path, text: str) -> Scenario:
    path = tmp_path / "nemesis.yaml"
    path.write_text(text)
    return load_scenario(path)


def test_the_same_seed_draws_the_same_schedule_and_each_fault_ends_before_the_next(tmp_path: Path) -> None:
    scenario = loaded(tmp_path, NEMESIS)
    assert scenario.nemesis is not None
    again = with_seed(scenario, 11)
    assert again.faults == scenario.faults
    other = with_seed(scenario, 12)
    assert other.faults != scenario.faults and other.seed == 12
    drawn = draw(scenario.nemesis, 240.0, 11)
    assert len(drawn) >= 16  # about one every 10-12 s, each lasting 3-8 s
    assert {d.kind for d in drawn} == {0, 1, 2, 3, 4}  # every entry of the catalogue, over four minutes
    for before, after in itertools.pairwise(drawn):
        ended = before.heal.at if before.heal is not None else before.fault.at + _own_length(before.fault)
        assert after.fault.at >= ended + 1.0, (before, after)
    last = drawn[-1]
    assert (last.heal.at if last.heal else last.fault.at + _own_length(last.fault)) <= 240.0 - END_MARGIN_S
    # Each kind gets its own end: a kill its restart, a partition its heal, a pause and a script their length.
    ends = {d.fault.action: (d.heal.action, d.heal.target) if d.heal else None for d in drawn}
    assert ends["kill"] == ("restart", "last-killed") and ends["partition"] == ("heal", "partition")
    assert ends["pause"] is None and ends["long-script"] is None
    incidents = scenario.incident_faults()
    assert [scenario.faults[i].action for i, _ in incidents] == [d.fault.action for d in drawn]
    assert all(e.runbooks for _, e in incidents if e.name == "kill primary")


def _own_length(spec: FaultSpec) -> float:
    """A pause's or a script's own length: what ends it when the nemesis gives it no heal."""
    if spec.pause is not None:
        return spec.pause.seconds
    assert spec.server is not None
    return spec.server.seconds


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("runbooks: []\n", "runbooks: []\nfaults: [{at: 1s, kill: primary}]\n"), "give faults or a nemesis"),
        (
            ("heal_after: 3s..8s", "heal_after: 8s..3s"),
            "nemesis.heal_after: expected 0 < the first <= the last",
        ),
        (("    - {kill: replica}", "    - {oom: {}}"), "a nemesis draws only faults it can end"),
        (("jitter: 3s", "jitter: 12s"), "expected every > 0 and jitter < every"),
        (("every: 10s", "every: 6s"), "nemesis.every: every (6s) is shorter than heal_after's longest (8s)"),
        (("    - {kill: replica}", "    - {kill: sentinel-9}"), "nemesis.faults[1].kill: unknown target"),
    ],
)
def test_bad_nemesis_is_bad_input_at_its_line(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        loaded(tmp_path, NEMESIS.replace(*change))
    assert message in str(raised.value), str(raised.value)


def test_each_incident_is_judged_from_its_own_fault_and_one_not_fired_is_said(tmp_path: Path) -> None:
    scenario = loaded(tmp_path, NEMESIS)
    assert scenario.nemesis is not None
    kill = FaultSpec(at=4.0, jitter=0.0, action="kill", target="primary", starts_incident=0)
    late = FaultSpec(at=11.0, jitter=0.0, action="kill", target="replica", starts_incident=1)
    restart = FaultSpec(at=9.0, jitter=0.0, action="restart", target="last-killed")
    planned = dataclasses.replace(scenario, faults=(kill, restart, late))
    records = [
        {**r, "index": 0} if r["kind"] == "fault" else r for r in failover_log(lose_key="k80")
    ]  # the kill at 5.0 s is fault 0; fault 2 never fired (the drill ended first)
    judged = evaluate(planned, records)
    first, second = judged.incidents
    assert (first.number, first.label, first.t, first.fired) == (1, "kill primary -> redis-1", KILL_AT, True)
    assert first.mttd is not None and abs(first.mttd - 1.02) < 1e-6 and first.passed, first
    assert first.lost == 1  # k80, acknowledged at 8.0 s: after the kill, in the first incident
    assert (second.fired, second.t, second.passed) == (False, None, False)
    names = [v.name for v in judged.verdicts]
    assert (
        "incident 1 (kill primary -> redis-1 at t=5.00s): detect: sentinel_event +sdown (incident)" in names
    )
    assert judged.mttd == first.mttd and "expect: reads checker (no value no client wrote)" in names


INCIDENTS = f"""\
name: three
environment: {ROOT}/environments/sentinel-3.yaml
load:
  duration: 30s
  workloads: {{acked-writes: {{users: 2}}}}
incidents:
  - name: replica lost
    faults:
      - {{at: 7s, restart: last-killed}}
      - {{at: 3s, kill: replica}}
    runbooks: [{ROOT}/runbooks/replication-broken.yaml]
  - name: primary lost during the resync
    faults: [{{at: 7.2s, kill: primary}}, {{at: 14s, restart: last-killed}}]
    runbooks: [{ROOT}/runbooks/p1-redis-down.yaml]
  - name: new primary frozen
    faults: [{{at: 20s, pause: {{node: primary, duration: 1s}}}}]
"""


def test_hand_written_incidents_each_start_at_their_earliest_fault(tmp_path: Path) -> None:
    scenario = loaded(tmp_path, INCIDENTS)
    starts = [(scenario.faults[i].action, spec.name) for i, spec in scenario.incident_faults()]
    assert starts == [
        ("kill", "replica lost"),
        ("kill", "primary lost during the resync"),
        ("pause", "new primary frozen"),
    ]
    assert [len(spec.runbooks) for spec in scenario.incidents] == [1, 1, 0]
    both = INCIDENTS.replace("incidents:", "faults: [{at: 1s, kill: replica}]\nincidents:")
    with pytest.raises(ConfigError, match="give incidents, or faults"):
        loaded(tmp_path, both)
    with pytest.raises(ConfigError, match=r"incidents\[2\].faults: required field is missing"):
        loaded(
            tmp_path, INCIDENTS.replace("    faults: [{at: 20s, pause: {node: primary, duration: 1s}}]\n", "")
        )


def test_an_incident_overtaken_by_the_next_keeps_the_time_its_runbook_promises(tmp_path: Path) -> None:
    """A second fault 0.5 s after the kill ends the kill's window before its +switch-master (at 6.7 s): the
    steps not yet met are judged over their own bounds and say they were overtaken; a second fault at
    11.5 s leaves the first everything it needs in its own window."""
    scenario = loaded(tmp_path, NEMESIS)
    kill = FaultSpec(at=4.0, jitter=0.0, action="kill", target="primary", starts_incident=0)
    other = FaultSpec(at=4.5, jitter=0.0, action="kill", target="replica", starts_incident=1)
    planned = dataclasses.replace(scenario, faults=(kill, other))
    for second, overtaken in ((KILL_AT + 0.5, True), (11.5, False)):
        records = [{**r, "index": 0} if r["kind"] == "fault" else r for r in failover_log()]
        records.append({"t": second, "kind": "fault", "index": 1, "action": "kill", "target": "replica"})
        judged = evaluate(planned, sorted(records, key=lambda r: r["t"]))
        first = judged.incidents[0]
        assert first.passed and first.mttr is not None and abs(first.mttr - 2.0) < 1e-6, (second, first)
        switch = next(v for v in judged.verdicts if v.name.startswith("incident 1") and "+switch" in v.name)
        assert ("overtaken: the next incident began 0.50s after" in switch.evidence) is overtaken, switch


def test_a_drawn_fault_that_could_not_act_is_skipped_not_failed(tmp_path: Path) -> None:
    """Logged as skipped with its reason: its incident is neither judged nor a failure, and it ends no other
    incident's window."""
    scenario = loaded(tmp_path, NEMESIS)
    kill = FaultSpec(at=4.0, jitter=0.0, action="kill", target="primary", starts_incident=0)
    other = FaultSpec(at=4.5, jitter=0.0, action="kill", target="replica", starts_incident=1)
    planned = dataclasses.replace(scenario, faults=(kill, other))
    records = [{**r, "index": 0} if r["kind"] == "fault" else r for r in failover_log()]
    why = "network replication:replica: no replica streams through its proxied replication link now"
    records.append(
        {"t": 5.5, "kind": "fault", "index": 1, "action": "kill", "target": "replica", "skipped": why}
    )
    judged = evaluate(planned, sorted(records, key=lambda r: r["t"]))
    first, second = judged.incidents
    assert first.passed and not any("overtaken" in v.evidence for v in judged.verdicts)
    assert (second.skipped, second.fired, second.passed) == (why, False, True)
    assert not any(v.name.startswith("incident 2") for v in judged.verdicts)


def test_an_entry_without_runbooks_gets_its_kinds_shipped_one_and_runbooks_none_opts_out(
    tmp_path: Path,
) -> None:
    scenario = loaded(tmp_path, NEMESIS)
    assert scenario.nemesis is not None
    names = [[b.name for b in entry.runbooks] for entry in scenario.nemesis.faults]
    assert names == [["P1 Redis down"], ["Replication broken"], ["P1 primary partitioned"], [], []]
    none = loaded(tmp_path, NEMESIS.replace("    - {kill: replica}", "    - {kill: replica, runbooks: []}"))
    assert none.nemesis is not None and none.nemesis.faults[1].runbooks == ()
