"""The app servers' Hetzner load balancer (the master plan's stage 4): on the private network,
it forwards the apps' traffic to each app server's private address, so the app servers open
no public port but SSH. Cloudflare's proxy connects to it, and the apps' DNS records point at
it.

TLS per `appServers.loadBalancer.tls`:
- passthrough: TCP on 443 (and 80), each app server's Traefik ends TLS with the Cloudflare
  origin certificate, as the server's does;
- terminate: HTTPS on 443 with the origin certificate uploaded to Hetzner, plain HTTP to the
  app servers on 80, and 80 redirected to 443 by the load balancer.
Either way the health check asks an app's health path under its hostname, so a server whose
proxy runs but whose apps do not is taken out.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_hcloud as hcloud

from components.server import Server
from components.tls import OriginCertificate
from config import LoadBalancerConfig

HTTP_PORT, HTTPS_PORT = 80, 443


@dataclass(frozen=True)
class Listener:
    """One service of the load balancer: what it listens on and forwards to."""

    protocol: str  # tcp or https
    listen_port: int
    destination_port: int


def listeners(tls: str) -> list[Listener]:
    if tls == "terminate":
        # The https service's redirect_http answers on 80 itself.
        return [Listener("https", HTTPS_PORT, HTTP_PORT)]
    return [Listener("tcp", HTTPS_PORT, HTTPS_PORT), Listener("tcp", HTTP_PORT, HTTP_PORT)]


class LoadBalancer(pulumi.ComponentResource):
    ipv4: pulumi.Output[str]
    ipv6: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        load_balancer: LoadBalancerConfig,
        balancer_name: str,
        location: str,
        subnet_id: pulumi.Input[str],
        address: str,
        targets: list[Server],
        health_host: str,
        health_path: str,
        origin_certificate: OriginCertificate,
        labels: dict[str, str],
        protect: bool,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`address`: its fixed address in the private network; `targets`: the app servers;
        `health_host`/`health_path`: what the health check asks for."""
        super().__init__("platform:index:LoadBalancer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        instance = hcloud.LoadBalancer(
            f"{name}-load-balancer",
            name=balancer_name,
            load_balancer_type=load_balancer.type,
            location=location,
            algorithm=hcloud.LoadBalancerAlgorithmArgs(type=load_balancer.algorithm),
            labels=labels,
            delete_protection=protect,
            # Its addresses are what the apps' DNS records point at. The explicit name would
            # collide if a replacement were created first.
            opts=pulumi.ResourceOptions(parent=self, protect=protect, delete_before_replace=True),
        )
        lb_id = instance.id.apply(int)
        attached = hcloud.LoadBalancerNetwork(
            f"{name}-private-network",
            load_balancer_id=lb_id,
            subnet_id=subnet_id,
            ip=address,
            # Cloudflare reaches it on its public addresses.
            enable_public_interface=True,
            opts=child,
        )
        for index, target in enumerate(targets, start=1):
            hcloud.LoadBalancerTarget(
                f"{name}-target-{index}",
                load_balancer_id=lb_id,
                type="server",
                server_id=target.server_id.apply(int),
                # Over the private network: the app servers' firewalls open no web port. Both
                # ends must have joined it first (the server component holds its attachment).
                use_private_ip=True,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[attached, target]),
            )
        certificates: list[pulumi.Input[int]] = []
        if load_balancer.tls == "terminate":
            # Auto-named: a new certificate is uploaded before the old one is removed.
            uploaded = hcloud.UploadedCertificate(
                f"{name}-certificate",
                certificate=origin_certificate.certificate_pem,
                private_key=origin_certificate.private_key_pem,
                labels=labels,
                opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["privateKey"]),
            )
            certificates = [uploaded.id.apply(int)]
        check = load_balancer.health_check
        # Ask the app through its server's proxy, where the requests reach it: over TLS on 443
        # when the servers end TLS (on 80 their proxy only redirects), else on 80.
        over_tls = load_balancer.tls == "passthrough"
        for listener in listeners(load_balancer.tls):
            hcloud.LoadBalancerService(
                f"{name}-service-{listener.listen_port}",
                load_balancer_id=instance.id,
                protocol=listener.protocol,
                listen_port=listener.listen_port,
                destination_port=listener.destination_port,
                http=(
                    hcloud.LoadBalancerServiceHttpArgs(
                        certificates=certificates, redirect_http=True
                    )
                    if listener.protocol == "https"
                    else None
                ),
                health_check=hcloud.LoadBalancerServiceHealthCheckArgs(
                    protocol="http",
                    port=HTTPS_PORT if over_tls else HTTP_PORT,
                    interval=check.interval,
                    timeout=check.timeout,
                    retries=check.retries,
                    http=hcloud.LoadBalancerServiceHealthCheckHttpArgs(
                        domain=health_host,
                        path=health_path,
                        tls=over_tls,
                        status_codes=["2??"],
                    ),
                ),
                opts=child,
            )
        self.ipv4 = instance.ipv4
        self.ipv6 = instance.ipv6
        self.register_outputs({"ipv4": self.ipv4, "ipv6": self.ipv6})
