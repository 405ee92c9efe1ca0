"""The stack's servers as its topology (config.topology.Hosts) says: the private network, one
Server per host, the load balancer in front of the app servers, and, once Coolify runs, the
other servers in Coolify. Where the databases, their jobs and the apps run is read from the
hosts, so adding a stage changes the topology, not the composition in __main__.py.

These are builders, not components: the servers, the network, the load balancer and the
Coolify servers have been registered at the stack's top level since the first `up`, and a
component around them would change every URN (Pulumi would replace the live servers).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_command as command

from components.apps import AppServers
from components.coolify import CoolifyInstall, CoolifyServer
from components.data import DatabaseHost, Probe
from components.dns import Origin
from components.load_balancer import HTTP_PORT, HTTPS_PORT, LoadBalancer
from components.network import PrivateNetwork
from components.server import Server
from components.tls import OriginCertificate
from config import NetworkConfig, ServedHostname, SshConfig
from config.topology import Hosts
from coolify.resources import PrivateKey


class Servers:
    """Every host of the topology as a Hetzner server, on the private network if there is one,
    and the load balancer in front of the app servers."""

    def __init__(
        self,
        hosts: Hosts,
        *,
        hostname: str,
        network: NetworkConfig | None,
        ssh: SshConfig,
        docker_address_pool: str,
        origin_certificate: OriginCertificate | None,
        labels: dict[str, str],
    ) -> None:
        """`hostname`: the main server's name, which the others extend."""
        self.hosts = hosts
        main = hosts.main
        protect = main.server.delete_protection
        private_network = (
            PrivateNetwork(
                "network",
                network=network,
                network_name=hostname,
                location=main.server.location,
                labels=labels,
                protect=protect,
            )
            if network is not None
            else None
        )
        self.by_host: dict[str, Server] = {}
        for host in hosts.all:
            self.by_host[host.name] = Server(
                host.name,
                server=host.server,
                ssh=ssh,
                hostname=f"{hostname}{host.hostname_suffix}",
                docker_address_pool=docker_address_pool,
                labels=labels,
                private_network=(
                    (private_network.subnet_id, host.private_address)
                    if private_network is not None and host.private_address is not None
                    else None
                ),
                web=host.serves_web,
                # Hetzner registers a public key once per project, and Coolify reaches every
                # server with the one automation key: the main server's.
                keys_from=None if host is main else self.by_host[main.name],
                role=host.label,
            )
        self.main = self.by_host[main.name]
        self.app_servers = [self.by_host[host.name] for host in hosts.app_servers]
        balancing = hosts.load_balancing
        self.load_balancer = (
            LoadBalancer(
                "load-balancer",
                load_balancer=balancing.config,
                balancer_name=hostname,
                location=main.server.location,
                subnet_id=private_network.subnet_id,
                address=balancing.address,
                targets=self.app_servers,
                health_host=balancing.health_host,
                health_path=balancing.health_path,
                origin_certificate=origin_certificate,
                labels=labels,
                protect=protect,
            )
            if balancing is not None
            and private_network is not None
            and origin_certificate is not None
            else None
        )

    def origins(self, hostnames: list[ServedHostname]) -> list[Origin]:
        """Where each hostname points: the load balancer's for the apps behind it, the main
        server's for the rest."""
        balanced = self.hosts.load_balancing
        behind = list(balanced.hostnames) if balanced is not None else []
        rest = [host for host in hostnames if host not in behind]
        origins = [Origin(rest, self.main.ipv4, self.main.ipv6)]
        if self.load_balancer is not None:
            origins.append(Origin(behind, self.load_balancer.ipv4, self.load_balancer.ipv6))
        return origins

    def proxy_probes(self) -> list[Probe]:
        """Each app server's proxy, for monitoring: the load balancer hides a server that is
        down. Plain HTTP where the load balancer ends TLS."""
        balanced = self.hosts.load_balancing
        port = HTTP_PORT if balanced is not None and balanced.ends_tls else HTTPS_PORT
        return [
            Probe(f"app server {server.hostname}", pulumi.Output.from_input(address), port)
            for server in self.app_servers
            if (address := server.private_ipv4) is not None
        ]

    def outputs(self) -> dict[str, pulumi.Input[object]]:
        """The stack outputs that name the servers' addresses, as far as they exist."""
        outputs: dict[str, pulumi.Input[object]] = {
            "serverIpv4": self.main.ipv4,
            "serverIpv6": self.main.ipv6,
        }
        if self.main.private_ipv4 is not None:
            outputs["serverPrivateIpv4"] = self.main.private_ipv4
        database = self.by_host[self.hosts.database.name]
        if database is not self.main:
            outputs["databaseServerIpv4"] = database.ipv4
            outputs["databaseServerPrivateIpv4"] = database.private_ipv4
        if self.app_servers:
            outputs["appServerIpv4s"] = [server.ipv4 for server in self.app_servers]
            outputs["appServerPrivateIpv4s"] = [server.private_ipv4 for server in self.app_servers]
        if self.load_balancer is not None:
            outputs["loadBalancerIpv4"] = self.load_balancer.ipv4
            outputs["loadBalancerIpv6"] = self.load_balancer.ipv6
        return outputs


@dataclass(frozen=True)
class Reach:
    """How a job reaches the server it runs on: root's SSH connection (its host key pinned),
    the server, and what must be done on it first."""

    ssh: command.remote.ConnectionArgs
    server: Server
    ready: list[pulumi.Resource]


class CoolifyServers:
    """The servers beside Coolify's own, added to Coolify with the stack's automation key
    (stored in Coolify once), and where the data services, their jobs and the apps run."""

    def __init__(
        self,
        servers: Servers,
        *,
        coolify: CoolifyInstall,
        placement: dict[str, pulumi.Output[str]],
        disk_alert_percent: int,
        origin_certificate: OriginCertificate | None,
    ) -> None:
        hosts, connection = servers.hosts, coolify.connection
        self.main = Reach(coolify.ssh, servers.main, [])
        reach = {hosts.main.name: self.main}
        uuids: dict[str, pulumi.Output[str]] = {}
        balanced = hosts.load_balancing
        if hosts.others:
            automation_key = PrivateKey(
                "automation-key",
                connection=connection,
                key_name=f"{servers.main.hostname}-automation",
                private_key=servers.main.automation_private_key,
            ).id
            for host in hosts.others:
                server = servers.by_host[host.name]
                in_coolify = CoolifyServer(
                    f"coolify-{host.name}",
                    connection=connection,
                    server=server,
                    key_uuid=automation_key,
                    disk_alert_percent=disk_alert_percent,
                    proxy_type=host.coolify_proxy,
                    # Passthrough: each app server's Traefik ends TLS, as the main server's does.
                    origin_certificate=(
                        origin_certificate
                        if host.role == "app" and balanced is not None and not balanced.ends_tls
                        else None
                    ),
                )
                reach[host.name] = Reach(in_coolify.ssh, server, [in_coolify.ready])
                uuids[host.name] = in_coolify.uuid
        database = hosts.database
        self.database = reach[database.name]
        # On Coolify's own server, the data services need no host of their own.
        self.database_host = (
            DatabaseHost(uuids[database.name], database.private_address)
            if database.name in uuids and database.private_address is not None
            else None
        )
        app_servers = [uuids[host.name] for host in hosts.app_servers]
        self.app_servers = (
            AppServers(
                placement={**placement, "server_uuid": app_servers[0]},
                others=app_servers[1:],
                tls_at_load_balancer=balanced is not None and balanced.ends_tls,
            )
            if app_servers
            else None
        )
