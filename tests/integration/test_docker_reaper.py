"""Two cleanups at once (two CI jobs, or a drill's teardown and `drill cleanup`): what the other one is
removing is waited for, not an error; what nobody removes is named."""

from __future__ import annotations

import secrets
import threading

import pytest
from docker.errors import NotFound

from harness.backends.docker_network import LABEL_RUN
from harness.backends.docker_reaper import reap_docker, removed
from harness.backends.image import connect, ensure_image
from harness.core.errors import BackendError
from tests.conftest import docker_unavailable

pytestmark = [pytest.mark.integration, pytest.mark.docker]

if (why := docker_unavailable()) is not None:
    pytest.skip(why, allow_module_level=True)


def test_a_network_another_cleanup_is_emptying_is_waited_for_and_one_nobody_empties_is_named() -> None:
    client = connect()
    run_id = f"19990101-000000-{secrets.token_hex(3)}"  # owned by no harness: reaped below whatever happens
    labels = {LABEL_RUN: run_id}
    network = client.networks.create(f"drill-reaper-{run_id}", labels=labels)
    try:
        image = ensure_image(client)  # redis-server is its entrypoint
        node = client.containers.run(image, ["--save", ""], detach=True, labels=labels, network=network.name)
        # Its container still attached and nobody removing it: named once the wait is over.
        with pytest.raises(BackendError, match=f"the network {network.name}: .*active endpoints"):
            removed(network, network.remove, "network", wait=0.5)

        # The other cleanup removes the container and the network once this one's attempt was refused.
        refused = threading.Event()

        def first_attempt() -> None:
            try:
                network.remove()
            finally:
                refused.set()

        def other_cleanup() -> None:
            assert refused.wait(10)
            node.remove(force=True)
            network.remove()

        other = threading.Thread(target=other_cleanup)
        other.start()
        assert removed(network, first_attempt, "network") is False
        other.join()
        with pytest.raises(NotFound):
            client.networks.get(network.id)
    finally:
        reap_docker([run_id])
