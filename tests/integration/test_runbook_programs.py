"""Runbook steps that run the team's own program: the shipped OOM script ends a real OOM with the environment
the drill gives it; a program that hangs fails its step at the timeout and leaves no process behind."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

import pytest

from harness.backends.secured import DATA_RULES, SENTINEL_RULES, derive_password
from harness.core.secrets import Secret
from tests.conftest import ROOT, drill, only_run_dir

pytestmark = pytest.mark.integration

HANGING = """#!/bin/sh
# Starts children of its own and never ends: the timeout must end all of them.
sleep 600 &
sleep 601
"""


def report_of(runs: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    run_dir = only_run_dir(runs)
    records = [json.loads(line) for line in (run_dir / "observations.jsonl").open()]
    return json.loads((run_dir / "report.json").read_text()), records


def oom_script_variant(tmp_path: Path, extra_step: str) -> Path:
    """oom-script with the shipped OOM script and one more step of the test's (its scripts/ beside it)."""
    runbook = (ROOT / "runbooks" / "oom-script.yaml").read_text()
    shipped = ROOT / "runbooks" / "scripts" / "oom-evict-ttl-keys.sh"
    runbook = runbook.replace("[scripts/oom-evict-ttl-keys.sh]", f"[{shipped}]")
    runbook = runbook.replace("verify:", f"    - {extra_step}\nverify:", 1)
    (tmp_path / "runbook.yaml").write_text(runbook)
    scenario = (ROOT / "scenarios" / "oom-script.yaml").read_text()
    scenario = scenario.replace("../environments/", f"{ROOT}/environments/")
    scenario = scenario.replace("../runbooks/oom-script.yaml", str(tmp_path / "runbook.yaml"))
    (tmp_path / "drill.yaml").write_text(scenario)
    return tmp_path / "drill.yaml"


def sleeping(marker: str) -> list[str]:
    """Processes whose command line holds `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                found.append(entry.name)
        except OSError:
            continue
    return found


def test_team_script_ends_an_oom_and_a_hanging_one_is_killed_at_its_timeout(tmp_path: Path) -> None:
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    hang = scripts / "hang-6017.sh"
    hang.write_text(HANGING)
    hang.chmod(0o755)
    scenario = oom_script_variant(tmp_path, "run: {command: [scripts/hang-6017.sh], timeout: 1s}")
    runs = tmp_path / "runs"
    result = drill("run", str(scenario), "--runs-dir", str(runs), "--quiet", timeout=150)
    report, records = report_of(runs)
    steps = {c["name"]: c for c in report["checks"]}
    script = steps["respond: run oom-evict-ttl-keys.sh"]
    assert script["status"] == "pass" and "maxmemory-policy now: volatile-lru" in script["evidence"], script
    assert steps["verify: reply_gone OOM"]["status"] == "pass"  # the script's fix, not the harness's
    hung = steps["respond: run hang-6017.sh"]
    assert hung["status"] == "FAIL" and "timed out after 1s" in hung["evidence"], hung
    assert result.returncode == 1, result.stdout + result.stderr  # that step failed the drill
    assert sleeping("sleep 60") == [], "the hanging program's children outlived its timeout"
    ran = next(r for r in records if r["kind"] == "runbook_step" and "oom-evict" in r["step"])
    assert ran["output"].startswith("node redis-1 (primary) at ")


def test_drill_node_names_what_it_cannot_find() -> None:
    result = drill("node", "status", "--run-id", "20990101-000000-nope00", "redis-1")
    assert result.returncode == 2 and "no running drill 20990101-000000-nope00" in result.stderr, (
        result.stderr
    )


def test_a_script_that_exits_0_but_fixes_nothing_fails_at_verify(tmp_path: Path) -> None:
    """alert-redis-down-paged with a restart script that only says it restarted: paged, the script passes,
    the node stays down, RedisDown never resolves: exit 1 at the verify steps."""
    noop = tmp_path / "scripts" / "restart-node.sh"
    noop.parent.mkdir()
    noop.write_text("#!/bin/sh\necho 'restarted it (not really)'\n")
    noop.chmod(0o755)
    (tmp_path / "runbook.yaml").write_text((ROOT / "runbooks" / "alert-redis-down-paged.yaml").read_text())
    scenario = (ROOT / "scenarios" / "alert-redis-down-paged.yaml").read_text()
    scenario = scenario.replace("../environments/", f"{ROOT}/environments/")
    scenario = scenario.replace("../runbooks/alert-redis-down-paged.yaml", str(tmp_path / "runbook.yaml"))
    scenario = scenario.replace("duration: 24s", "duration: 12s")  # the page comes at ~3 s; enough to fail
    (tmp_path / "drill.yaml").write_text(scenario)
    runs = tmp_path / "runs"
    result = drill("run", str(tmp_path / "drill.yaml"), "--runs-dir", str(runs), "--quiet")
    assert result.returncode == 1, result.stdout + result.stderr
    report, _ = report_of(runs)
    steps = {c["name"]: c for c in report["checks"]}
    assert steps["detect: page RedisDown firing"]["status"] == "pass"
    assert steps["respond: run restart-node.sh"]["status"] == "pass"  # it ran and said it was fine
    assert steps["verify: alert RedisDown resolved"]["status"] == "FAIL"  # but the node never came back
    assert steps["verify: page RedisDown resolved"]["status"] == "FAIL"


def test_on_a_secured_topology_the_script_logs_in_from_its_environment_and_no_secret_leaks(
    tmp_path: Path,
) -> None:
    master = f"drill-{secrets.token_urlsafe(16)}"
    leak = tmp_path / "scripts" / "show-login.sh"
    leak.parent.mkdir()
    leak.write_text('#!/bin/sh\necho "user=$DRILL_USER password=$DRILL_PASSWORD auth=$REDISCLI_AUTH"\n')
    leak.chmod(0o755)
    scenario = oom_script_variant(tmp_path, "run: {command: [scripts/show-login.sh]}")
    runs = tmp_path / "runs"
    env = {**os.environ, "REDIS_DRILL_SECRET": master}
    result = drill("run", str(scenario), "--runs-dir", str(runs), "--secure", "--quiet", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    report, _ = report_of(runs)
    steps = {c["name"]: c for c in report["checks"]}
    assert "maxmemory-policy now: volatile-lru" in steps["respond: run oom-evict-ttl-keys.sh"]["evidence"]
    shown = steps["respond: run show-login.sh"]["evidence"]
    assert "user=drill-operator password=<secret> auth=<secret>" in shown, shown
    passwords = [
        derive_password(Secret(master), f"{where}:{role}").reveal()
        for where, rules in (("redis", DATA_RULES), ("sentinel", SENTINEL_RULES))
        for role in rules
    ]
    needles = [master.encode(), *(p.encode() for p in passwords)]
    run_dir = only_run_dir(runs)
    leaks = [(str(f), n) for f in run_dir.rglob("*") if f.is_file() for n in needles if n in f.read_bytes()]
    assert leaks == []
    assert [n for n in needles if n in (result.stdout + result.stderr).encode()] == []
