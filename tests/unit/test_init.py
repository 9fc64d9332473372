"""`drill init` from a team's redis.conf and sentinel.conf (Debian's stock files here): what the environment
carries, what it lists as not carried and why, no secret written, and files that validate against the loader
and the schemas."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator

from harness.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[2]
STOCK = Path("/etc/redis/redis.conf"), Path("/etc/redis/sentinel.conf")  # Debian's, installed by make setup


def init(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", "init", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_debian_stock_files_become_an_environment_like_theirs(tmp_path: Path) -> None:
    made = init(
        "--from-conf",
        str(STOCK[0]),
        "--sentinel-conf",
        str(STOCK[1]),
        "--name",
        "stock",
        "--dir",
        str(tmp_path),
    )
    assert made.returncode == 0, made.stdout + made.stderr
    env_file = tmp_path / "environments" / "stock.yaml"
    env = yaml.safe_load(env_file.read_text())
    sentinels = {"count": 3, "quorum": 2, "down-after-milliseconds": 30000, "failover-timeout": 180000}
    assert env["sentinels"] == {**sentinels, "parallel-syncs": 1}
    assert env["config"]["tcp-keepalive"] == "300" and env["config"]["appendfsync"] == "everysec"
    skipped = {line.split(":")[0].strip() for line in made.stdout.splitlines() if line.startswith("    ")}
    owned = {"bind", "port", "dir", "logfile", "pidfile", "daemonize", "protected-mode"}
    assert owned <= skipped, made.stdout
    assert not skipped & set(env["config"])
    scenario = load_scenario(tmp_path / "scenarios" / "stock-failover.yaml")  # loads the other two as well
    assert scenario.environment.sentinels.down_after_ms == 30000 and scenario.load.duration == 46
    for kind, path in (
        ("environment", env_file),
        ("scenario", tmp_path / "scenarios" / "stock-failover.yaml"),
    ):
        schema = json.loads((tmp_path / "schemas" / f"{kind}.json").read_text())
        assert not list(Draft202012Validator(schema).iter_errors(yaml.safe_load(path.read_text())))
    again = init("--from-conf", str(STOCK[0]), "--name", "stock", "--dir", str(tmp_path))
    assert again.returncode == 2 and "--force overwrites" in again.stderr


def test_a_password_is_named_by_its_variable_and_a_directive_the_engine_refuses_is_listed(
    tmp_path: Path,
) -> None:
    conf = tmp_path / "redis.conf"
    conf.write_text(
        'requirepass "s3cret-of-theirs"\nmasterauth s3cret-of-theirs\nmaxmemory 64mb\nfrobnicate yes\n'
    )
    made = init("--from-conf", str(conf), "--dir", str(tmp_path / "out"))
    assert made.returncode == 0, made.stdout + made.stderr
    written = "".join(p.read_text() for p in (tmp_path / "out").rglob("*.yaml")) + made.stdout + made.stderr
    assert "s3cret" not in written
    env = yaml.safe_load((tmp_path / "out" / "environments" / "mymaster.yaml").read_text())
    assert env["auth"] == {"password_env": "REDIS_DRILL_PASSWORD"} and env["config"] == {"maxmemory": "64mb"}
    assert "frobnicate: the engine refuses it" in made.stdout


def test_bad_command_lines_are_exit_2() -> None:
    assert init("--from-sentinel", "127.0.0.1:26379").returncode == 2  # no --master
    off_machine = init("--from-redis", "10.0.0.1:6379")
    assert off_machine.returncode == 2 and "not a loopback address" in off_machine.stderr
