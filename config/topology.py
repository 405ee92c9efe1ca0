"""The stack's topology as a value: its hosts (role, server type, private address, what runs on
each) and the load balancer in front of the app servers, with their checks. components/hosts.py
builds what it says and places the databases, their backup jobs, the apps and the app
servers' probes by reading it; each host's memory and disk budget, the cost estimate and the
diagram's placement are read from it too."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import ValidationError

from config.apps import AppConfig
from config.dns import ServedHostname
from config.fields import config_error
from config.servers import AppServersConfig, DatabaseServerConfig, ServerConfig
from config.services import DATABASE_SERVICES

if TYPE_CHECKING:
    from config.servers import LoadBalancerConfig
    from config.stack import StackConfig

HostRole = Literal["main", "database", "app"]
TYPE_KEYS = {"main": "server.type", "database": "databaseServer.type", "app": "appServers.type"}
# What runs on a host, as Host.runs names it.
COOLIFY = "coolify"
DATABASES = "databases"  # the data services but MinIO and Uptime Kuma, with the backup jobs
APPS = "apps"
MINIO = "minio"
UPTIME_KUMA = "uptime-kuma"


@dataclass(frozen=True)
class Host:
    """One server of the stack."""

    name: str  # its resource name, kept since the first `up`: server, database-server, ...
    title: str  # what people call it: server, database server, app server 1, ...
    role: HostRole
    server: ServerConfig
    hostname_suffix: str  # after the stack's server name: "", "-db", "-app-1", ...
    private_address: str | None  # its fixed address in the private network, if there is one
    # What it is for: COOLIFY, DATABASES (with their backup jobs), APPS, MINIO, UPTIME_KUMA,
    # whether or not the config enables the service.
    runs: tuple[str, ...]

    @property
    def serves_web(self) -> bool:
        """Whether its firewall opens 80 and 443: the others take SSH from the admins only, the
        apps and the load balancer reaching them over the private network."""
        return self.role == "main"

    @property
    def type_key(self) -> str:
        """The config key of its server type."""
        return TYPE_KEYS[self.role]

    @property
    def label(self) -> str:
        """Its `role` label at Hetzner."""
        return "platform" if self.role == "main" else self.role

    @property
    def coolify_proxy(self) -> str:
        """The proxy Coolify runs on it: Traefik wherever something serves HTTP, none on the
        database server."""
        return "none" if set(self.runs) <= {DATABASES} else "traefik"


@dataclass(frozen=True)
class LoadBalancing:
    """The load balancer in front of the app servers, and what it serves."""

    config: LoadBalancerConfig
    address: str  # its fixed private address
    hostnames: tuple[ServedHostname, ...]  # the apps' hostnames, which point at it
    health_host: str
    health_path: str

    @property
    def ends_tls(self) -> bool:
        return self.config.tls == "terminate"


@dataclass(frozen=True)
class Hosts:
    """The stack's servers, the main one (Coolify's own) first."""

    all: tuple[Host, ...]
    load_balancing: LoadBalancing | None

    @property
    def main(self) -> Host:
        return self.all[0]

    @property
    def others(self) -> tuple[Host, ...]:
        """The servers Coolify reaches with the stack's automation key."""
        return self.all[1:]

    def running(self, what: str) -> tuple[Host, ...]:
        return tuple(host for host in self.all if what in host.runs)

    @property
    def database(self) -> Host:
        """Where the data services but MinIO and Uptime Kuma run, with their backup jobs."""
        return self.running(DATABASES)[0]

    @property
    def app_servers(self) -> tuple[Host, ...]:
        """The servers for the apps alone (none: the apps run on the main server)."""
        return tuple(host for host in self.running(APPS) if host.role == "app")

    @property
    def minio_address(self) -> str | None:
        """Where the jobs and apps on the other servers reach MinIO: its server's private
        address; None when everything runs on the main server."""
        return self.running(MINIO)[0].private_address if self.others else None


class Topology:
    """The stack's hosts and the servers beside the main one (a part of StackConfig)."""

    @property
    def hosts(self: StackConfig) -> Hosts:
        """Stage 1-2: one server runs everything. Stage 3 (databaseServer): the databases and
        their backups move to a server of their own. Stage 4 (appServers): the apps move to
        app servers behind a load balancer. Every server beside the main one is on the
        private network (validated)."""
        network, database = self.network, self.database_server_config
        others: list[Host] = []
        if database is not None and network is not None:
            others.append(
                Host(
                    name="database-server", title="database server", role="database",
                    server=database, hostname_suffix="-db",
                    private_address=network.address(1), runs=(DATABASES,),
                )
            )  # fmt: skip
        if (app_server := self.app_server_config) is not None:
            others += [
                Host(
                    name=f"app-server-{number}", title=f"app server {number}", role="app",
                    server=app_server, hostname_suffix=f"-app-{number}",
                    private_address=address, runs=(APPS,),
                )
                for number, address in enumerate(self.app_server_addresses(), start=1)
            ]  # fmt: skip
        moved = {what for host in others for what in host.runs}
        everything = (COOLIFY, MINIO, UPTIME_KUMA, DATABASES, APPS)
        main = Host(
            name="server", title="server", role="main", server=self.server, hostname_suffix="",
            private_address=network.address(0) if network else None,
            runs=tuple(what for what in everything if what not in moved),
        )  # fmt: skip
        return Hosts((main, *others), self._load_balancing())

    def _load_balancing(self: StackConfig) -> LoadBalancing | None:
        if self.app_servers is None:
            return None
        checked = self.health_checked_app()
        return LoadBalancing(
            config=self.app_servers.load_balancer,
            address=self.load_balancer_address(),
            hostnames=tuple(self.load_balanced_hostnames()),
            health_host=self.fqdn(checked.domains[0].host),
            health_path=checked.health.path if checked.health else "/",
        )

    def _sibling_server(
        self: StackConfig, sibling: DatabaseServerConfig | AppServersConfig
    ) -> ServerConfig:
        """Another server of the stack as a ServerConfig: the server's location, image, admin
        user and protection, with its own type, backups and swap."""
        return ServerConfig.model_validate(
            {
                "type": sibling.type,
                "location": self.server.location,
                "image": self.server.image,
                "backups": sibling.backups,
                "deleteProtection": self.server.delete_protection,
                "swapGb": sibling.swap_gb,
                "adminUser": self.server.admin_user,
            }
        )

    @property
    def database_server_config(self: StackConfig) -> ServerConfig | None:
        return None if self.database_server is None else self._sibling_server(self.database_server)

    @property
    def app_server_config(self: StackConfig) -> ServerConfig | None:
        """Each app server's ServerConfig (they are alike)."""
        return None if self.app_servers is None else self._sibling_server(self.app_servers)

    def app_server_addresses(self: StackConfig) -> list[str]:
        """The app servers' fixed private addresses: after the server's and the database
        server's."""
        if self.app_servers is None or self.network is None:
            return []
        return [self.network.address(2 + index) for index in range(self.app_servers.count)]

    def load_balancer_address(self: StackConfig) -> str:
        """The load balancer's fixed private address: the subnet's last one."""
        assert self.network is not None
        return str(ipaddress.IPv4Network(self.network.subnet)[-2])

    def load_balanced_hostnames(self: StackConfig) -> list[ServedHostname]:
        """The apps' hostnames, which point at the load balancer when there are app servers."""
        if self.app_servers is None:
            return []
        return [host for host in self.served_hostnames() if host.owner.startswith("app ")]

    def health_checked_app(self: StackConfig) -> AppConfig:
        """The app the load balancer's health check asks (validated: one with a domain)."""
        assert self.app_servers is not None
        wanted = self.app_servers.load_balancer.health_check.app
        return next(app for app in self.apps if app.domains and wanted in (None, app.name))

    def _check_sibling_type(
        self: StackConfig, sibling: DatabaseServerConfig | AppServersConfig, which: str, key: str
    ) -> None:
        """Another server's type, checked against the server's location."""
        try:
            self._sibling_server(sibling)
        except ValidationError as error:
            raise config_error(
                f"{error.errors()[0]['msg']} ({which} in server.location {self.server.location})",
                at=f"{key}.type",
            ) from None

    def _check_database_server(self: StackConfig) -> None:
        if self.database_server is None:
            return
        if self.network is None:
            raise config_error(
                "a database server is reached over the private network; add network "
                "(network: {} takes the defaults)",
                at="databaseServer",
            )
        self._check_sibling_type(self.database_server, "the database server is", "databaseServer")
        if not any(getattr(self.services, name) for name in DATABASE_SERVICES):
            raise config_error(
                "a database server holds services.postgres, mariadb, pgbouncer or redis, and "
                "none is configured",
                at="databaseServer",
            )

    def _check_app_servers(self: StackConfig) -> None:
        if self.app_servers is None:
            return
        if self.network is None or self.database_server is None:
            raise config_error(
                "app servers reach the data services over the private network, on the "
                "database server; add network (network: {} takes the defaults) and "
                "databaseServer",
                at="appServers",
            )
        self._check_sibling_type(self.app_servers, "the app servers are", "appServers")
        subnet = ipaddress.IPv4Network(self.network.subnet)
        # The gateway, the server, the database server, the app servers, the load balancer.
        if subnet.num_addresses - 2 < 4 + self.app_servers.count:
            raise config_error(
                f"the subnet {subnet} has no room for {self.app_servers.count} app servers and "
                "the load balancer; use a larger network.subnet",
                at="appServers.count",
            )
        if not any(app.domains for app in self.apps):
            raise config_error(
                "app servers serve the apps' domains through the load balancer, and no app has "
                "a domain; add domains to an app or remove appServers",
                at="appServers",
            )
        wanted = self.app_servers.load_balancer.health_check.app
        if wanted is not None and not any(app.name == wanted and app.domains for app in self.apps):
            raise config_error(
                f"{wanted!r} is not an app with a domain; name one of "
                f"{', '.join(app.name for app in self.apps if app.domains)}",
                at="appServers.loadBalancer.healthCheck.app",
            )
        for host in self.load_balanced_hostnames():
            if not host.proxied:
                raise config_error(
                    f"{host.fqdn} is behind the load balancer, which serves Cloudflare's origin "
                    "certificate: only Cloudflare's proxy trusts it. Remove proxied: false",
                    at=f"{host.config_path}.proxied",
                )

    def _check_network(self: StackConfig) -> None:
        if self.network is None:
            return
        network = ipaddress.IPv4Network(self.network.ip_range)
        pool = ipaddress.IPv4Network(self.coolify.docker_address_pool)
        if network.overlaps(pool):
            raise config_error(
                f"the private network {network} overlaps Docker's address pool {pool} "
                "(coolify.dockerAddressPool): containers would shadow the servers' addresses. "
                "Choose ranges apart, e.g. network 10.0.0.0/16 and the pool 172.16.0.0/12",
                at="network.ipRange",
            )
