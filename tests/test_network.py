"""The private network: one Hetzner network and subnet, which the server joins at a fixed
address through its own ServerNetwork resource; its range never overlaps Docker's pool."""

from __future__ import annotations

from typing import Any

import pytest

from config.errors import ConfigError
from offline.engine import Recording
from tests.support import evaluate_config, evaluate_ok, minimal_config, with_value


def with_network(**network: Any) -> dict[str, Any]:
    return {**minimal_config(), "network": network}


def test_the_server_joins_the_private_network_at_its_fixed_address() -> None:
    recording = evaluate_ok(with_network())
    (network,) = recording.of_type("hcloud:index/network:Network")
    (subnet,) = recording.of_type("hcloud:index/networkSubnet:NetworkSubnet")
    (attachment,) = recording.of_type("hcloud:index/serverNetwork:ServerNetwork")
    (server,) = recording.of_type("hcloud:index/server:Server")
    assert network.inputs["ipRange"] == "10.0.0.0/16"
    assert (subnet.inputs["networkId"], subnet.inputs["type"]) == (int(network.id or 0), "cloud")
    assert (subnet.inputs["networkZone"], subnet.inputs["ipRange"]) == ("eu-central", "10.0.1.0/24")
    assert attachment.inputs["serverId"] == int(server.id or 0)
    assert attachment.inputs["subnetId"] == subnet.id
    assert attachment.inputs["ip"] == "10.0.1.2"
    assert "networks" not in server.inputs  # inline networks would replace the server
    assert recording.stack_outputs["serverPrivateIpv4"] == "10.0.1.2"


def test_the_network_is_protected_like_the_server() -> None:
    protected = evaluate_ok(with_value(with_network(), "server.deleteProtection", True))
    (network,) = protected.of_type("hcloud:index/network:Network")
    assert (network.protect, network.inputs["deleteProtection"]) == (True, True)
    loose = evaluate_ok(with_value(with_network(), "server.deleteProtection", False))
    (network,) = loose.of_type("hcloud:index/network:Network")
    assert (network.protect, network.inputs["deleteProtection"]) == (False, False)


ZONES = [("hel1", "eu-central"), ("ash", "us-east"), ("hil", "us-west"), ("sin", "ap-southeast")]


@pytest.mark.parametrize(("location", "zone"), ZONES)
def test_the_subnet_is_in_the_servers_network_zone(location: str, zone: str) -> None:
    values = with_value(with_network(), "server", {"type": "cpx32", "location": location})
    (subnet,) = evaluate_ok(values).of_type("hcloud:index/networkSubnet:NetworkSubnet")
    assert subnet.inputs["networkZone"] == zone


def test_no_network_unless_configured() -> None:
    recording = evaluate_ok(minimal_config())
    assert recording.of_type("hcloud:index/network:Network") == []
    assert "serverPrivateIpv4" not in recording.stack_outputs


def problems(values: dict[str, Any]) -> str:
    recording: Recording = evaluate_config(values)
    assert isinstance(recording.error, ConfigError)
    assert recording.resources == []
    return str(recording.error)


@pytest.mark.parametrize(
    ("network", "message"),
    [
        ({"ipRange": "172.16.0.0/16", "subnet": "172.16.1.0/24"},
         "platform:network.ipRange: the private network 172.16.0.0/16 overlaps Docker's address "
         "pool 172.16.0.0/12 (coolify.dockerAddressPool)"),
        ({"subnet": "10.1.0.0/24"},
         "platform:network.subnet: the subnet 10.1.0.0/24 is not inside the network's ipRange"),
        ({"ipRange": "100.64.0.0/16", "subnet": "100.64.1.0/24"},
         "platform:network.ipRange: '100.64.0.0/16' must be a private IPv4 range"),
        ({"subnet": "10.0.1.0/30"}, "platform:network.subnet: the subnet 10.0.1.0/30 is too small"),
        ({"ipRange": "10.0.0.1/16"}, "has host bits set; write the network 10.0.0.0/16"),
        ({"range": "10.0.0.0/16"}, "platform:network.range: unknown key"),
    ],
)  # fmt: skip
def test_bad_networks_are_refused_with_their_key(network: dict[str, str], message: str) -> None:
    assert message in problems(with_network(**network))


def test_moving_docker_s_pool_away_admits_the_range() -> None:
    values = with_value(with_network(ipRange="172.16.0.0/16", subnet="172.16.1.0/24"),
                        "coolify.dockerAddressPool", "10.128.0.0/9")  # fmt: skip
    assert evaluate_ok(values).stack_outputs["serverPrivateIpv4"] == "172.16.1.2"
