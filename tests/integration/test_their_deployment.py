"""Drills on a deployment the harness did not start, found by address and acted on through the team's own
commands (environment `external`): nothing of theirs lost or left changed."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml

from harness.backends.local import free_port
from tests.conftest import ROOT, docker_unavailable, drill, only_run_dir
from tests.their_deployment import SENTINEL_PASSWORD_ENV, Deployment, their_deployment
from tests.their_hosts import three_hosts

pytestmark = pytest.mark.integration

THEIR_KEYS = 1000
# What a failover changes by design (roles), and what the server itself moves: not the harness's doing.
VOLATILE_CONFIG = {"replicaof", "slaveof"}
# What a plan may send to their data nodes besides what Sentinels and replicas send anyway: reads only.
READS = {"info", "ping", "publish", "replconf", "role", "command", "hello", "client|setname", "subscribe"}


def their_state(deployment: Deployment) -> tuple[dict[Any, Any], dict[str, dict[Any, Any]]]:
    """DUMP of each of their keys (on the primary), and every data node's CONFIG GET *."""
    client = deployment.primary().client()
    dumps = {key: client.dump(key) for key in client.scan_iter(match="their:*", count=1000)}
    configs = {
        p.name: {k: v for k, v in p.client().config_get("*").items() if str(k) not in VOLATILE_CONFIG}
        for p in deployment.data
    }
    return dumps, configs


def with_their_keys(deployment: Deployment) -> tuple[dict[Any, Any], dict[str, dict[Any, Any]]]:
    """Their 1,001 keys (strings and a hash) written on the primary and replicated; their state then."""
    primary = deployment.primary().client()
    for i in range(THEIR_KEYS):
        primary.set(f"their:{i}", f"value-{i}" * 8)
    primary.hset("their:hash", mapping={"a": 1, "b": 2})
    primary.execute_command("WAIT", 2, 2000)
    return their_state(deployment)


def no_run_keys(deployment: Deployment) -> bool:
    """No key of any run on their primary: staging-drill:..., {staging-drill:...}."""
    leftovers = list(deployment.primary().client().scan_iter(match="*drill*", count=1000))
    assert leftovers == [], leftovers[:5]
    return True


def command_calls(deployment: Deployment) -> dict[str, dict[str, int]]:
    return {
        p.name: {
            k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in p.client().info("commandstats").items()
        }
        for p in deployment.data
    }


def only_reads_since(calls: dict[str, dict[str, int]], deployment: Deployment) -> bool:
    after = command_calls(deployment)
    called = {cmd for name, seen in after.items() for cmd, n in seen.items() if n > calls[name].get(cmd, 0)}
    assert called <= READS, called - READS
    return True


def on_their_deployment(env: Path, tmp_path: Path, scenario: str) -> Path:
    copy = tmp_path / scenario
    text = (ROOT / "scenarios" / scenario).read_text()
    copy.write_text(
        text.replace("../environments/sentinel-3.yaml", str(env)).replace("../runbooks/", f"{ROOT}/runbooks/")
    )
    assert str(env) in copy.read_text()
    return copy


def run_aimed_at(other: Path, scenario: Path, env: Path) -> subprocess.CompletedProcess[str]:
    """The scenario run against another environment file (an edited copy of `env`), beside `other`."""
    aimed = other.with_name(f"aimed-at-{other.name}")
    aimed.write_text(scenario.read_text().replace(str(env), str(other)))
    runs = other.with_name(f"{other.stem}-runs")
    return drill(
        "run", str(aimed), "--runs-dir", str(runs), "--allow-external-faults", "--target", "their-staging"
    )


def run_on_theirs(scenario: Path, runs: Path) -> tuple[Any, dict[str, Any], list[dict[str, Any]]]:
    result = drill(
        "run", str(scenario), "--runs-dir", str(runs), "--allow-external-faults", "--target", "their-staging"
    )
    run_dir = only_run_dir(runs)
    report = json.loads((run_dir / "report.json").read_text())
    failed = [c for c in report["checks"] if c["status"] != "pass"]
    assert result.returncode == 0, (failed, result.stdout, result.stderr)
    records = [json.loads(line) for line in (run_dir / "observations.jsonl").read_text().splitlines()]
    checks = {c["name"]: c for c in report["checks"]}
    left = checks["external: deployment left as it was found"]
    assert left["status"] == "pass" and "keys of the run" in left["evidence"], left
    (cleanup,) = [r for r in records if r["kind"] == "cleanup"]
    kept = report["acknowledged_writes"] - (report["lost_writes"] or 0)  # a split brain's losses are gone
    assert cleanup["healthy"] and cleanup["keys_removed"] >= kept > 1000, cleanup
    assert cleanup["prefix"].startswith("staging-drill:"), cleanup  # the prefix the file sets
    return result, report, records


def test_drills_on_their_deployment_leave_it_as_found(tmp_path: Path) -> None:
    """A Sentinel deployment started outside the harness, on loopback addresses: drill plan reads only,
    every refusal, primary-failover passes (kill through their command, started again with theirs), a
    failing control command stops the run, a guarded drill aborts and rolls back; their 1,001 keys DUMP the
    same after, their CONFIG is as before, no key of a run is left."""
    with their_deployment(tmp_path / "theirs") as deployment:
        before = with_their_keys(deployment)
        assert len(before[0]) == THEIR_KEYS + 1
        env = tmp_path / "their-staging.yaml"
        env.write_text(deployment.environment_yaml())
        scenario = on_their_deployment(env, tmp_path, "primary-failover.yaml")
        runs = tmp_path / "runs"

        # drill plan: the exact commands, and nothing but reads reach their nodes.
        calls = command_calls(deployment)
        plan = drill("plan", str(scenario))
        assert plan.returncode == 0, plan.stderr
        pidfile = deployment.data[0].pidfile
        assert f"control kill: sh -c kill -KILL $(cat {pidfile})" in plan.stdout, plan.stdout
        assert (
            f"then, at the end of the drill: control start: sh {deployment.start_script} "
            f"{deployment.data[0].conf} {deployment.data[0].host} {deployment.data[0].port}" in plan.stdout
        )
        assert "down-after 1.50s from sentinels.down-after-milliseconds" in plan.stdout
        assert "every key under staging-drill:<run id>:*" in plan.stdout
        assert only_reads_since(calls, deployment)

        # Refused before anything changes: no --allow-external-faults, no or another --target, a wrong file.
        for extra, why in (
            ((), "this run gave no --target"),
            (("--target", "their-staging"), "--allow-external-faults"),
            (("--allow-external-faults", "--target", "prod"), "--target prod is another"),
        ):
            refused = drill("run", str(scenario), "--runs-dir", str(runs), *extra)
            assert refused.returncode == 2 and why in refused.stderr, (extra, refused.stderr)
        wrong = tmp_path / "wrong.yaml"
        wrong.write_text(
            env.read_text().replace("replicas: 2", "replicas: 3").replace("quorum: 2", "quorum: 3")
        )
        differs = run_aimed_at(wrong, scenario, env)
        assert differs.returncode == 2 and "Traceback" not in differs.stderr, differs.stderr
        assert f"{wrong}:4: replicas: says 3, the deployment has 2" in differs.stderr, differs.stderr
        assert "sentinels.quorum: says 3, the deployment has 2" in differs.stderr, differs.stderr
        assert not runs.exists()  # the refusals made no run

        result, report, records = run_on_theirs(scenario, runs)
        controls = [
            (r["action"], r["node"], r["exit"])
            for r in records
            if r["kind"] == "control" and r["action"] != "status"  # asked before choosing a target
        ]
        assert controls == [("kill", "redis-1", 0), ("start", "redis-1", 0)], controls
        assert [c["action"] for c in report["controls"] if c["action"] != "status"] == ["kill", "start"]
        assert "kill -KILL" in result.stdout and "status checks" in result.stdout  # the terminal lists them
        assert deployment.healthy()
        assert their_state(deployment) == before and no_run_keys(deployment)

        # Their command fails mid-drill: the run stops (exit 3) with its exit code and stderr, and what the
        # drill changed is put back all the same.
        broken = tmp_path / "broken.yaml"
        broken.write_text(
            env.read_text().replace(
                'kill: [sh, -c, "kill -KILL $(cat {pidfile})"]',
                'kill: [sh, -c, "echo no such unit >&2; exit 5"]',
            )
        )
        short = tmp_path / "short.yaml"
        short.write_text(
            f"name: short\nenvironment: {broken}\nload:\n  duration: 3s\n  timeout: 500ms\n"
            "  workloads: {acked-writes: {users: 4, wait: 10ms}}\nfaults:\n  - {at: 1s, kill: primary}\n"
            "runbooks: []\n"
        )
        failing = drill(
            "run", str(short), "--runs-dir", str(tmp_path / "short-runs"), "--allow-external-faults",
            "--target", "their-staging",
        )  # fmt: skip
        assert failing.returncode == 3 and "Traceback" not in failing.stderr, failing.stderr
        assert "control kill redis-1" in failing.stderr and "exited 5: no such unit" in failing.stderr
        assert deployment.healthy()

        # A partition through their isolate command, their CONFIG changed and their primary busy in a script:
        # the guard aborts on no primary, and every fault is rolled back, newest first, through their
        # commands and the nodes' own; then the deployment is put back as it was found.
        busy = deployment.primary()
        guarded = tmp_path / "guarded.yaml"
        guarded.write_text(
            f"name: guarded\nenvironment: {env}\nload:\n  duration: 25s\n  timeout: 500ms\n  retry: none\n"
            "  workloads: {acked-writes: {users: 4, wait: 20ms}}\nfaults:\n"
            "  - {at: 1s, partition: {between: [sentinels], and: [primary, replicas]}}\n"
            "  - {at: 1.5s, misconf: {node: primary}}\n"
            "  - {at: 2s, long-script: {node: primary, duration: 20s}}\n"
            "runbooks: []\nabort_if:\n  - no_primary: {for: 5s}\n"
        )
        planned = drill("plan", str(guarded))
        assert planned.returncode == 0, planned.stderr
        isolating = [
            line for line in planned.stdout.splitlines() if "control isolate: sh -c nft 'add table" in line
        ]
        assert len(isolating) == 6 and "control rejoin: sh -c nft delete table ip theirs_" in planned.stdout
        aborted = drill(
            "run", str(guarded), "--runs-dir", str(tmp_path / "guarded-runs"), "--allow-external-faults",
            "--target", "their-staging",
        )  # fmt: skip
        assert aborted.returncode == 4, aborted.stdout + aborted.stderr
        report = json.loads((only_run_dir(tmp_path / "guarded-runs") / "report.json").read_text())
        steps = [(s["action"], s["done"]) for s in report["aborted"]["rollback"]]
        assert steps == [
            ("long-script", "redis-1's script killed"),
            ("misconf", f"redis-1's dir back to {busy.conf.parent}"),  # the harness calls the primary redis-1
            ("partition", "partitions healed"),
        ], steps
        (dir_change,) = report["config_changes"]  # before, during and after, in the report
        assert (dir_change["parameter"], dir_change["before"], dir_change["after"]) == (
            "dir",
            str(busy.conf.parent),
            str(busy.conf.parent),
        ), dir_change
        assert dir_change["during"] == ["/proc (by fault 1 misconf)", f"{busy.conf.parent} (by the rollback)"]
        assert f"config redis-1 dir: {busy.conf.parent} -> /proc" in " ".join(aborted.stdout.split())
        isolates = [r for r in report["controls"] if r["action"] in ("isolate", "rejoin")]
        assert [r["action"] for r in isolates] == ["isolate"] * 6 + ["rejoin"] * 6, isolates
        assert (
            "theirs_" not in subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout
        )
        assert deployment.healthy()
        after = their_state(deployment)
        assert after[0] == before[0]  # every key of theirs, byte for byte
        assert after[1] == before[1]
        assert no_run_keys(deployment)

        # drill init from their Sentinel: an environment like theirs, started by the harness, and a starter
        # failover drill that loads (it passes, by hand: 17 s the suite spends on the nemesis instead).
        made = drill(
            "init", "--from-sentinel", deployment.sentinels[0].address, "--master", "mymaster",
            "--name", "like-theirs", "--dir", str(tmp_path / "init"),
        )  # fmt: skip
        assert made.returncode == 0, made.stdout + made.stderr
        written = (tmp_path / "init" / "environments" / "like-theirs.yaml").read_text()
        for setting in ("replicas: 2", "count: 3", "down-after-milliseconds: 1500", "failover-timeout: 5000"):
            assert setting in written, written
        config = yaml.safe_load(written)["config"]
        assert config["enable-debug-command"] == "local" and "bind-source-addr" not in config, written
        assert "    bind-source-addr: set by the harness" in made.stdout, made.stdout
        starter = drill("validate", str(tmp_path / "init" / "scenarios" / "like-theirs-failover.yaml"))
        assert starter.returncode == 0, starter.stdout + starter.stderr
        assert deployment.healthy()  # init only read


def test_a_deployment_whose_sentinels_or_seeds_do_not_answer_is_said_by_address(tmp_path: Path) -> None:
    port = free_port("127.77.0.1")  # nothing listens there
    env = tmp_path / "gone.yaml"
    env.write_text(
        "name: gone\nmaster_name: mymaster\nreplicas: 1\nreadiness_timeout: 1s\n"
        "sentinels: {count: 1, quorum: 1, down-after-milliseconds: 1500, failover-timeout: 5000}\n"
        f"external:\n  sentinels: [127.77.0.1:{port}]\n"
    )
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        f"name: s\nenvironment: {env}\nload:\n  duration: 2s\n  workloads: {{acked-writes: {{users: 1}}}}\n"
        "runbooks: []\n"
    )
    result = drill("run", str(scenario), "--runs-dir", str(tmp_path / "runs"))
    assert result.returncode == 3 and "Traceback" not in result.stderr, result.stderr
    assert f"127.77.0.1:{port}: ConnectionError" in result.stderr and "not ready after 1s" in result.stderr
    # A cluster's seeds the same way.
    env.write_text(
        "name: gone\ntopology: cluster\nreadiness_timeout: 1s\ncluster: {shards: 3, replicas_per_shard: 1}\n"
        f"external:\n  seeds: [127.77.0.1:{port}]\n"
    )
    result = drill("run", str(scenario), "--runs-dir", str(tmp_path / "runs"))
    assert result.returncode == 3 and "Traceback" not in result.stderr, result.stderr
    assert f"127.77.0.1:{port}: ConnectionError" in result.stderr and "describe its cluster" in result.stderr


def test_a_fault_the_deployments_control_cannot_do_is_bad_input_at_its_line(tmp_path: Path) -> None:
    env = tmp_path / "theirs.yaml"
    env.write_text(
        "name: theirs\nmaster_name: mymaster\nreplicas: 1\n"
        "sentinels: {count: 1, quorum: 1, down-after-milliseconds: 1500, failover-timeout: 5000}\n"
        "external:\n  sentinels: [127.77.0.1:26379]\n  control:\n    kill: [systemctl, kill, '{unit}']\n"
    )
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        f"name: s\nenvironment: {env}\nload:\n  duration: 2s\n  workloads: {{acked-writes: {{users: 1}}}}\n"
        "faults:\n  - {at: 1s, kill: primary}\n  - {at: 2s, pause: {node: replica, duration: 1s}}\n"
        "runbooks: []\n"
    )
    result = drill("validate", str(scenario))
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert f"{scenario}:7: faults[0].kill: kill acts through the deployment's own commands" in result.stderr
    assert "no external.control start command" in result.stderr  # killed nodes are started again
    assert (
        f"{scenario}:8: faults[1].pause: pause acts" in result.stderr and "pause or resume" in result.stderr
    )


def test_debug_sleep_is_refused_before_the_drill_starts_where_debug_is_off(tmp_path: Path) -> None:
    env = tmp_path / "no-debug.yaml"
    env.write_text(
        (ROOT / "environments" / "sentinel-3.yaml").read_text().replace("enable-debug-command: local", "")
    )
    assert "enable-debug-command" not in env.read_text()
    scenario = on_their_deployment(env, tmp_path, "primary-debug-sleep.yaml")
    result = drill("run", str(scenario), "--runs-dir", str(tmp_path / "runs"))
    assert result.returncode == 3 and "Traceback" not in result.stderr, result.stderr
    assert "debug-sleep: redis-1" in result.stderr and "refuses DEBUG" in result.stderr, result.stderr
    assert "driving load" not in result.stderr  # refused before the load started


def test_debug_sleep_on_their_secured_deployment_logs_in_as_their_users(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """primary-debug-sleep (DEBUG SLEEP longer than down-after) on the deployment locked down as a team
    does: no default user, the drill's own ACL users (its load may touch only keys under its prefix), a
    requirepass on the Sentinels, TLS only with client certificates. The harness logs in with the
    passwords from their files and variable and their certificate; no control command runs, no secret
    reaches any artifact, no command or key was denied, their keys DUMP the same after, and the
    deployment is as found."""
    with their_deployment(tmp_path / "theirs", secured=True) as deployment:
        locked = deployment.secured
        assert locked is not None
        first = deployment.data[0]
        with pytest.raises(redis.ConnectionError):  # TLS only: a plain client is cut off
            redis.Redis(first.host, first.port, socket_timeout=2).get("their:0")
        with pytest.raises(redis.AuthenticationError):  # and over TLS, no login, no answer
            dataclasses.replace(first, login=first.login.without_secrets()).client().get("their:0")
        before = with_their_keys(deployment)
        env = tmp_path / "their-staging.yaml"
        env.write_text(deployment.environment_yaml())
        monkeypatch.setenv(SENTINEL_PASSWORD_ENV, locked.sentinels)
        slept = on_their_deployment(env, tmp_path, "primary-debug-sleep.yaml")
        plan = drill("plan", str(slept))  # how each role logs in, and where from; never a password
        assert plan.returncode == 0, plan.stderr
        for line in (
            f"operator  drill-ops (password from {locked.secrets_dir / 'operator'})",
            "monitor   as operator",
            f"Sentinels the default user (password from ${SENTINEL_PASSWORD_ENV})",
            f"TLS       CA {locked.certificates.client.ca}, client certificate",
        ):
            assert line in plan.stdout, plan.stdout
        assert not [v for v in locked.values() if v in plan.stdout]
        # A login they refuse is said at the start, by role and user (never the password): exit 3.
        stale = tmp_path / "stale-load-password"
        stale.write_text("an-old-password\n")
        wrong = tmp_path / "wrong.yaml"
        wrong.write_text(env.read_text().replace(str(locked.secrets_dir / "load"), str(stale)))
        refused = run_aimed_at(wrong, slept, env)
        assert refused.returncode == 3 and "Traceback" not in refused.stderr, refused.stderr
        assert "refuses the harness's logins: load (drill-load) on redis-1" in refused.stderr, refused.stderr
        assert "invalid username-password pair" in refused.stderr, refused.stderr
        assert "an-old-password" not in refused.stderr
        refused_log = (only_run_dir(tmp_path / "wrong-runs") / "observations.jsonl").read_text()
        assert '"cleanup"' not in refused_log  # nothing was touched: no "not as found" record either
        _, report, _ = run_on_theirs(slept, tmp_path / "sleep-runs")
        assert [c["action"] for c in report["controls"] if c["action"] != "status"] == [], report["controls"]
        assert [f["action"] for f in report["faults"]] == ["debug-sleep"]
        denied = [
            entry
            for process in deployment.data
            for entry in process.client().acl_log()
            if entry["reason"] != "auth"  # the harness's own probe: a client without a login is refused
        ]
        assert denied == [], denied  # the load stayed in its prefix; every role had what it needed
        run_dir = only_run_dir(tmp_path / "sleep-runs")
        key = locked.certificates.client.key
        assert key is not None
        secret = [v.encode() for v in locked.values()] + [Path(key).read_bytes().splitlines()[1]]
        for artifact in (f for f in run_dir.rglob("*") if f.is_file()):
            text = artifact.read_bytes()
            assert [s for s in secret if s in text] == [], f"{artifact} holds a password or their key"
        assert deployment.healthy()
        assert their_state(deployment) == before and no_run_keys(deployment)


@pytest.mark.docker
def test_drills_on_a_deployment_over_three_hosts_driven_through_ssh(tmp_path: Path) -> None:
    """Three hosts (network namespaces with their own addresses and sshd), a data node and a Sentinel on
    each; every command the drill runs on them goes through `ssh HOST ...`, the partition too (each host's
    own nftables, which only SSH reaches). primary-failover and split-brain pass; the deployment is left as
    found."""
    if why := docker_unavailable():
        pytest.skip(why)
    with (
        three_hosts(tmp_path / "hosts") as hosts,
        their_deployment(tmp_path / "theirs", hosts=hosts) as deployment,
    ):
        before = with_their_keys(deployment)
        env = tmp_path / "their-staging.yaml"
        env.write_text(deployment.ssh_environment_yaml(hosts))
        first = deployment.data[0]
        failover = on_their_deployment(env, tmp_path, "primary-failover.yaml")
        calls = command_calls(deployment)
        plan = drill("plan", str(failover))
        assert plan.returncode == 0, plan.stdout + plan.stderr
        assert f"control kill: ssh -F {hosts.ssh_config} {first.host} kill -KILL $(cat" in plan.stdout
        assert f"then, at the end of the drill: control start: ssh -F {hosts.ssh_config}" in plan.stdout
        assert only_reads_since(calls, deployment)

        result, report, _ = run_on_theirs(failover, tmp_path / "runs")
        done = [
            (c["action"], c["node"], c["exit"], c["stdout"].strip())
            for c in report["controls"]
            if c["action"] != "status"
        ]
        assert done == [
            ("kill", "redis-1", 0, f"killed redis-1 on {first.host}"),
            ("start", "redis-1", 0, f"started redis-1 on {first.host}"),
        ], done
        assert all(
            c["command"].startswith(f"ssh -F {hosts.ssh_config} {first.host} ")
            for c in report["controls"]
            if c["node"] == "redis-1"
        )
        assert (
            f"killed redis-1 on {first.host}" in result.stdout
        )  # the terminal shows what their command said
        assert deployment.healthy()
        assert their_state(deployment) == before and no_run_keys(deployment)

        split = on_their_deployment(env, tmp_path, "split-brain.yaml")
        _, report, _ = run_on_theirs(split, tmp_path / "split-runs")
        cuts = [c for c in report["controls"] if c["action"] in ("isolate", "rejoin")]
        # The primary cut from the others and the others from the primary: each node's own host filters.
        assert [c["action"] for c in cuts] == ["isolate"] * 6 + ["rejoin"] * 6, cuts
        assert all(c["exit"] == 0 and c["command"].startswith("ssh -F ") for c in cuts), cuts
        assert report["lost_writes"] > 0, report["lost_writes"]  # the old primary acknowledged them alone
        for namespace in hosts.namespaces:
            tables = subprocess.run(
                ["ip", "netns", "exec", namespace, "nft", "list", "tables"], capture_output=True, text=True
            )
            assert tables.returncode == 0 and "theirs_" not in tables.stdout, (namespace, tables.stdout)
        assert deployment.healthy()
        assert their_state(deployment) == before  # every key of theirs byte for byte, every CONFIG value
        assert no_run_keys(deployment)
