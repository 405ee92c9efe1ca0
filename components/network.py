"""The stack's Hetzner private network: one network and the servers' subnet, which every server
of the stack joins at a fixed address (components.server). The traffic between servers stays
off the public interfaces and off the Internet; Hetzner's firewalls do not filter it."""

from __future__ import annotations

import pulumi
import pulumi_hcloud as hcloud

from config import NetworkConfig
from config.hetzner import NETWORK_ZONES


class PrivateNetwork(pulumi.ComponentResource):
    network_id: pulumi.Output[str]
    subnet_id: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        network: NetworkConfig,
        network_name: str,
        location: str,
        labels: dict[str, str],
        protect: bool,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("platform:index:PrivateNetwork", name, None, opts)
        instance = hcloud.Network(
            f"{name}-network",
            name=network_name,
            ip_range=network.ip_range,
            labels=labels,
            delete_protection=protect,
            opts=pulumi.ResourceOptions(parent=self, protect=protect),
        )
        subnet = hcloud.NetworkSubnet(
            f"{name}-subnet",
            network_id=instance.id.apply(int),
            type="cloud",
            network_zone=NETWORK_ZONES[location],
            ip_range=network.subnet,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.network_id = instance.id
        self.subnet_id = subnet.id
        self.register_outputs({"networkId": instance.id})
