"""Every kind of bad input is reported as path:line: field: message, all problems of a file at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.core.errors import ConfigError
from harness.scenario.loader import load_any, load_environment, load_runbook, load_scenario
from harness.scenario.model import SecuritySpec, secured

ROOT = Path(__file__).resolve().parents[2]

ENV = """\
name: test-env
replicas: 2
sentinels:
  count: 3
  quorum: 2
  down-after-milliseconds: 1000
  failover-timeout: 5000
config:
  save: ""
"""

RUNBOOK = """\
name: rb
detect:
  - sentinel_event: {event: +odown, within: down-after + 1s}
verify:
  - writable: {within: 5s}
"""

SCENARIO = """\
name: s
environment: env.yaml
load:
  duration: 10s
  workloads:
    acked-writes: {users: 2}
faults:
  - at: 3s
    kill: primary
runbooks: [rb.yaml]
expect:
  detection_within: from_config
  recovery_within: 10s
"""


def write(tmp_path: Path, **files: str) -> None:
    for name, text in files.items():
        (tmp_path / name.replace("_", ".")).write_text(text)


def problems(tmp_path: Path, name: str = "scenario.yaml") -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_any(tmp_path / name)
    return [str(p) for p in info.value.problems]


def test_shipped_files_are_valid() -> None:
    for folder in ("scenarios", "scenarios/lab", "environments", "runbooks"):
        files = sorted((ROOT / folder).glob("*.yaml"))
        assert files, folder
        for file in files:
            load_any(file)


def test_good_scenario_loads_into_frozen_models(tmp_path: Path) -> None:
    write(tmp_path, env_yaml=ENV, rb_yaml=RUNBOOK, scenario_yaml=SCENARIO)
    scenario = load_scenario(tmp_path / "scenario.yaml")
    assert scenario.environment.sentinels.quorum == 2
    assert scenario.faults[0].target == "primary"
    assert scenario.expect.detection_within is not None
    # from_config: down-after (1 s here) + 1.5 s
    assert scenario.expect.detection_within.resolve(scenario.environment.bound_settings()) == 2.5
    with pytest.raises(AttributeError):
        scenario.name = "other"  # type: ignore[misc]


def test_unknown_key_wrong_type_and_bad_duration_reported_together(tmp_path: Path) -> None:
    bad = SCENARIO.replace(
        "    acked-writes: {users: 2}", "    acked-writes: {users: many}\n    teleport: {users: 1}"
    )
    bad = bad.replace("duration: 10s", "duration: 10x\n  colour: red")
    write(tmp_path, env_yaml=ENV, rb_yaml=RUNBOOK, scenario_yaml=bad)
    found = problems(tmp_path)
    path = str(tmp_path / "scenario.yaml")
    assert any(p.startswith(f"{path}:4: load.duration: expected a duration") for p in found)
    assert any(p.startswith(f"{path}:5: load.colour: unknown key") for p in found)
    assert f"{path}:7: load.workloads.acked-writes.users: expected an integer, got a string 'many'" in found
    assert any(p.startswith(f"{path}:8: load.workloads.teleport: unknown key") for p in found)


def test_missing_environment_file(tmp_path: Path) -> None:
    write(tmp_path, rb_yaml=RUNBOOK, scenario_yaml=SCENARIO)
    found = problems(tmp_path)
    assert any(p.startswith(f"{tmp_path / 'scenario.yaml'}:2: environment: file not found") for p in found)


def test_a_missing_file_names_the_path_it_was_looked_for_at(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relative path as written is not enough: the error says where it was looked for (issue #34)."""
    (tmp_path / "drills").mkdir()
    (tmp_path / "drills" / "scenario.yaml").write_text(SCENARIO.replace("env.yaml", "../envs/env.yaml"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as raised:
        load_scenario(Path("drills/scenario.yaml"))
    message = str(raised.value)
    assert f"file not found: ../envs/env.yaml (looked for {tmp_path / 'envs' / 'env.yaml'})" in message
    with pytest.raises(ConfigError) as raised:
        load_scenario(Path("drills/nope.yaml"))
    assert f"drills/nope.yaml: file not found (looked for {tmp_path / 'drills' / 'nope.yaml'})" in str(
        raised.value
    )


def test_impossible_topology_is_named_in_the_environment_file(tmp_path: Path) -> None:
    write(tmp_path, env_yaml=ENV.replace("quorum: 2", "quorum: 4"))
    with pytest.raises(ConfigError) as info:
        load_environment(tmp_path / "env.yaml")
    (problem,) = info.value.problems
    assert (problem.line, problem.field) == (5, "sentinels.quorum")
    assert "larger than the number of Sentinels (3)" in problem.message


def test_problems_in_referenced_files_name_those_files(tmp_path: Path) -> None:
    write(
        tmp_path, env_yaml=ENV.replace("replicas: 2", "replicas: -1"), rb_yaml=RUNBOOK, scenario_yaml=SCENARIO
    )
    assert f"{tmp_path / 'env.yaml'}:2: replicas: must be at least 0, got -1" in problems(tmp_path)


def test_invalid_yaml_gives_its_line(tmp_path: Path) -> None:
    write(tmp_path, scenario_yaml="name: s\nload: [unclosed\nfaults: []\n")
    (problem,) = problems(tmp_path)
    assert problem.startswith(f"{tmp_path / 'scenario.yaml'}:")
    assert "invalid YAML" in problem


def test_duplicate_keys_are_errors(tmp_path: Path) -> None:
    write(tmp_path, env_yaml=ENV + "replicas: 3\n")
    found = problems(tmp_path, "env.yaml")
    assert f"{tmp_path / 'env.yaml'}:10: replicas: duplicate key" in found


def test_fault_after_load_end_and_unknown_target(tmp_path: Path) -> None:
    bad = SCENARIO.replace("  - at: 3s\n    kill: primary", "  - at: 30s\n    kill: redis-9")
    write(tmp_path, env_yaml=ENV, rb_yaml=RUNBOOK, scenario_yaml=bad)
    found = problems(tmp_path)
    assert any(":8: faults[0].at: fault at 30s" in p for p in found)
    assert any(":9: faults[0].kill: unknown target 'redis-9'" in p for p in found)


def test_runbook_unknown_check_and_event(tmp_path: Path) -> None:
    write(tmp_path, rb_yaml=RUNBOOK.replace("writable", "teleport").replace("+odown", "+explode"))
    with pytest.raises(ConfigError) as info:
        load_runbook(tmp_path / "rb.yaml")
    found = [str(p) for p in info.value.problems]
    assert any(":3: detect[0].sentinel_event.event: expected one of" in p for p in found)
    assert any(":5: verify[0].teleport: unknown check" in p for p in found)


def test_managed_redis_directives_are_refused(tmp_path: Path) -> None:
    write(tmp_path, env_yaml=ENV + "  port: 6379\n")
    found = problems(tmp_path, "env.yaml")
    assert any(":10: config.port: set by the harness" in p for p in found)


def test_empty_file(tmp_path: Path) -> None:
    write(tmp_path, scenario_yaml="")
    assert problems(tmp_path) == [f"{tmp_path / 'scenario.yaml'}:1: file is empty"]


def test_network_faults_need_a_proxied_environment(tmp_path: Path) -> None:
    bad = SCENARIO.replace("    kill: primary", "    network: {link: primary, latency: 50ms}")
    write(tmp_path, env_yaml=ENV, rb_yaml=RUNBOOK, scenario_yaml=bad)
    assert any(
        ":9: faults[0].network: network faults need an environment with proxied links" in p
        for p in problems(tmp_path)
    )


def test_network_fault_fields_are_checked(tmp_path: Path) -> None:
    env = ENV + "proxy: {clients: true}\n"
    bad = SCENARIO.replace("    kill: primary", "    network: {link: redis-7, bandwidth: fast, jitter: 1s}")
    write(tmp_path, env_yaml=env, rb_yaml=RUNBOOK, scenario_yaml=bad)
    found = problems(tmp_path)
    assert any(":9: faults[0].network.bandwidth: expected a bandwidth such as 100KB/s" in p for p in found)
    assert any(":9: faults[0].network.jitter: jitter goes with latency only" in p for p in found)


def test_network_fault_unknown_link(tmp_path: Path) -> None:
    env = ENV + "proxy: {clients: true}\n"
    bad = SCENARIO.replace("    kill: primary", "    network: {link: redis-7, partition: true}")
    write(tmp_path, env_yaml=env, rb_yaml=RUNBOOK, scenario_yaml=bad)
    assert any(":9: faults[0].network.link: unknown link 'redis-7'" in p for p in problems(tmp_path))


def test_network_fault_loads(tmp_path: Path) -> None:
    env = ENV + "proxy: {clients: true, replication: true}\n"
    good = SCENARIO.replace(
        "    kill: primary", "    network: {link: 'replication:redis-2', bandwidth: 100KB/s}"
    )
    write(tmp_path, env_yaml=env, rb_yaml=RUNBOOK, scenario_yaml=good)
    fault = load_scenario(tmp_path / "scenario.yaml").faults[0]
    assert (fault.action, fault.target) == ("network", "replication:redis-2")
    assert fault.network is not None and fault.network.rate_kbs == 100


def test_external_toxiproxy_must_be_on_loopback(tmp_path: Path) -> None:
    write(tmp_path, env_yaml=ENV + "proxy: {clients: true, server: 10.1.2.3:8474}\n")
    found = problems(tmp_path, "env.yaml")
    assert any(":10: proxy.server: 10.1.2.3 is not a loopback address" in p for p in found)
    write(tmp_path, env_yaml=ENV + "proxy: {clients: true, server: 127.0.0.1:8474}\n")
    env = load_environment(tmp_path / "env.yaml")
    assert env.proxy is not None and env.proxy.server == ("127.0.0.1", 8474)


def test_external_environment_cannot_configure_nodes_it_does_not_start(tmp_path: Path) -> None:
    write(tmp_path, env_yaml=ENV + "external: {compose_project: lab}\n")
    found = problems(tmp_path, "env.yaml")
    assert any(":8: config: config cannot be set for an external environment" in p for p in found), found
    write(tmp_path, env_yaml=ENV.replace('config:\n  save: ""\n', "") + "external: {compose: lab}\n")
    found = problems(tmp_path, "env.yaml")
    assert any(":8: external.compose: unknown" in p for p in found), found
    write(tmp_path, env_yaml=ENV.replace('config:\n  save: ""\n', "") + "external: {compose_project: lab}\n")
    assert load_environment(tmp_path / "env.yaml").external_compose_project == "lab"


def test_yaml_tags_are_refused_with_their_line(tmp_path: Path) -> None:
    write(tmp_path, scenario_yaml="name: s\nseed: !1 3\nload: !!python/object:os.system {}\n")
    found = problems(tmp_path)
    assert f"{tmp_path / 'scenario.yaml'}:2: seed: unsupported YAML tag !1" in found
    assert any(p.startswith(f"{tmp_path / 'scenario.yaml'}:3: load: unsupported YAML tag") for p in found)


def test_security_section_and_the_secure_overlay(tmp_path: Path) -> None:
    write(tmp_path, env_yaml=ENV + "security: {acl: true, tls: false, secret_file: pw.txt}\n")
    env = load_environment(tmp_path / "env.yaml")
    assert env.security is not None and env.security.acl and not env.security.tls
    assert env.security.secret is not None and env.security.secret.name == str(tmp_path / "pw.txt")
    write(tmp_path, env_yaml=ENV + "security: {acl: yes please}\n")
    found = problems(tmp_path, "env.yaml")
    assert any(":10: security.acl: expected" in p for p in found), found
    write(tmp_path, env_yaml=ENV + "auth: {password_env: X}\nsecurity: {acl: true}\n")
    found = problems(tmp_path, "env.yaml")
    assert any(":11: security: auth: is the default user's password" in p for p in found), found
    write(tmp_path, env_yaml=ENV + "security: {tls: true, secret_env: A, secret_file: b}\n")
    found = problems(tmp_path, "env.yaml")
    assert any("give exactly one of secret_env, secret_file" in p for p in found), found
    # --secure: ACL and TLS on any environment, an auth: password dropped for the ACL users.
    write(tmp_path, env_yaml=ENV + "auth: {password_env: X}\n", rb_yaml=RUNBOOK, scenario_yaml=SCENARIO)
    scenario = secured(load_scenario(tmp_path / "scenario.yaml"))
    assert scenario.environment.security == SecuritySpec(acl=True, tls=True)
    assert scenario.environment.password is None


def test_surge_fault_is_checked(tmp_path: Path) -> None:
    surge = SCENARIO.replace("    kill: primary", "    surge: {users: 0, duration: 5s}")
    write(tmp_path, env_yaml=ENV, rb_yaml=RUNBOOK, scenario_yaml=surge)
    assert any(":9: faults[0].surge.users: must be at least 1, got 0" in p for p in problems(tmp_path))
    workers = SCENARIO.replace("    kill: primary", "    surge: {users: 5, duration: 5s}").replace(
        "load:\n", "load:\n  processes: 2\n"
    )
    write(tmp_path, scenario_yaml=workers)  # the workers spawn their shares (Locust messages)
    assert load_scenario(tmp_path / "scenario.yaml").load.processes == 2
    write(
        tmp_path, scenario_yaml=SCENARIO.replace("    kill: primary", "    surge: {users: 5, duration: 5s}")
    )
    (fault,) = load_scenario(tmp_path / "scenario.yaml").faults
    assert fault.action == "surge" and fault.surge is not None and fault.surge.users == 5


def test_a_nul_byte_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "nul.yaml"
    path.write_bytes(b"name: x\nseed: 1\nenvironment: a\x00b\n")
    with pytest.raises(ConfigError) as raised:
        load_scenario(path)
    (problem,) = raised.value.problems
    assert problem.line == 3 and "#x0000" in problem.message


def test_run_step_needs_an_executable_program_next_to_the_runbook(tmp_path: Path) -> None:
    step = "    - run: {command: [scripts/fix.sh, --now], timeout: 5s}\n"
    write(tmp_path, rb_yaml=RUNBOOK + "respond:\n  when: {after: 1s}\n  steps:\n" + step)
    found = [str(p) for p in load_problems(tmp_path / "rb.yaml")]
    missing = f"rb.yaml:9: respond.steps[0].run.command: {tmp_path}/scripts/fix.sh not found"
    assert any(missing in p for p in found), found
    script = tmp_path / "scripts" / "fix.sh"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\necho fixed\n")
    found = [str(p) for p in load_problems(tmp_path / "rb.yaml")]
    assert any("fix.sh is not executable" in p for p in found), found
    script.chmod(0o755)
    respond = load_runbook(tmp_path / "rb.yaml").respond
    assert respond is not None
    (action,) = respond.steps
    assert action.kind == "run" and action.command == (str(script), "--now") and action.timeout == 5.0


def load_problems(path: Path) -> list[object]:
    try:
        load_runbook(path)
    except ConfigError as exc:
        return list(exc.problems)
    return []


def test_program_verify_step_needs_its_program(tmp_path: Path) -> None:
    write(tmp_path, rb_yaml=RUNBOOK + "  - program: {command: [scripts/health.sh], every: 1s}\n")
    found = [str(p) for p in load_problems(tmp_path / "rb.yaml")]
    assert any(
        f"rb.yaml:6: verify[1].program.command: {tmp_path}/scripts/health.sh not found" in p for p in found
    )


def test_a_bound_parameter_may_name_only_settings_the_environment_has(tmp_path: Path) -> None:
    lag_bound = "verify:\n  - lost_writes_within: {window: min-replicas-max-lag + 2s}\n"
    write(tmp_path, env_yaml=ENV, rb_yaml=RUNBOOK.split("verify:")[0] + lag_bound, scenario_yaml=SCENARIO)
    found = problems(tmp_path)
    assert any(
        "rb.yaml:5: verify[0].lost_writes_within.window: min-replicas-max-lag is not a setting of" in p
        and p.endswith("; set it under config:")
        for p in found
    ), found
    write(tmp_path, env_yaml=ENV + "  min-replicas-max-lag: 5\n")
    (runbook,) = load_scenario(tmp_path / "scenario.yaml").runbooks
    assert (
        runbook.verify[0].params.window.resolve(load_environment(tmp_path / "env.yaml").bound_settings())
        == 7.0
    )
