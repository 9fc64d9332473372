"""Bad input through the real CLI: exit 2, path:line: field: message, no traceback, nothing started."""

from __future__ import annotations

from pathlib import Path

from harness.core.run_context import work_root
from tests.conftest import (
    ROOT,
    configured_ports,
    drill,
    failover_on_edited_environment,
    live_redis_processes,
)


def scratch_dirs_of(runs: Path) -> list[Path]:
    """Scratch directories of runs whose run directory is under `runs` (other drills may run meanwhile)."""
    root = work_root()
    return (
        [
            d
            for d in root.glob("*")
            if (d / "run_dir").is_file() and (d / "run_dir").read_text().startswith(str(runs.resolve()))
        ]
        if root.is_dir()
        else []
    )


def test_validate_accepts_the_shipped_files() -> None:
    files = [
        str(p) for folder in ("scenarios", "environments", "runbooks") for p in (ROOT / folder).glob("*.yaml")
    ]
    result = drill("validate", *files)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(": ok") == len(files)


def test_run_with_bad_scenario_exits_2_and_starts_nothing(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.yaml"
    env = ROOT / "environments" / "sentinel-3.yaml"
    scenario.write_text(
        f"name: bad\nenvironment: {env}\nload:\n  workloads: {{acked-writes: {{users: 0}}}}\n"
        "  duration: 10x\nfaults:\n  - at: 1s\n    explode: primary\n"
    )
    result = drill("run", str(scenario), "--runs-dir", str(tmp_path / "runs"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{scenario}:4: load.workloads.acked-writes.users: must be at least 1, got 0" in result.stderr
    assert f"{scenario}:5: load.duration: expected a duration" in result.stderr
    assert f"{scenario}:8: faults[0].explode: unknown key" in result.stderr
    assert not (tmp_path / "runs").exists()
    assert scratch_dirs_of(tmp_path / "runs") == []


def test_validate_reports_problems_of_several_files(tmp_path: Path) -> None:
    env = tmp_path / "env.yaml"
    env.write_text("name: e\nreplicas: 1\nsentinels: {count: 2, quorum: 3}\n")
    runbook = tmp_path / "rb.yaml"
    runbook.write_text("name: r\nverify:\n  - writable: {within: soon}\n")
    missing = tmp_path / "nope.yaml"
    result = drill("validate", str(env), str(runbook), str(missing))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{env}:3: sentinels.quorum: quorum 3 is larger than the number of Sentinels (2)" in result.stderr
    assert f"{runbook}:3: verify[0].writable.within: expected a duration" in result.stderr
    assert f"{missing}: file not found" in result.stderr


def test_bad_command_line_exits_2() -> None:
    result = drill("run")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "the following arguments are required: scenario" in result.stderr


def test_node_that_cannot_start_gives_exit_3_with_its_log_and_leaves_nothing(tmp_path: Path) -> None:
    """A configuration Redis reads fine but cannot start with (a module that is not there): the failure
    comes at start-up, with the node's own log lines."""
    env = (
        (ROOT / "environments" / "sentinel-3.yaml")
        .read_text()
        .replace("  maxmemory: 64mb\n", "  maxmemory: 64mb\n  loadmodule: /nonexistent/drill-test.so\n")
    )
    (tmp_path / "env.yaml").write_text(env)
    text = (ROOT / "scenarios" / "primary-failover.yaml").read_text()
    text = text.replace("../environments/sentinel-3.yaml", "env.yaml").replace(
        "../runbooks/", f"{ROOT}/runbooks/"
    )
    (tmp_path / "scenario.yaml").write_text(text)
    result = drill("run", str(tmp_path / "scenario.yaml"), "--runs-dir", str(tmp_path / "runs"))
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    assert "redis-1" in result.stderr and "during start-up" in result.stderr
    assert "Can't load module from /nonexistent/drill-test.so" in result.stderr  # the node's own log lines
    assert scratch_dirs_of(tmp_path / "runs") == []
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert configured_ports(run_dir), "expected the run to have written node configurations"
    assert live_redis_processes(configured_ports(run_dir)) == []


def test_config_directive_redis_refuses_is_bad_input_before_anything_starts(tmp_path: Path) -> None:
    """Redis's own verdict on the config: section (it reads the file and exits, told port 0): path:line
    and Redis's words, exit 2, where it used to fail at start-up with exit 3."""
    env, scenario, line = failover_on_edited_environment(tmp_path, "  maxmemory: lots")
    result = drill("run", str(scenario), "--runs-dir", str(tmp_path / "runs"))
    assert result.returncode == 2, result.stderr
    refused = "config.maxmemory: redis-server refuses maxmemory lots: argument must be a memory value"
    assert f"{env}:{line}: {refused}" in result.stderr
    assert not (tmp_path / "runs").exists()
