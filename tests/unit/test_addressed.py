"""A deployment found by address: its file's address map and per-node variables, and a topology that
knows a node by the address it announces as well as the one it is reached at."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.backends.control import fill, node_variables
from harness.backends.external_access import external_access
from harness.core.errors import ConfigError, FaultError
from harness.core.topology import Node, Topology
from harness.scenario.loader import load_environment
from tests.conftest import ROOT

HEAD = (
    "name: theirs\nmaster_name: mymaster\nreplicas: 1\n"
    "sentinels: {count: 1, quorum: 1, down-after-milliseconds: 1500, failover-timeout: 5000}\n"
)


def test_the_kubernetes_example_maps_pod_addresses_to_forwarded_ports() -> None:
    env = load_environment(ROOT / "environments" / "k8s-sentinel.yaml")
    deployment = env.external_deployment
    assert deployment is not None and deployment.control is not None and env.confirm == "k8s-sentinel"
    assert deployment.reach(("10.244.0.12", 6379)) == ("127.0.0.1", 16380)
    assert deployment.reach(("127.0.0.1", 26379)) == ("127.0.0.1", 26379)  # unmapped: as announced
    node = Node("redis-2", "redis", "127.0.0.1", 16380)
    variables = node_variables(deployment.control, node, "replica", "10.244.0.12:6379")
    template = deployment.control.template("kill")
    assert template is not None
    assert fill(template, variables, "kill") == [
        "kubectl", "-n", "redis", "delete", "pod", "redis-1", "--grace-period=0", "--force"
    ]  # fmt: skip
    with pytest.raises(FaultError, match=r"names \{namespace\}, which this node has no value for"):
        fill(template, node_variables(deployment.control, node, "replica"), "kill")


def test_a_topology_finds_a_node_by_the_address_it_announces() -> None:
    topology = Topology(
        "mymaster",
        (Node("redis-1", "redis", "127.0.0.1", 16379),),
        "redis-1",
        announced=(("10.244.0.11", 6379, "redis-1"),),
    )
    found = topology.by_address("10.244.0.11", 6379)
    assert found is not None and found.name == "redis-1"
    assert topology.announced_address("redis-1") == "10.244.0.11:6379"
    assert topology.by_address("10.244.0.99", 6379) is None


def test_address_map_and_node_keys_are_checked_with_their_lines(tmp_path: Path) -> None:
    env = tmp_path / "env.yaml"
    env.write_text(
        HEAD + "external:\n  sentinels: [127.0.0.1:26379]\n  address_map:\n"
        "    10.0.0.5:6379: 127.0.0.1:16379\n    10.0.0.7:6379: 10.0.0.7:16379\n"
        "    nowhere: 127.0.0.1:16380\n"
        "  nodes:\n    10.0.0.6:6379: {unit: a}\n    10.0.0.5:6379: {unit: b}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_environment(env)
    text = str(caught.value)
    assert f"{env}:9: external.address_map.10.0.0.7:6379: 10.0.0.7 is not a loopback address" in text
    assert f"{env}:10: external.address_map.nowhere: expected an announced host:port" in text
    assert f"{env}:12: external.nodes.10.0.0.6:6379: 10.0.0.6 is not a loopback address" in text
    assert "external.nodes.10.0.0.5:6379" not in text  # an announced address of the map


def test_a_deployment_reaches_only_loopback_and_the_networks_its_file_names(tmp_path: Path) -> None:
    env = tmp_path / "env.yaml"
    env.write_text(
        HEAD + "external:\n  networks: [10.213.7.0/24]\n  sentinels: [10.213.7.11:26379, 10.213.8.11:26379]\n"
        "  nodes:\n    10.213.7.12:6379: {unit: a}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_environment(env)
    assert str(caught.value).count("\n") == 0, caught.value  # only the Sentinel outside the network
    assert (
        f"{env}:7: external.sentinels[1]: 10.213.8.11 is in none of the networks this deployment may be "
        "reached in (127.0.0.0/8, 10.213.7.0/24)" in str(caught.value)
    )
    env.write_text(env.read_text().replace(", 10.213.8.11:26379", ""))
    deployment = load_environment(env).external_deployment
    assert deployment is not None and deployment.sentinels == (("10.213.7.11", 26379),)
    env.write_text(env.read_text().replace("10.213.7.0/24", "0.0.0.0/0"))
    with pytest.raises(ConfigError, match=r":6: external.networks\[0\]: 0.0.0.0/0 would let the drill"):
        load_environment(env)


def test_an_external_cluster_is_found_by_seeds_and_only_a_cluster_by_seeds(tmp_path: Path) -> None:
    env = tmp_path / "cluster.yaml"
    head = "name: theirs\ntopology: cluster\ncluster: {shards: 3, replicas_per_shard: 1}\nconfirm: theirs\n"
    env.write_text(head + "external:\n  seeds: [127.0.0.1:7000]\n  control: {kill: [k], start: [s]}\n")
    loaded = load_environment(env)
    assert loaded.cluster is not None and loaded.confirm == "theirs"
    deployment = loaded.external_deployment
    assert deployment is not None and deployment.seeds == (("127.0.0.1", 7000),)
    assert "the nodes at 127.0.0.1:7000" in loaded.owner
    env.write_text(head + "external:\n  sentinels: [127.0.0.1:26379]\n")
    with pytest.raises(ConfigError, match=r":6: external.sentinels: an external cluster is found through"):
        load_environment(env)
    sentinel = tmp_path / "sentinel.yaml"
    sentinel.write_text(HEAD + "external:\n  seeds: [127.0.0.1:7000]\n")
    with pytest.raises(ConfigError, match=r":6: external.seeds: seeds are for topology: cluster"):
        load_environment(sentinel)


def test_their_users_and_tls_files_log_each_role_in_and_stay_out_of_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ca.pem", "client.pem", "client.key"):
        (tmp_path / name).write_text("PEM\n")
    (tmp_path / "load.pass").write_text("load-secret\n")
    monkeypatch.setenv("THEIR_OPS_PASSWORD", "ops-secret")
    monkeypatch.setenv("THEIR_SENTINEL_PASSWORD", "sentinel-secret")
    env = tmp_path / "env.yaml"
    env.write_text(
        HEAD + "external:\n  sentinels: [127.0.0.1:26379]\n  users:\n"
        "    operator: {user: drill-ops, password_env: THEIR_OPS_PASSWORD}\n"
        "    load: {user: drill-load, password_file: load.pass}\n"
        "  sentinel_auth: {password_env: THEIR_SENTINEL_PASSWORD}\n"
        "  tls: {ca: ca.pem, cert: client.pem, key: client.key}\n"
    )
    loaded = load_environment(env)
    assert "secret" not in repr(loaded)  # where the passwords are, never what they are
    access = external_access(loaded)
    load, monitor = access.credentials("load"), access.credentials("monitor")
    assert (load.username, load.auth_args()) == ("drill-load", ("AUTH", "drill-load", "load-secret"))
    assert monitor.username == "drill-ops"  # a role without its own user logs in as the operator
    assert access.credentials("operator", "sentinel").auth_args() == ("AUTH", "sentinel-secret")
    assert load.tls is not None and load.tls.ca == str(tmp_path / "ca.pem") and load.tls.key is not None
    assert set(access.secrets()) == {"ops-secret", "load-secret", "sentinel-secret"}  # redacted from logs
    env.write_text(env.read_text().replace("  tls: {ca: ca.pem, cert: client.pem, key: client.key}\n",
                                           "  tls: {ca: missing.pem, cert: client.pem}\n"))  # fmt: skip
    with pytest.raises(ConfigError) as caught:
        load_environment(env)
    assert "external.tls.cert: give cert and key together" in str(caught.value)
