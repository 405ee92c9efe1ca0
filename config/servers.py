"""The servers: the main one, SSH access, the private network, the database server and the
app servers behind their load balancer."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Literal

from pydantic import Field, JsonValue, field_validator, model_validator

from config.base import Model
from config.fields import (
    AdminCidr,
    LinuxUserName,
    PrivateIPv4Cidr,
    ResourceName,
    SshPublicKey,
    config_error,
)
from config.hetzner import (
    ALL_LOCATIONS,
    LOAD_BALANCER_TYPES,
    RETIRED_SERVER_TYPES,
    SERVER_TYPES,
    ServerType,
    types_offered_in,
)


def choices(values: Iterable[str]) -> dict[str, JsonValue]:
    """The values an editor offers for a key (the JSON Schema's enum)."""
    return {"enum": [*values]}


# The server types the catalogue knows (the program says more of a retired one).
SERVER_TYPE_CHOICES = choices(sorted(SERVER_TYPES))


class ServerConfig(Model):
    type: str = Field(
        description='Hetzner server type, e.g. cx43 (docs/configuration.md, "Server types")',
        json_schema_extra=SERVER_TYPE_CHOICES,
    )
    location: str = Field(
        description="Hetzner location: " + ", ".join(ALL_LOCATIONS) + " (the first three in the "
        "EU, then US East, US West and Singapore)",
        json_schema_extra=choices(ALL_LOCATIONS),
    )
    image: str = Field("ubuntu-24.04", description="OS image; only ubuntu-24.04 is supported")
    name: ResourceName | None = Field(
        None,
        description="server name and hostname; it also prefixes the SSH key and firewall names",
        json_schema_extra={"default_text": "`<project>-<stack>`"},
    )
    backups: bool = Field(False, description="Hetzner's daily server backups (+20% of the price)")
    delete_protection: bool = Field(
        True,
        description="protect the server in Pulumi and lock delete/rebuild at Hetzner; "
        "turn off only for throw-away stacks",
    )
    swap_gb: int | None = Field(
        None,
        ge=0,
        le=64,
        description="swap file size in GB; 0 for none",
        json_schema_extra={"default_text": "half the RAM, 1 to 8"},
    )
    admin_user: LinuxUserName = Field(
        "deploy", description="the non-root sudo user for humans (key login, no password)"
    )

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value in SERVER_TYPES:
            return value
        if value in RETIRED_SERVER_TYPES:
            raise config_error(
                f"{value!r} was retired by Hetzner and can no longer be ordered; its current "
                f"equivalent is {RETIRED_SERVER_TYPES[value]!r}",
            )
        raise config_error(
            f"{value!r} is not a Hetzner server type; choose one of {', '.join(SERVER_TYPES)}",
        )

    @field_validator("location")
    @classmethod
    def _known_location(cls, value: str) -> str:
        if value not in ALL_LOCATIONS:
            raise config_error(
                f"{value!r} is not a Hetzner location; choose one of {', '.join(ALL_LOCATIONS)} "
                "(datacenter names like fsn1-dc14 are no longer accepted)",
            )
        return value

    @field_validator("image")
    @classmethod
    def _supported_image(cls, value: str) -> str:
        if value != "ubuntu-24.04":
            raise config_error(
                f"{value!r} is not supported: the cloud-init and sshd hardening are written and "
                "tested for ubuntu-24.04",
            )
        return value

    @model_validator(mode="after")
    def _type_offered_in_location(self) -> ServerConfig:
        if self.location not in self.spec.locations:
            offered = ", ".join(types_offered_in(self.location))
            raise config_error(
                f"server type {self.type!r} is not offered in {self.location!r} (it is sold in "
                f"{', '.join(self.spec.locations)} only); in {self.location} choose one of "
                f"{offered}, or move the server",
                at="type",
            )
        return self

    @property
    def spec(self) -> ServerType:
        return SERVER_TYPES[self.type]

    @property
    def swap_size_gb(self) -> int:
        """Swap absorbs the peaks of image builds on a box with no RAM to spare: half the RAM,
        at least 1 GB and at most 8 GB, unless the config sets it."""
        if self.swap_gb is not None:
            return self.swap_gb
        return max(1, min(8, self.spec.memory_gb // 2))


class AuthorizedKey(Model):
    name: ResourceName = Field(description="name of the key at Hetzner, e.g. alice-laptop")
    public_key: SshPublicKey = Field(
        description="one line of an OpenSSH .pub file: ed25519 (preferred), ECDSA, or RSA of at "
        "least 3072 bits; not containing the word coolify (Coolify's installer deletes such "
        "lines from authorized_keys)"
    )


class SshConfig(Model):
    admin_cidrs: list[AdminCidr] = Field(
        min_length=1,
        description="public networks allowed to reach port 22, e.g. 203.0.113.7/32; private ranges "
        "are refused (the cloud firewall never sees them)",
    )
    authorized_keys: list[AuthorizedKey] = Field(
        min_length=1, description="keys for root and the admin user"
    )
    max_auth_tries: int = Field(
        3,
        ge=1,
        le=6,
        description="sshd MaxAuthTries (1 to 6); raise it if your agent offers many keys",
    )
    allow_from_anywhere: bool = Field(
        False,
        description="accept 0.0.0.0/0 or ::/0 in adminCidrs (SSH open to the internet)",
    )

    @model_validator(mode="after")
    def _checks(self) -> SshConfig:
        seen: set[str] = set()
        for index, cidr in enumerate(self.admin_cidrs):
            if cidr in seen:
                raise config_error(f"{cidr} is listed twice", at=f"adminCidrs[{index}]")
            seen.add(cidr)
            if cidr.endswith("/0") and not self.allow_from_anywhere:
                raise config_error(
                    f"{cidr} opens SSH to the whole internet; list the networks you connect "
                    "from, or set ssh.allowFromAnywhere: true to accept that risk",
                    at=f"adminCidrs[{index}]",
                )
        names: set[str] = set()
        bodies: dict[str, str] = {}
        for index, key in enumerate(self.authorized_keys):
            if key.name in names:
                raise config_error(
                    f"the key name {key.name!r} is used twice",
                    at=f"authorizedKeys[{index}].name",
                )
            names.add(key.name)
            body = key.public_key.split()[1]
            if body in bodies:
                raise config_error(
                    f"this key is the same as {bodies[body]!r}; Hetzner refuses a key twice",
                    at=f"authorizedKeys[{index}].publicKey",
                )
            bodies[body] = key.name
        return self


RFC1918 = tuple(
    ipaddress.IPv4Network(net) for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)


class NetworkConfig(Model):
    """A Hetzner private network: every server of the stack joins it, at a fixed address."""

    ip_range: PrivateIPv4Cidr = Field(
        "10.0.0.0/16",
        description="its range, inside 10/8, 172.16/12 or 192.168/16, apart from "
        "coolify.dockerAddressPool",
    )
    subnet: PrivateIPv4Cidr = Field(
        "10.0.1.0/24",
        description="the servers' subnet, inside ipRange; the server gets its third address "
        "(10.0.1.2)",
    )

    @model_validator(mode="after")
    def _ranges(self) -> NetworkConfig:
        network = ipaddress.IPv4Network(self.ip_range)
        subnet = ipaddress.IPv4Network(self.subnet)
        if not any(network.subnet_of(block) for block in RFC1918):
            raise config_error(
                f"{self.ip_range} is not inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, "
                "the ranges Hetzner takes for private networks",
                at="ipRange",
            )
        if not subnet.subnet_of(network):
            raise config_error(
                f"the subnet {self.subnet} is not inside the network's ipRange {self.ip_range}",
                at="subnet",
            )
        if subnet.prefixlen > 29:
            raise config_error(
                f"the subnet {self.subnet} is too small; use /29 or larger", at="subnet"
            )
        return self

    def address(self, index: int) -> str:
        """The fixed address of the stack's server number `index` (Hetzner keeps the subnet's
        first address for its gateway)."""
        return str(ipaddress.IPv4Network(self.subnet)[2 + index])


class DatabaseServerConfig(Model):
    """The master plan's stage 3: PostgreSQL (or MariaDB), PgBouncer and Redis on a server of
    their own, in the same location as the server, reached over the private network."""

    type: str = Field(
        description="its Hetzner server type, e.g. cx33, offered in server.location; its memory "
        "budget is checked like the server's",
        json_schema_extra=SERVER_TYPE_CHOICES,
    )
    backups: bool = Field(False, description="Hetzner's daily server backups (+20% of the price)")
    swap_gb: int | None = Field(
        None,
        ge=0,
        le=64,
        description="swap file size in GB; 0 for none",
        json_schema_extra={"default_text": "half its RAM, 1 to 8"},
    )


class LoadBalancerHealthCheck(Model):
    """How the load balancer tells a healthy app server: an HTTP request for an app's health
    path, under its hostname."""

    app: str | None = Field(
        None,
        description="the app whose health path (or /) the check asks for, under its first hostname",
        json_schema_extra={"default_text": "the first app with a domain"},
    )
    interval: int = Field(15, ge=3, le=60, description="seconds between checks (3 to 60)")
    timeout: int = Field(10, ge=1, le=60, description="seconds before a check fails")
    retries: int = Field(
        3, ge=0, le=5, description="failed checks before a server is taken out (0 to 5)"
    )

    @model_validator(mode="after")
    def _timeout_within_interval(self) -> LoadBalancerHealthCheck:
        if self.timeout > self.interval:
            raise config_error(
                f"a check may not take longer ({self.timeout} s) than the time between checks "
                f"(interval {self.interval} s); lower timeout or raise interval",
                at="timeout",
            )
        return self


class LoadBalancerConfig(Model):
    """The hcloud load balancer in front of the app servers."""

    type: str = Field(
        "lb11",
        description="Hetzner load balancer type: lb11, lb21 or lb31",
        json_schema_extra=choices(sorted(LOAD_BALANCER_TYPES)),
    )
    tls: Literal["passthrough", "terminate"] = Field(
        "passthrough",
        description="passthrough: each app server's proxy ends TLS with the origin certificate; "
        "terminate: the load balancer does, with the origin certificate uploaded to Hetzner",
    )
    algorithm: Literal["round_robin", "least_connections"] = Field(
        "round_robin",
        description="how requests are spread over the app servers: round_robin or "
        "least_connections",
    )
    health_check: LoadBalancerHealthCheck = Field(
        LoadBalancerHealthCheck(), description="how the load balancer tells a healthy app server"
    )

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in LOAD_BALANCER_TYPES:
            raise ValueError(
                f"unknown load balancer type {value!r}; choose one of "
                f"{', '.join(LOAD_BALANCER_TYPES)}"
            )
        return value


class AppServersConfig(Model):
    """The master plan's stage 4: the apps on two or more servers of their own behind a
    Hetzner load balancer, in the same location as the server, which keeps Coolify, MinIO and
    Uptime Kuma."""

    count: int = Field(
        2,
        ge=2,
        le=8,
        description="how many app servers (2 to 8); they get the subnet's addresses after the "
        "database server's",
    )
    type: str = Field(
        description="the Hetzner server type of each, e.g. cx33, offered in server.location; "
        "each one's memory budget holds every app and one build",
        json_schema_extra=SERVER_TYPE_CHOICES,
    )
    backups: bool = Field(
        False, description="Hetzner's daily server backups of each (+20% of the price)"
    )
    swap_gb: int | None = Field(
        None,
        ge=0,
        le=64,
        description="each one's swap file size in GB; 0 for none",
        json_schema_extra={"default_text": "half its RAM, 1 to 8"},
    )
    load_balancer: LoadBalancerConfig = Field(
        LoadBalancerConfig(), description="the Hetzner load balancer in front of the app servers"
    )
