"""Cloudflare DNS: one A and one AAAA record per hostname the stack serves."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pulumi
import pulumi_cloudflare as cloudflare

from config import DnsConfig, ServedHostname

AUTO_TTL = 1  # Cloudflare's "automatic"; the only TTL a proxied record accepts
MAX_COMMENT = 100  # Cloudflare's limit on the free plan

# Zone-wide settings for origin certificates behind the proxy; only on opt-in, as they change
# every record of the zone, including ones this stack does not own.
ZONE_SETTINGS = (
    ("ssl", "strict"),
    ("always_use_https", "on"),
    ("min_tls_version", "1.2"),
)


def record_types(dns: DnsConfig) -> list[str]:
    return ["A", "AAAA"] if dns.ipv6 else ["A"]


@dataclass(frozen=True)
class Origin:
    """Where some of the hostnames point: the server, or the app servers' load balancer."""

    hostnames: list[ServedHostname]
    ipv4: pulumi.Input[str]
    ipv6: pulumi.Input[str]


class Dns(pulumi.ComponentResource):
    zone_id: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        dns: DnsConfig,
        zone_name: str,
        origins: list[Origin],
        stack: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("platform:index:Dns", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if dns.zone_id is not None:
            self.zone_id = pulumi.Output.from_input(dns.zone_id)
        else:
            zone = cloudflare.get_zone_output(
                filter=cloudflare.GetZoneFilterArgs(name=zone_name, match="all"),
                opts=pulumi.InvokeOutputOptions(parent=self),
            )
            self.zone_id = zone.zone_id.apply(str)
        for origin in origins:
            content = {"A": origin.ipv4, "AAAA": origin.ipv6}
            for host, record_type in itertools.product(origin.hostnames, record_types(dns)):
                cloudflare.DnsRecord(
                    f"{name}-{host.fqdn}-{record_type.lower()}",
                    zone_id=self.zone_id,
                    name=host.fqdn,
                    type=record_type,
                    content=content[record_type],
                    proxied=host.proxied,
                    ttl=AUTO_TTL if host.proxied else dns.ttl,
                    comment=f"Pulumi stack {stack}: {host.owner}"[:MAX_COMMENT],
                    opts=child,
                )
        if dns.manage_zone_settings:
            for setting_id, value in ZONE_SETTINGS:
                cloudflare.ZoneSetting(
                    f"{name}-zone-{setting_id}",
                    zone_id=self.zone_id,
                    setting_id=setting_id,
                    value=value,
                    opts=child,
                )
        self.register_outputs({"zoneId": self.zone_id})
