"""The stack config as pydantic v2 models: one model per top-level `platform:<key>`.

Keys are camelCase in the stack file (Pulumi's convention) and snake_case in Python. Every model
forbids unknown keys. No model holds a secret: secrets are read with `require_secret` or
generated with pulumi-random, next to the model, never inside it.
"""

from __future__ import annotations

import ipaddress
import re
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from config.fields import (
    AdminCidr,
    BucketName,
    BuildCommand,
    CpuLimit,
    DatabaseIdentifier,
    DeployCommand,
    DomainName,
    HealthCheckPath,
    HostName,
    LinuxUserName,
    PinnedImage,
    PrivateIPv4Cidr,
    RepositoryDirectory,
    RepositoryFile,
    ResourceName,
    SourceBucketName,
    SshPublicKey,
    config_error,
    config_errors,
)
from config.hetzner import (
    ALL_LOCATIONS,
    LOAD_BALANCER_TYPES,
    RETIRED_SERVER_TYPES,
    SERVER_TYPES,
    ServerType,
    types_offered_in,
)


class Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=False
    )


class HostEntry(Model):
    """A hostname the stack serves. Written as a bare string ("crm") or as an object when the
    proxy setting differs from its owner's default ({host: crm, proxied: false})."""

    host: HostName = Field(
        description='hostname relative to the domain ("crm"), "@" or a full name'
    )
    proxied: bool | None = Field(
        None,
        description="route through Cloudflare's proxy; default depends on the owner",
    )

    @model_validator(mode="before")
    @classmethod
    def _bare_string(cls, data: Any) -> Any:
        return {"host": data} if isinstance(data, str) else data


class ServerConfig(Model):
    type: str = Field(description="Hetzner server type, e.g. cx43 (see README for the table)")
    location: str = Field(description="Hetzner location: " + ", ".join(ALL_LOCATIONS))
    image: str = Field("ubuntu-24.04", description="OS image; only ubuntu-24.04 is supported")
    name: ResourceName | None = Field(
        None, description="server name and hostname; default <project>-<stack>"
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
        description="swap file size in GB; default derived from RAM; 0 = none",
    )
    admin_user: LinuxUserName = Field("deploy", description="non-root sudo user for humans")

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
    public_key: SshPublicKey = Field(description="one line of an OpenSSH .pub file")


class SshConfig(Model):
    admin_cidrs: list[AdminCidr] = Field(
        min_length=1,
        description="public networks allowed to reach port 22, e.g. 203.0.113.7/32",
    )
    authorized_keys: list[AuthorizedKey] = Field(
        min_length=1, description="keys for root and the admin user"
    )
    max_auth_tries: int = Field(3, ge=1, le=6, description="sshd MaxAuthTries")
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


class DnsConfig(Model):
    zone_name: DomainName | None = Field(
        None, description="Cloudflare zone to look up by name; default: the domain"
    )
    zone_id: str | None = Field(
        None,
        pattern=r"^[0-9a-f]{32}$",
        description="Cloudflare zone id (skips the lookup)",
    )
    manage_zone_settings: bool = Field(
        False,
        description="set SSL Full (strict), Always Use HTTPS and minimum TLS 1.2 on the whole "
        "zone; let one stack per zone do it",
    )
    ttl: int = Field(300, ge=60, le=86400, description="TTL of DNS-only records (proxied: auto)")
    ipv6: bool = Field(True, description="publish AAAA records next to the A records")

    @model_validator(mode="after")
    def _one_zone_selector(self) -> DnsConfig:
        if self.zone_name is not None and self.zone_id is not None:
            raise config_error("give zoneName or zoneId, not both", at="zoneId")
        return self


PGBOUNCER_PREPARED_STATEMENTS = (1, 21)
# The memory budget's fixed shares, in MB.
OS_MB = 512
COOLIFY_MB = 1536
BUILD_MB = 1024

# The disk budget's fixed shares, in GB: estimates, shown as such in the plan.
OS_GB = 5  # Debian, its packages and logs
COOLIFY_GB = 8  # Coolify's images (its helper alone is 1.5 GB), its database and logs
DOCKER_GB = 3  # Coolify's helper image and the proxy, on a server Coolify deploys to
SERVICE_IMAGES_GB = 2  # the data services' images
APP_GB = 3  # an app's image, the one before it (rollback), and its share of the build cache

# sha256 of scripts/install.sh at each Coolify tag the platform knows; another version needs
# coolify.installScriptSha256 (`curl -fsSL <tag's install.sh> | sha256sum`).
INSTALL_SCRIPT_SHA256 = {
    "4.3.10": "8ef02dce49339208f5abc247bff0277c73d04538d7a36dcfd21331e314e0f2cd",
}


RFC1918 = tuple(
    ipaddress.IPv4Network(net) for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)


class NetworkConfig(Model):
    """A Hetzner private network: every server of the stack joins it, at a fixed address."""

    ip_range: PrivateIPv4Cidr = Field("10.0.0.0/16", description="the network's range")
    subnet: PrivateIPv4Cidr = Field(
        "10.0.1.0/24", description="the servers' subnet, inside ipRange"
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

    type: str = Field(description="Hetzner server type, e.g. cx33")
    backups: bool = Field(False, description="Hetzner's daily server backups (+20% of the price)")
    swap_gb: int | None = Field(None, ge=0, le=64, description="swap file size in GB")


class LoadBalancerHealthCheck(Model):
    """How the load balancer tells a healthy app server: an HTTP request for an app's health
    path, under its hostname."""

    app: str | None = Field(
        None, description="the app whose health path is checked (default: the first with a domain)"
    )
    interval: int = Field(15, ge=3, le=60, description="seconds between checks")
    timeout: int = Field(10, ge=1, le=60, description="seconds before a check fails")
    retries: int = Field(3, ge=0, le=5, description="failed checks before a server is taken out")

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

    type: str = Field("lb11", description="Hetzner load balancer type: lb11, lb21 or lb31")
    tls: Literal["passthrough", "terminate"] = Field(
        "passthrough",
        description="passthrough: each app server's proxy ends TLS with the origin certificate; "
        "terminate: the load balancer does, with the origin certificate uploaded to Hetzner",
    )
    algorithm: Literal["round_robin", "least_connections"] = Field(
        "round_robin", description="how requests are spread over the app servers"
    )
    health_check: LoadBalancerHealthCheck = Field(LoadBalancerHealthCheck())

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

    count: int = Field(2, ge=2, le=8, description="how many app servers")
    type: str = Field(description="Hetzner server type of each, e.g. cx33")
    backups: bool = Field(False, description="Hetzner's daily server backups (+20% of the price)")
    swap_gb: int | None = Field(None, ge=0, le=64, description="swap file size in GB")
    load_balancer: LoadBalancerConfig = Field(LoadBalancerConfig())


class CoolifyConfig(Model):
    hostname: HostEntry = Field(
        HostEntry(host="coolify"), description="dashboard hostname; DNS-only by default"
    )
    version: str = Field(
        "4.3.10", pattern=r"^\d+\.\d+\.\d+$", description="the Coolify release to install"
    )
    install_script_sha256: str | None = Field(
        None,
        pattern=r"^[0-9a-f]{64}$",
        description="sha256 of the version's install.sh; known for 4.3.10",
    )
    root_username: str = Field(
        "admin",
        pattern=r"^[A-Za-z0-9_-]{3,}$",
        description="the dashboard's root user (its password is generated)",
    )
    root_email: str | None = Field(
        None,
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        description="the root user's e-mail; default admin@<domain>; its domain must have DNS",
    )
    disk_alert_percent: int = Field(
        85,
        ge=1,
        le=100,
        description="Coolify notifies when the server's disk is fuller than this (the master "
        "plan's critical level); its channels are set in the dashboard",
    )
    docker_address_pool: PrivateIPv4Cidr = Field(
        "172.16.0.0/12",
        description="private range Docker takes container networks from; must not overlap "
        "any private network the server joins",
    )

    @model_validator(mode="after")
    def _known_installer(self) -> CoolifyConfig:
        if self.install_script_sha256 is None and self.version not in INSTALL_SCRIPT_SHA256:
            raise config_error(
                f"no pinned install.sh checksum for Coolify {self.version}; set "
                "coolify.installScriptSha256 to the sha256 of scripts/install.sh at tag "
                f"v{self.version}, or use {', '.join(INSTALL_SCRIPT_SHA256)}",
                at="installScriptSha256",
            )
        return self

    @property
    def installer_sha256(self) -> str:
        return self.install_script_sha256 or INSTALL_SCRIPT_SHA256[self.version]


class VolumeConfig(Model):
    """A Hetzner Volume for a service's data, attached to the server the service runs on."""

    size_gb: int = Field(
        ge=10, le=10240, description="its size in GB (10 to 10240; it can grow, never shrink)"
    )
    filesystem: Literal["ext4"] = Field(
        "ext4",
        description="the filesystem Hetzner formats it with, once, at creation (ext4: "
        "it grows while mounted when sizeGb grows)",
    )


class PostgresConfig(Model):
    image: PinnedImage = Field("postgres:16.4-alpine", description="PostgreSQL 16 image")
    database: DatabaseIdentifier = Field("app", description="the application database")
    user: DatabaseIdentifier = Field("app", description="the role the apps connect as")
    memory_mb: int = Field(4096, ge=256, description="memory limit; the settings are tuned from it")
    max_connections: int = Field(100, ge=20, le=1000, description="PostgreSQL max_connections")
    data_gb: int = Field(
        5, ge=1, description="the data you expect to keep, in GB (the disk budget)"
    )
    volume: VolumeConfig | None = Field(
        None, description="a Hetzner Volume for its data; absent: the server's own disk"
    )
    cpus: CpuLimit | None = Field(
        None, description="CPU limit of its container, in cores (e.g. 1.0)"
    )


class PgBouncerConfig(Model):
    image: PinnedImage = Field(
        "edoburu/pgbouncer:v1.24.1-p1", description="PgBouncer image, version 1.21 or newer"
    )
    max_client_conn: int = Field(100, ge=1, description="client connections it accepts")
    default_pool_size: int = Field(20, ge=1, description="server connections per pool")
    min_pool_size: int = Field(5, ge=0, description="server connections kept open")
    reserve_pool_size: int = Field(5, ge=0, description="extra connections under load")
    reserve_pool_timeout: int = Field(3, ge=0, description="seconds before the reserve is used")
    server_lifetime: int = Field(3600, ge=0, description="seconds a server connection lives")
    server_idle_timeout: int = Field(600, ge=0, description="seconds an idle one is kept")
    max_prepared_statements: int = Field(100, ge=0, description="prepared statements tracked")
    memory_mb: int = Field(64, ge=16, description="memory limit")

    @property
    def version(self) -> tuple[int, int]:
        found = re.search(r"(\d+)\.(\d+)", self.image.rsplit(":", 1)[-1])
        return (int(found.group(1)), int(found.group(2))) if found else (0, 0)

    @model_validator(mode="after")
    def _prepared_statements(self) -> PgBouncerConfig:
        if self.version < PGBOUNCER_PREPARED_STATEMENTS:
            raise config_error(
                f"{self.image} is PgBouncer {self.version[0]}.{self.version[1]}; prepared "
                "statements in transaction pooling need 1.21 or newer (Prisma and most ORMs "
                "use them), e.g. edoburu/pgbouncer:v1.24.1-p1",
                at="image",
            )
        if self.min_pool_size > self.default_pool_size:
            raise config_error("minPoolSize is larger than defaultPoolSize", at="minPoolSize")
        return self


class RedisConfig(Model):
    image: PinnedImage = Field("redis:7.4.1-alpine", description="Redis 7 image")
    maxmemory_mb: int = Field(512, ge=16, description="Redis maxmemory")
    eviction_policy: Literal[
        "noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru",
        "volatile-lfu", "volatile-random", "volatile-ttl",
    ] = Field(
        "noeviction",
        description="what Redis does at maxmemory: noeviction refuses writes, loudly, and keeps "
        "every key (queues: BullMQ, Sidekiq); an eviction policy drops keys (a pure cache)",
    )  # fmt: skip
    memory_mb: int | None = Field(
        None, ge=32, description="container memory limit; default 1.5 x maxmemory"
    )
    cpus: CpuLimit | None = Field(
        None, description="CPU limit of its container, in cores (e.g. 1.0)"
    )
    snapshot_minutes: int | None = Field(
        15, ge=1, le=1440, description="an RDB snapshot this often if anything changed; null: none"
    )

    @property
    def limit_mb(self) -> int:
        # Above maxmemory: the fork that rewrites the AOF copies pages while Redis writes.
        return self.memory_mb or self.maxmemory_mb * 3 // 2


# pg_dump and pg_restore for a PostgreSQL elsewhere: at least its major version.
POSTGRES_CLIENT_IMAGE = "postgres:17.6-alpine"


class ExternalPostgresConfig(Model):
    """PostgreSQL run elsewhere (Supabase): nothing is deployed; the apps get the URLs given as
    the secret keys externalDatabaseUrl (pooled) and externalDirectUrl (direct). With
    `backups`, the server dumps it through the direct URL."""

    client_image: PinnedImage = Field(
        POSTGRES_CLIENT_IMAGE,
        description="the image whose pg_dump and pg_restore back it up: at least the server's "
        "major version (Supabase runs 15 or 17)",
    )


class MariadbConfig(Model):
    image: PinnedImage = Field("mariadb:10.11.10", description="MariaDB 10.11 image")
    database: DatabaseIdentifier = Field("app", description="the application database")
    user: DatabaseIdentifier = Field("app", description="the user the apps connect as")
    memory_mb: int = Field(1024, ge=256, description="memory limit")
    data_gb: int = Field(
        5, ge=1, description="the data you expect to keep, in GB (the disk budget)"
    )
    cpus: CpuLimit | None = Field(
        None, description="CPU limit of its container, in cores (e.g. 1.0)"
    )


class BucketConfig(Model):
    name: BucketName = Field(description="the bucket's name")
    access: Literal["private", "public-read"] = Field(
        "private", description="public-read: anyone may download its objects (e.g. images)"
    )


class MinioConfig(Model):
    hostname: HostEntry = Field(HostEntry(host="files"), description="S3 API hostname")
    buckets: list[BucketConfig] = Field(default_factory=list, description="buckets to create")
    console_hostname: HostEntry | None = Field(
        None, description="web console hostname; no console when unset"
    )
    image: PinnedImage = Field(
        "ghcr.io/coollabsio/minio:RELEASE.2025-10-15T17-29-55Z",
        description="MinIO image (upstream stopped publishing images in 2025-10)",
    )
    memory_mb: int = Field(512, ge=128, description="memory limit")
    data_gb: int = Field(
        10, ge=1, description="the objects you expect to keep, in GB (the disk budget)"
    )
    volume: VolumeConfig | None = Field(
        None, description="a Hetzner Volume for its data; absent: the server's own disk"
    )


class SecretValue(Model):
    """A secret the stack cannot generate, from the secret config bag `secrets`."""

    secret: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", description="its name in `secrets`")


EmailAddress = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class WebhookNotification(Model):
    webhook_url: SecretValue = Field(description="the incoming webhook's URL, from `secrets`")


class EmailNotification(Model):
    host: HostName = Field(description="the SMTP server")
    port: int = Field(465, ge=1, le=65535, description="its port")
    secure: bool = Field(True, description="TLS from the start (465); false: STARTTLS (587)")
    username: str | None = Field(None, description="the SMTP user")
    password: SecretValue | None = Field(None, description="its password, from `secrets`")
    sender: EmailAddress = Field(alias="from", description="the sender address")
    to: EmailAddress = Field(description="where alerts go")


class NotificationConfig(Model):
    name: ResourceName = Field(description="the channel's name in Uptime Kuma")
    email: EmailNotification | None = Field(None, description="alerts by e-mail (SMTP)")
    slack: WebhookNotification | None = Field(None, description="alerts to a Slack webhook")
    discord: WebhookNotification | None = Field(None, description="alerts to a Discord webhook")

    @model_validator(mode="after")
    def _one_channel(self) -> NotificationConfig:
        kinds = [kind for kind in ("email", "slack", "discord") if getattr(self, kind)]
        if len(kinds) != 1:
            raise config_error(
                f"notification {self.name!r} needs exactly one of email, slack or discord"
                + (f", not {' and '.join(kinds)}" if kinds else ""),
                at=kinds[1] if len(kinds) > 1 else None,
            )
        return self

    @property
    def kind(self) -> str:
        return next(kind for kind in ("email", "slack", "discord") if getattr(self, kind))


class UptimeKumaConfig(Model):
    hostname: HostEntry = Field(HostEntry(host="status"), description="status page hostname")
    image: PinnedImage = Field("louislam/uptime-kuma:1.23.16", description="Uptime Kuma image")
    memory_mb: int = Field(256, ge=64, description="memory limit")
    notifications: list[NotificationConfig] = Field(
        default_factory=list, description="where alerts go: e-mail, Slack or Discord"
    )
    autokuma_image: PinnedImage = Field(
        "ghcr.io/bigboot/autokuma:uptime-kuma-v1-2.0.0",
        description="AutoKuma, which keeps Uptime Kuma's monitors as the stack declares them",
    )

    @model_validator(mode="after")
    def _unique_notification_names(self) -> UptimeKumaConfig:
        seen: set[str] = set()
        for index, notification in enumerate(self.notifications):
            if notification.name in seen:
                raise config_error(
                    f"notification {notification.name!r} is listed twice",
                    at=f"notifications[{index}].name",
                )
            seen.add(notification.name)
        return self

    def secret_values(self) -> Iterator[tuple[str, SecretValue]]:
        """(path below uptimeKuma, value) of every secret its notifications take."""
        for index, notification in enumerate(self.notifications):
            channel = getattr(notification, notification.kind)
            for field in type(channel).model_fields:
                value = getattr(channel, field)
                if isinstance(value, SecretValue):
                    yield f"notifications[{index}].{notification.kind}.{to_camel(field)}", value


HourMinute = Annotated[
    str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
]  # "03:00" (24-hour clock), in backups.timezone


RCLONE_IMAGE = "rclone/rclone:1.67.0"


class OffsiteStorageConfig(Model):
    endpoint: str = Field(
        pattern=r"^https://[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$",
        description="the S3 endpoint, e.g. https://s3.eu-central-003.backblazeb2.com",
    )
    bucket: BucketName = Field(description="the bucket the dumps go to (create it first)")
    region: str | None = Field(
        None,
        pattern=r"^[a-z0-9-]+$",
        description="the S3 region; default: read from a Backblaze endpoint, else us-east-1",
    )
    prefix: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$",
        description="where in the bucket this stack's objects go; default <project>/<stack>",
    )

    @property
    def signing_region(self) -> str:
        if self.region is not None:
            return self.region
        found = re.fullmatch(r"https://s3\.([a-z0-9-]+)\.backblazeb2\.com", self.endpoint)
        return found.group(1) if found else "us-east-1"


class HourlyBackupsConfig(Model):
    days: Literal["weekdays", "every-day"] = Field("weekdays", description="which days")
    # The Tour CRM guide's `0 9-18 * * 1-5`.
    from_hour: int = Field(9, ge=0, le=23, description="the first hourly dump, on the hour")
    to_hour: int = Field(18, ge=0, le=23, description="the last hourly dump, on the hour")
    retention_hours: int = Field(24, ge=1, le=720, description="how long an hourly dump is kept")

    @model_validator(mode="after")
    def _hours_in_order(self) -> HourlyBackupsConfig:
        if self.to_hour <= self.from_hour:
            raise config_error(
                f"toHour {self.to_hour} is not after fromHour {self.from_hour}; hourly dumps "
                "run from fromHour to toHour on the same day",
                at="toHour",
            )
        return self


class RestoreDrillConfig(Model):
    day: Literal["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "every-day"] = Field(
        "Sun", description="the drill's day"
    )
    at: HourMinute = Field("05:00", description="the drill's time, after the daily dump")


class MinioMirrorConfig(Model):
    at: HourMinute = Field("04:00", description="the daily mirror of MinIO's buckets")
    retention_days: int = Field(
        30, ge=1, le=3650, description="how long a deleted or replaced object is kept off-site"
    )


class BackupsConfig(Model):
    offsite: OffsiteStorageConfig = Field(
        description="off-site S3 storage (Backblaze B2); its keys are the secret config keys "
        "backupAccessKeyId and backupSecretAccessKey"
    )
    timezone: str = Field("UTC", description="the time zone of the times below (IANA name)")
    daily_at: HourMinute = Field("03:00", description="the daily full dump")
    retention_days: int = Field(30, ge=1, le=3650, description="how long a daily dump is kept")
    hourly: HourlyBackupsConfig | None = Field(
        HourlyBackupsConfig(), description="hourly dumps in business hours; null: none"
    )
    drill: RestoreDrillConfig = Field(
        RestoreDrillConfig(), description="the restore drill: the newest dump, restored and checked"
    )
    minio: MinioMirrorConfig | None = Field(
        MinioMirrorConfig(), description="MinIO's buckets mirrored daily, if there is a MinIO"
    )
    aws_cli_image: PinnedImage = Field(
        "amazon/aws-cli:2.27.9", description="the AWS CLI image that moves the dumps"
    )
    rclone_image: PinnedImage = Field(
        RCLONE_IMAGE, description="the rclone image that mirrors MinIO"
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise config_error(
                f"{value!r} is not a time zone name; use an IANA name like UTC or Europe/Berlin"
            ) from None
        return value


# Supabase's own schemas (its auth, storage, realtime, functions, vault and extension schemas):
# an import leaves them at Supabase, as `supabase db dump` does.
# Supabase's own schemas and those its extensions create (PostGIS's tiger and topology,
# TimescaleDB's, pg_repack's, database.dev's); pg_* are never taken.
SUPABASE_SCHEMAS = (
    "_analytics", "_realtime", "_supavisor", "_timescaledb_cache", "_timescaledb_catalog",
    "_timescaledb_config", "_timescaledb_functions", "_timescaledb_internal", "auth", "cron",
    "dbdev", "etl", "extensions", "graphql", "graphql_public", "net", "pgbouncer", "pgmq",
    "pgsodium", "pgsodium_masks", "pgtle", "realtime", "repack", "storage",
    "supabase_functions", "supabase_migrations", "tiger", "tiger_data", "timescaledb_experimental",
    "timescaledb_information", "topology", "vault",
)  # fmt: skip


class PostgresImportConfig(Model):
    """An external PostgreSQL (Supabase) copied into services.postgres by one command on the
    server; its URL is the secret config key importSourceUrl."""

    schemas: list[DatabaseIdentifier] = Field(
        default_factory=list,
        description="the schemas to take; empty: every schema but skipSchemas",
    )
    skip_schemas: list[DatabaseIdentifier] = Field(
        default_factory=lambda: list(SUPABASE_SCHEMAS),
        description="the schemas to leave behind (default: Supabase's own: auth, storage, ...)",
    )
    client_image: PinnedImage | None = Field(
        None,
        description="the image whose pg_dump and pg_restore copy it; default: services.postgres"
        ".image (pg_restore 17 cannot restore into PostgreSQL 16, which lacks the "
        "transaction_timeout it sets, and a newer source cannot go into an older server)",
    )

    @model_validator(mode="after")
    def _take_or_skip(self) -> PostgresImportConfig:
        for index, schema in enumerate(self.schemas):
            if schema in self.skip_schemas:
                raise config_error(
                    f"the schema {schema!r} is both taken and skipped; remove it from one",
                    at=f"schemas[{index}]",
                )
        return self


class BucketImport(Model):
    source: SourceBucketName = Field(description="the bucket at the source")
    target: BucketName = Field(description="the MinIO bucket it goes into (services.minio)")


class BucketsImportConfig(Model):
    """S3-compatible buckets (Supabase Storage's S3 endpoint) copied into MinIO by one command
    on the server; the keys are the secret config keys importAccessKeyId and
    importSecretAccessKey."""

    endpoint: str = Field(
        pattern=r"^https://[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?(/[A-Za-z0-9._-]+)*$",
        description="the source's S3 endpoint, e.g. https://<project>.supabase.co/storage/v1/s3",
    )
    region: str = Field(
        pattern=r"^[a-z0-9-]+$", description="its region (Supabase: the project's, eu-central-1)"
    )
    buckets: list[BucketImport] = Field(min_length=1, description="what goes where")
    rclone_image: PinnedImage = Field(RCLONE_IMAGE, description="the rclone image that copies")


class ImportsConfig(Model):
    postgres: PostgresImportConfig | None = Field(
        None, description="copy an external PostgreSQL into services.postgres"
    )
    buckets: BucketsImportConfig | None = Field(
        None, description="copy S3 buckets into services.minio"
    )


class ServicesConfig(Model):
    postgres: PostgresConfig | None = Field(None, description="PostgreSQL 16 on the server")
    external_postgres: ExternalPostgresConfig | None = Field(
        None, description="PostgreSQL elsewhere (Supabase), by secret URLs"
    )
    mariadb: MariadbConfig | None = Field(None, description="MariaDB 10.11 on the server")
    pgbouncer: PgBouncerConfig | None = Field(None, description="PgBouncer in front of postgres")
    redis: RedisConfig | None = Field(None, description="Redis 7 on the server")
    minio: MinioConfig | None = Field(None, description="MinIO object storage (S3 API)")
    uptime_kuma: UptimeKumaConfig | None = Field(None, description="Uptime Kuma monitoring")

    @model_validator(mode="after")
    def _unique_buckets(self) -> ServicesConfig:
        seen: set[str] = set()
        for index, bucket in enumerate(self.minio.buckets if self.minio else []):
            if bucket.name in seen:
                raise config_error(
                    f"bucket {bucket.name!r} is listed twice", at=f"minio.buckets[{index}].name"
                )
            seen.add(bucket.name)
        return self

    @model_validator(mode="after")
    def _one_database(self) -> ServicesConfig:
        chosen = [
            name for name in ("postgres", "external_postgres", "mariadb") if getattr(self, name)
        ]
        if len(chosen) > 1:
            keys = ", ".join(f"services.{to_camel(name)}" for name in chosen)
            raise config_error(
                f"{keys} would each provide DATABASE_URL; configure one database per stack",
                at=to_camel(chosen[1]),
            )
        return self

    @model_validator(mode="after")
    def _pgbouncer_needs_postgres(self) -> ServicesConfig:
        if self.pgbouncer is not None and self.postgres is None:
            raise config_error(
                "pgbouncer pools connections to the postgres service, which is not configured; "
                "add services.postgres or remove services.pgbouncer",
                at="pgbouncer",
            )
        return self

    @property
    def minio_volume(self) -> VolumeConfig | None:
        return self.minio.volume if self.minio else None

    @property
    def postgres_volume(self) -> VolumeConfig | None:
        return self.postgres.volume if self.postgres else None

    def enabled(self) -> list[str]:
        """The container names of the configured services."""
        return [
            SERVICE_NAMES[field]
            for field in type(self).model_fields
            if getattr(self, field) is not None
        ]


AUTOKUMA_MB = 64  # AutoKuma's memory limit (render.uptime_kuma)
DOCKER_MB = 256  # Docker and Coolify's helper containers on a server Coolify deploys to
PROXY_MB = 128  # Coolify's Traefik on an app server
# The services that move to the database server when there is one (the master plan's stage 3).
DATABASE_SERVICES = ("postgres", "mariadb", "pgbouncer", "redis")

# Container names of the services; app names must not take them.
SERVICE_NAMES = {
    "postgres": "postgres",
    "external_postgres": "external-postgres",
    "mariadb": "mariadb",
    "pgbouncer": "pgbouncer",
    "redis": "redis",
    "minio": "minio",
    "uptime_kuma": "uptime-kuma",
}
RESERVED_NAMES = frozenset({*SERVICE_NAMES.values(), "coolify"})


ENV_NAME = r"^[A-Z_][A-Z0-9_]*$"


class RefValue(Model):
    """A value the platform knows: database.url, database.pooledUrl (without Prisma's flag),
    database.directUrl, redis.url (or its parts
    redis.host, redis.port, redis.password), s3.endpoint, s3.publicUrl, s3.accessKey,
    s3.secretKey, s3.bucket, apps.<name>.url."""

    ref: str = Field(description="what the value refers to, e.g. database.url")


class GeneratedValue(Model):
    """32 random bytes (base64), generated once per variable name per stack and shared by
    every app that names it."""

    generate: Literal["secret"] = Field(description="what to generate: secret")


EnvValue = str | RefValue | GeneratedValue | SecretValue


def _plain_scalars(value: Any) -> Any:
    """YAML turns `true` and `3000` into a bool and a number; an env value is text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


KNOWN_FORGES = {"github.com": "github", "gitlab.com": "gitlab", "bitbucket.org": "bitbucket"}


class GitSource(Model):
    repository: str = Field(
        pattern=r"^(https://\S+|git@\S+:\S+)$",
        description="https:// URL, or git@host:org/repo for a private repository",
    )
    branch: str = Field("main", description="branch to build")
    private: bool = Field(
        False, description="private repository: the stack generates a deploy key (output)"
    )
    pack: Literal["dockerfile", "nixpacks", "railpack", "static"] = Field(
        "dockerfile",
        description="how Coolify builds it: the repository's Dockerfile; Nixpacks or Railpack "
        "from the code (package.json, composer.json...), as Render and Vercel do; or static "
        "files served as they are",
    )
    dockerfile: RepositoryFile = Field(
        "/Dockerfile", description="the Dockerfile's path in the repository: /apps/web/Dockerfile"
    )
    base_directory: RepositoryDirectory = Field(
        "/", description="the build context in the repository: / or /apps/web"
    )
    install_command: BuildCommand | None = Field(
        None, description="Nixpacks/Railpack: install the dependencies (default: detected)"
    )
    build_command: BuildCommand | None = Field(
        None, description="Nixpacks/Railpack: build the app (default: detected)"
    )
    start_command: BuildCommand | None = Field(
        None, description="Nixpacks/Railpack: start the app (default: detected)"
    )
    publish_directory: RepositoryDirectory | None = Field(
        None,
        description="the folder of built files a web server serves (a static site or SPA: "
        "/dist, /out); none: the start command serves the app",
    )
    spa: bool = Field(
        False, description="with publishDirectory: every unknown path serves index.html"
    )
    forge: Literal["github", "gitlab", "gitea", "bitbucket"] | None = Field(
        None,
        description="where the repository lives, for its push webhook (default: from the "
        "repository's host: github.com, gitlab.com, bitbucket.org)",
    )

    @property
    def repository_path(self) -> str:
        """owner/repo, as the forge names the repository in its webhooks."""
        path = re.sub(r"^(https://[^/]+/|git@[^:]+:)", "", self.repository)
        return re.sub(r"\.git$", "", path.strip("/"))

    @property
    def webhook_forge(self) -> str | None:
        """The forge whose push webhook Coolify is to accept for this repository."""
        if self.forge is not None:
            return self.forge
        host = re.sub(r"^(https://|git@)([^/:]+).*$", r"\2", self.repository).lower()
        return KNOWN_FORGES.get(host)

    @model_validator(mode="after")
    def _pack_fields(self) -> GitSource:
        builds_from_code = self.pack in ("nixpacks", "railpack")
        if self.pack != "dockerfile" and "dockerfile" in self.model_fields_set:
            raise config_error(
                f"a Dockerfile is only read with pack: dockerfile (this is {self.pack})",
                at="dockerfile",
            )
        for name, command in (("installCommand", self.install_command),
                              ("buildCommand", self.build_command),
                              ("startCommand", self.start_command)):  # fmt: skip
            if command is not None and not builds_from_code:
                raise config_error(
                    f"{name} is for pack: nixpacks or railpack; with pack: {self.pack} "
                    + ("the Dockerfile says how to build and start"
                       if self.pack == "dockerfile" else "nothing is built"),
                    at=name,
                )  # fmt: skip
        if self.publish_directory is not None and self.pack == "dockerfile":
            raise config_error(
                "publishDirectory is for a site built by nixpacks or railpack (or static "
                "files): a Dockerfile's image serves itself",
                at="publishDirectory",
            )
        if self.spa and self.publish_directory is None and self.pack != "static":
            raise config_error("spa: true needs the folder served (publishDirectory)", at="spa")
        if self.publish_directory is not None and self.start_command is not None:
            raise config_error(
                "with publishDirectory a web server serves the built files: there is no "
                "startCommand to run",
                at="startCommand",
            )
        return self

    @model_validator(mode="after")
    def _ssh_for_private(self) -> GitSource:
        if self.private and not self.repository.startswith("git@"):
            raise config_error(
                "a private repository is cloned with its deploy key over SSH: write it as "
                "git@github.com:org/repo.git",
                at="repository",
            )
        return self


class HealthCheck(Model):
    """The HTTP check Coolify gives the app's container (Docker's HEALTHCHECK, run inside the
    container with curl or wget against localhost): a deploy waits for it, and traffic goes to
    a new container only once it passes."""

    path: HealthCheckPath = Field(description="path Coolify checks, e.g. /health")
    port: int | None = Field(
        None, ge=1, le=65535, description="port checked (default: the app's port)"
    )
    method: Literal["GET", "HEAD", "POST", "OPTIONS"] = Field("GET", description="HTTP method")
    scheme: Literal["http", "https"] = Field("http", description="http or https")
    return_code: int = Field(200, ge=100, le=599, description="the status of a healthy answer")
    interval: int = Field(30, ge=5, le=3600, description="seconds between checks")
    timeout: int = Field(5, ge=1, le=300, description="seconds a check may take")
    retries: int = Field(3, ge=1, le=100, description="failed checks before unhealthy")
    start_period: int = Field(
        30, ge=0, le=3600, description="seconds after start when failures do not count"
    )


class AppConfig(Model):
    name: ResourceName = Field(description="app name; also its container hostname")
    memory_mb: int = Field(512, ge=64, description="memory limit of the app's container")
    cpus: CpuLimit | None = Field(
        None, description="CPU limit of the app's container, in cores (e.g. 1.0)"
    )
    domains: list[HostEntry] = Field(
        default_factory=list,
        description="hostnames routed to the app; none for a worker",
    )
    port: int | None = Field(
        None, ge=1, le=65535, description="container port the domains route to"
    )
    buckets: list[BucketName] = Field(
        default_factory=list,
        description="MinIO buckets the app may use; it gets an access key for these only",
    )
    git: GitSource | None = Field(None, description="build from this repository")
    image: PinnedImage | None = Field(None, description="or run this prebuilt image")
    health: HealthCheck | None = Field(None, description="HTTP health check")
    env: dict[Annotated[str, StringConstraints(pattern=ENV_NAME)], EnvValue] = Field(
        default_factory=dict, description="runtime environment variables"
    )
    build_args: dict[Annotated[str, StringConstraints(pattern=ENV_NAME)], EnvValue] = Field(
        default_factory=dict, description="build-time variables (e.g. VITE_API_URL)"
    )
    auto_deploy: bool = Field(True, description="deploy on every push to the branch")
    pre_deploy_command: DeployCommand | None = Field(
        None,
        description="run in the running container before the new one starts (not on the "
        "first deploy, when none runs)",
    )
    post_deploy_command: DeployCommand | None = Field(
        None, description="run in the new container once it is up, e.g. the migrations"
    )
    deploy_after: list[ResourceName] = Field(
        default_factory=list,
        description="apps deployed before this one (e.g. the one that runs the migrations)",
    )

    @field_validator("env", "build_args", mode="before")
    @classmethod
    def _text_values(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: _plain_scalars(item) for key, item in value.items()}
        return value

    @model_validator(mode="after")
    def _push_webhook(self) -> AppConfig:
        if self.auto_deploy and self.git is not None and self.git.webhook_forge is None:
            raise config_error(
                f"app {self.name!r} deploys on push (autoDeploy), which Coolify learns from "
                "the forge's webhook: say which forge serves this repository with git.forge "
                "(github, gitlab, gitea or bitbucket), or set autoDeploy: false",
                at="git.forge",
            )
        return self

    @model_validator(mode="after")
    def _one_source(self) -> AppConfig:
        if (self.git is None) == (self.image is None):
            raise config_error(
                f"app {self.name!r} needs exactly one source: git (a repository Coolify "
                "builds) or image (a prebuilt image)",
                at="git",
            )
        if self.image is not None and self.build_args:
            raise config_error("a prebuilt image has no build step", at="buildArgs")
        for key in self.env.keys() & self.build_args.keys():
            if self.env[key] != self.build_args[key]:
                raise config_error(
                    f"{key} is in env and buildArgs with different values; a variable in both "
                    "is one variable, used at build and at run time",
                    at=f"buildArgs.{key}",
                )
        return self

    def references(self) -> Iterator[tuple[str, str, EnvValue]]:
        """(config path, variable, value) of every variable."""
        for key, value in self.env.items():
            yield f"env.{key}", key, value
        for key, value in self.build_args.items():
            yield f"buildArgs.{key}", key, value

    @model_validator(mode="after")
    def _domains_need_port(self) -> AppConfig:
        if self.domains and self.port is None:
            raise config_error(
                f"app {self.name!r} has domains but no port; set the port its container "
                "listens on, or remove the domains for a worker",
                at="port",
            )
        return self


@dataclass(frozen=True)
class ServedHostname:
    """One hostname the stack serves, with where in the config it comes from."""

    fqdn: str
    proxied: bool
    owner: str
    config_path: str


def _budget_table(rows: list[tuple[str, int]], unit: str, digits: int) -> str:
    """A memory or disk budget as an error message shows it: who, and how much."""
    width = max(len(who) for who, _ in rows)
    return "\n".join(f"      {who:<{width}}  {amount:>{digits}} {unit}" for who, amount in rows)


class StackConfig(Model):
    domain: DomainName = Field(description="the domain the stack's hostnames live under")
    server: ServerConfig = Field(description="the Hetzner server: type, location, protection")
    ssh: SshConfig = Field(description="who may log in: admin networks and public keys")
    dns: DnsConfig = Field(DnsConfig(), description="Cloudflare zone and record settings")
    coolify: CoolifyConfig = Field(CoolifyConfig(), description="the Coolify dashboard")
    network: NetworkConfig | None = Field(
        None, description="a private network every server of the stack joins"
    )
    database_server: DatabaseServerConfig | None = Field(
        None, description="a dedicated database server (needs network)"
    )
    app_servers: AppServersConfig | None = Field(
        None, description="app servers behind a load balancer (needs network, databaseServer)"
    )
    services: ServicesConfig = Field(ServicesConfig(), description="data and support services")
    apps: list[AppConfig] = Field(default_factory=list, description="the team's applications")
    github_webhooks: bool = Field(
        False,
        description="add each GitHub repository's push webhook to it, with the secret key "
        "githubToken (otherwise: add the `webhooks` output by hand)",
    )
    backups: BackupsConfig | None = Field(
        None, description="scheduled dumps of the database to off-site storage, and drills"
    )
    imports: ImportsConfig = Field(
        ImportsConfig(), description="data brought in from elsewhere, one command each"
    )

    @property
    def zone_name(self) -> str:
        return self.dns.zone_name or self.domain

    @property
    def dashboard_url(self) -> str:
        return f"https://{self.fqdn(self.coolify.hostname.host)}"

    @property
    def minio_urls(self) -> tuple[str, str | None] | None:
        """The public S3 URL and the console's URL (None without a console)."""
        minio = self.services.minio
        if minio is None:
            return None
        console = minio.console_hostname
        return (
            f"https://{self.fqdn(minio.hostname.host)}",
            f"https://{self.fqdn(console.host)}" if console else None,
        )

    def _sibling_server(self, sibling: DatabaseServerConfig | AppServersConfig) -> ServerConfig:
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
    def database_server_config(self) -> ServerConfig | None:
        return None if self.database_server is None else self._sibling_server(self.database_server)

    @property
    def app_server_config(self) -> ServerConfig | None:
        """Each app server's ServerConfig (they are alike)."""
        return None if self.app_servers is None else self._sibling_server(self.app_servers)

    def app_server_addresses(self) -> list[str]:
        """The app servers' fixed private addresses: after the server's and the database
        server's."""
        if self.app_servers is None or self.network is None:
            return []
        return [self.network.address(2 + index) for index in range(self.app_servers.count)]

    def load_balancer_address(self) -> str:
        """The load balancer's fixed private address: the subnet's last one."""
        assert self.network is not None
        return str(ipaddress.IPv4Network(self.network.subnet)[-2])

    def load_balanced_hostnames(self) -> list[ServedHostname]:
        """The apps' hostnames, which point at the load balancer when there are app servers."""
        if self.app_servers is None:
            return []
        return [host for host in self.served_hostnames() if host.owner.startswith("app ")]

    def health_checked_app(self) -> AppConfig:
        """The app the load balancer's health check asks (validated: one with a domain)."""
        assert self.app_servers is not None
        wanted = self.app_servers.load_balancer.health_check.app
        return next(app for app in self.apps if app.domains and wanted in (None, app.name))

    @property
    def status_url(self) -> str:
        """Uptime Kuma's URL (the config has it)."""
        assert self.services.uptime_kuma is not None
        return f"https://{self.fqdn(self.services.uptime_kuma.hostname.host)}"

    @property
    def coolify_root_email(self) -> str:
        return self.coolify.root_email or f"admin@{self.domain}"

    def minio_bucket_names(self) -> list[str]:
        minio = self.services.minio
        return [bucket.name for bucket in minio.buckets] if minio else []

    def app_url(self, app: AppConfig) -> str | None:
        """The app's public URL: its first domain."""
        return f"https://{self.fqdn(app.domains[0].host)}" if app.domains else None

    def app_health_urls(self) -> dict[str, tuple[str, bool]]:
        """What monitoring checks of each app with a domain: (its health path, True), or
        (its /, False)."""
        return {
            app.name: (f"{url}{app.health.path if app.health else '/'}", app.health is not None)
            for app in self.apps
            if (url := self.app_url(app))
        }

    def fqdn(self, host: str) -> str:
        if host in ("@", self.domain):
            return self.domain
        if host.endswith("." + self.domain):
            return host
        return f"{host}.{self.domain}"

    def _host_entries(self) -> Iterator[tuple[HostEntry, bool, str, str]]:
        """(entry, default proxied, owner, config path) for every hostname in the config."""
        yield self.coolify.hostname, False, "coolify dashboard", "coolify.hostname"
        minio = self.services.minio
        if minio is not None:
            yield minio.hostname, True, "minio S3 API", "services.minio.hostname"
            if minio.console_hostname is not None:
                path = "services.minio.consoleHostname"
                yield minio.console_hostname, False, "minio console", path
        kuma = self.services.uptime_kuma
        if kuma is not None:
            yield (
                kuma.hostname,
                True,
                "uptime-kuma status page",
                "services.uptimeKuma.hostname",
            )
        for app_index, app in enumerate(self.apps):
            for domain_index, entry in enumerate(app.domains):
                yield (
                    entry,
                    True,
                    f"app {app.name}",
                    f"apps[{app_index}].domains[{domain_index}]",
                )

    def served_hostnames(self) -> list[ServedHostname]:
        """Every hostname the stack serves, in config order (validated unique)."""
        return [
            ServedHostname(
                fqdn=self.fqdn(entry.host),
                proxied=default if entry.proxied is None else entry.proxied,
                owner=owner,
                config_path=path,
            )
            for entry, default, owner, path in self._host_entries()
        ]

    @model_validator(mode="after")
    def _cross_checks(self) -> StackConfig:
        zone = self.zone_name
        if self.domain != zone and not self.domain.endswith("." + zone):
            raise config_error(
                f"the domain {self.domain!r} is not inside the Cloudflare zone {zone!r}; "
                "fix dns.zoneName or the domain",
                at="domain",
            )
        self._check_names()
        self._check_buckets()
        self._check_apps()
        self._check_hostnames(zone)
        self._check_database_server()
        self._check_app_servers()
        self._check_memory()
        self._check_disk()
        self._check_cpus()
        self._check_backups()
        self._check_imports()
        self._check_network()
        return self

    def _check_sibling_type(
        self, sibling: DatabaseServerConfig | AppServersConfig, which: str, key: str
    ) -> None:
        """Another server's type, checked against the server's location."""
        try:
            self._sibling_server(sibling)
        except ValidationError as error:
            raise config_error(
                f"{error.errors()[0]['msg']} ({which} in server.location {self.server.location})",
                at=f"{key}.type",
            ) from None

    def _check_database_server(self) -> None:
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

    def _check_app_servers(self) -> None:
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

    def _check_network(self) -> None:
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

    def _check_backups(self) -> None:
        services = self.services
        databases = (services.postgres, services.external_postgres, services.mariadb)
        if self.backups is not None and all(database is None for database in databases):
            raise config_error(
                "backups dump services.postgres, services.externalPostgres or services.mariadb, "
                "and none is configured; add one or remove backups",
                at="backups",
            )

    def _check_imports(self) -> None:
        imports = self.imports
        if imports.postgres is not None and self.services.postgres is None:
            raise config_error(
                "imports.postgres copies into services.postgres, which is not configured; add "
                "it or remove imports.postgres",
                at="imports.postgres",
            )
        if imports.buckets is None:
            return
        known = self.minio_bucket_names()
        for index, bucket in enumerate(imports.buckets.buckets):
            if bucket.target not in known:
                raise config_error(
                    f"the import's target bucket {bucket.target!r} is not in "
                    "services.minio.buckets; add it there or change the target",
                    at=f"imports.buckets.buckets[{index}].target",
                )
        targets = [bucket.target for bucket in imports.buckets.buckets]
        for index, target in enumerate(targets):
            if target in targets[:index]:
                raise config_error(
                    f"two buckets are imported into {target!r}; give each its own",
                    at=f"imports.buckets.buckets[{index}].target",
                )

    def _service_rows(self, names: tuple[str, ...]) -> list[tuple[str, int]]:
        services = self.services
        sizes: dict[str, int | None] = {
            "postgres": services.postgres.memory_mb if services.postgres else None,
            "mariadb": services.mariadb.memory_mb if services.mariadb else None,
            "pgbouncer": services.pgbouncer.memory_mb if services.pgbouncer else None,
            "redis": services.redis.limit_mb if services.redis else None,
            "minio": services.minio.memory_mb if services.minio else None,
            "uptime-kuma": services.uptime_kuma.memory_mb if services.uptime_kuma else None,
        }
        return [(name, mb) for name in names if (mb := sizes[name]) is not None]

    def memory_budget(self) -> list[tuple[str, int]]:
        """Who takes how much of the (main) server's memory, in MB."""
        rows = [
            ("operating system", OS_MB),
            ("Coolify (app, database, Redis, realtime, proxy)", COOLIFY_MB),
            ("one image build at a time", BUILD_MB),
        ]
        if self.app_servers is not None:
            rows.remove(("one image build at a time", BUILD_MB))  # the app servers build
        moved = DATABASE_SERVICES if self.database_server_config is not None else ()
        rows += self._service_rows(
            tuple(
                name for name in (*DATABASE_SERVICES, "minio", "uptime-kuma") if name not in moved
            )
        )
        if self.services.uptime_kuma:
            rows.append(("autokuma (its monitors as code)", AUTOKUMA_MB))
        if self.app_servers is None:
            rows += self._app_rows()
        return rows

    def _app_rows(self) -> list[tuple[str, int]]:
        return [(f"app {app.name}", app.memory_mb) for app in self.apps]

    def app_server_budget(self) -> list[tuple[str, int]]:
        """Who takes how much of each app server's memory, in MB (none without them): every
        app runs on every app server, and each server builds the images itself."""
        if self.app_servers is None:
            return []
        return [
            ("operating system", OS_MB),
            ("Docker and Coolify's helpers", DOCKER_MB),
            ("Coolify's proxy (Traefik)", PROXY_MB),
            ("one image build at a time", BUILD_MB),
            *self._app_rows(),
        ]

    def server_budgets(self) -> list[tuple[str, ServerConfig, str, list[tuple[str, int]]]]:
        """(which server, its config, its type's config key, its memory budget) per kind of
        server of the stack."""
        budgets = [("", self.server, "server.type", self.memory_budget())]
        if (database := self.database_server_config) is not None:
            budgets.append(
                (
                    "database server, ",
                    database,
                    "databaseServer.type",
                    self.database_server_budget(),
                )
            )
        if (app_server := self.app_server_config) is not None:
            budgets.append(
                ("each app server, ", app_server, "appServers.type", self.app_server_budget())
            )
        return budgets

    def database_server_budget(self) -> list[tuple[str, int]]:
        """Who takes how much of the database server's memory, in MB (none without one)."""
        if self.database_server is None:
            return []
        return [
            ("operating system", OS_MB),
            ("Docker and Coolify's helpers", DOCKER_MB),
            *self._service_rows(DATABASE_SERVICES),
        ]

    def _check_memory(self) -> None:
        for _, server, key, rows in self.server_budgets():
            needed, available = sum(mb for _, mb in rows), server.spec.memory_mb
            if needed > available:
                table = _budget_table(rows, "MB", 6)
                raise config_error(
                    f"the stack needs {needed} MB of memory but a {server.type} has "
                    f"{available} MB: over by {needed - available} MB. Choose a larger type or "
                    f"give less memory to the services and apps (memoryMb):\n{table}",
                    at=key,
                )

    def disk_budgets(self) -> list[tuple[str, ServerConfig, str, list[tuple[str, int]]]]:
        """(which server, its config, its type's config key, what it keeps on its own disk in
        GB) per kind of server, as server_budgets gives memory."""
        services = self.services
        database_rows: list[tuple[str, int]] = []
        for name, service in (("postgres", services.postgres), ("mariadb", services.mariadb)):
            if service is None:
                continue
            if not (isinstance(service, PostgresConfig) and service.volume is not None):
                database_rows.append((f"{name} data", service.data_gb))
                if self.backups is not None:
                    # The drill restores a full copy beside it, in the database's own folder.
                    database_rows.append(("restore drill's copy", service.data_gb))
            if self.backups is not None:
                # The compressed dump waits on the server's disk for its upload.
                database_rows.append(("a dump", -(-service.data_gb // 2)))
        main = [("operating system", OS_GB), ("Coolify", COOLIFY_GB)]
        if services.enabled():
            main.append(("data services' images", SERVICE_IMAGES_GB))
        if self.database_server is None:
            main += database_rows
        if (minio := services.minio) is not None and minio.volume is None:
            main.append(("minio data", minio.data_gb))
        app_rows = [(f"app {app.name}", APP_GB) for app in self.apps]
        if self.app_servers is None:
            main += app_rows
        budgets = [("", self.server, "server.type", main)]
        if (database := self.database_server_config) is not None:
            rows = [("operating system", OS_GB), ("Docker and Coolify's helper", DOCKER_GB),
                    ("data services' images", SERVICE_IMAGES_GB), *database_rows]  # fmt: skip
            budgets.append(("database server, ", database, "databaseServer.type", rows))
        if (app_server := self.app_server_config) is not None:
            rows = [("operating system", OS_GB), ("Docker and Coolify's helper", DOCKER_GB),
                    *app_rows]  # fmt: skip
            budgets.append(("each app server, ", app_server, "appServers.type", rows))
        return budgets

    def disk_limit_gb(self, server: ServerConfig) -> int:
        """What a server's disk may hold before Coolify's disk alert fires."""
        return server.spec.disk_gb * self.coolify.disk_alert_percent // 100

    def volume_needs(self) -> list[tuple[str, VolumeConfig, int]]:
        """(service, its volume, the GB it keeps there) for each service with a volume: the
        data, and for PostgreSQL with backups the restore drill's copy beside it."""
        services, needs = self.services, []
        if (postgres := services.postgres) is not None and postgres.volume is not None:
            copies = 2 if self.backups is not None else 1
            needs.append(("postgres", postgres.volume, postgres.data_gb * copies))
        if (minio := services.minio) is not None and minio.volume is not None:
            needs.append(("minio", minio.volume, minio.data_gb))
        return needs

    def _check_disk(self) -> None:
        percent = self.coolify.disk_alert_percent
        for service, volume, needed in self.volume_needs():
            usable = volume.size_gb * percent // 100
            if needed > usable:
                drill = " (its data and the restore drill's copy)" if service == "postgres" else ""
                raise config_error(
                    f"{service} is to keep {needed} GB{drill} on its volume, but {percent}% of "
                    f"{volume.size_gb} GB is {usable} GB; give the volume at least "
                    f"{-(-needed * 100 // percent)} GB, or expect less data (dataGb)",
                    at=f"services.{service}.volume.sizeGb",
                )
        for which, server, key, rows in self.disk_budgets():
            needed, limit = sum(gb for _, gb in rows), self.disk_limit_gb(server)
            if needed > limit:
                table = _budget_table(rows, "GB", 5)
                # Only the data kept on this server's disk can move to a volume.
                volumes = [
                    f"{label} a volume (services.{service}.volume.sizeGb), "
                    for service, label in (("minio", "MinIO"), ("postgres", "PostgreSQL"))
                    if f"{service} data" in dict(rows)
                ]
                fixes = f"Give {'or '.join(volumes)}c" if volumes else "C"
                raise config_error(
                    f"the stack keeps about {needed} GB on the {which}{server.type}'s disk, over "
                    f"the {limit} GB ({percent}% of {server.spec.disk_gb} GB) at which Coolify "
                    f"alerts. {fixes}hoose a type with a larger disk, or expect less data "
                    f"(dataGb):\n{table}",
                    at=key,
                )

    def _check_cpus(self) -> None:
        """A CPU limit fits the server its container runs on (Docker refuses more cores than
        the machine has, and the deploy would fail)."""
        apps_on = (self.app_server_config, "appServers.type")
        data_on = (self.database_server_config, "databaseServer.type")
        services = self.services
        limits = [
            (f"apps[{index}].cpus", f"app {app.name!r}", app.cpus, apps_on)
            for index, app in enumerate(self.apps)
        ] + [
            (f"services.{name}.cpus", name, service.cpus, data_on)
            for name, service in (
                ("postgres", services.postgres), ("redis", services.redis),
                ("mariadb", services.mariadb),
            )
            if service is not None
        ]  # fmt: skip
        for at, who, cpus, (sibling, key) in limits:
            server = sibling or self.server
            if cpus is not None and cpus > server.spec.vcpus:
                raise config_error(
                    f"{who} asks for {cpus:g} CPUs but a {server.type} has "
                    f"{server.spec.vcpus}; lower {at} or choose a larger "
                    f"{key if sibling else 'server.type'}",
                    at=at,
                )

    def ref_problem(self, app: AppConfig, ref: str) -> str | None:
        """Why `ref` cannot be resolved for `app`, or None."""
        services = self.services
        database = services.postgres or services.external_postgres or services.mariadb
        known = {
            "database.url": None
            if database
            else "there is no database (services.postgres, "
            "services.externalPostgres or services.mariadb)",
            "database.directUrl": None
            if services.postgres or services.external_postgres
            else "there is no PostgreSQL (services.postgres or services.externalPostgres)",
            "database.pooledUrl": None
            if services.postgres or services.external_postgres
            else "there is no PostgreSQL (services.postgres or services.externalPostgres)",
        }
        for name in ("url", "host", "port", "password"):
            known[f"redis.{name}"] = None if services.redis else "there is no services.redis"
        for name in ("endpoint", "publicUrl", "accessKey", "secretKey", "bucket"):
            known[f"s3.{name}"] = (
                "there is no services.minio" if services.minio is None
                else None if app.buckets or name in ("endpoint", "publicUrl")
                else f"app {app.name!r} names no bucket (apps[].buckets)"
            )  # fmt: skip
        for other in self.apps:
            known[f"apps.{other.name}.url"] = (
                None if other.domains else f"app {other.name!r} has no domain"
            )
        if ref not in known:
            choices = ", ".join(sorted(k for k, v in known.items() if v is None))
            return f"{ref!r} is not something the platform provides; known here: {choices}"
        return known[ref]

    def deploy_dependencies(self, app: AppConfig) -> list[str]:
        """The apps deployed before `app` (deployAfter). URL references add none: an app's URL
        comes from the config and is known before anything is deployed."""
        return sorted(set(app.deploy_after) - {app.name})

    def _check_apps(self) -> None:
        """Every broken reference of every app at once, not only the first."""
        names = {app.name for app in self.apps}
        problems: list[tuple[str, str]] = []
        for index, app in enumerate(self.apps):
            problems += [
                (f"app {app.name!r}, variable {variable}: {problem}", f"apps[{index}].{path}.ref")
                for path, variable, value in app.references()
                if isinstance(value, RefValue) and (problem := self.ref_problem(app, value.ref))
            ]
            problems += [
                (
                    f"app {app.name!r} is to be deployed after {other!r}, which is no app "
                    "of this stack",
                    f"apps[{index}].deployAfter[{position}]",
                )
                for position, other in enumerate(app.deploy_after)
                if other not in names
            ]
        if problems:
            raise config_errors("StackConfig", problems)
        self.deploy_order()

    def deploy_order(self) -> list[AppConfig]:
        """The apps, each after the apps it depends on; an error if they wait for each other."""
        order: list[AppConfig] = []
        visiting: list[str] = []
        apps = {app.name: app for app in self.apps}

        def visit(app: AppConfig) -> None:
            if app in order:
                return
            if app.name in visiting:
                cycle = " -> ".join([*visiting[visiting.index(app.name) :], app.name])
                raise config_error(
                    f"the apps wait for each other ({cycle}): no app could deploy first; "
                    "remove one of the deployAfter entries",
                    at=f"apps[{list(apps).index(app.name)}].deployAfter",
                )
            visiting.append(app.name)
            for other in self.deploy_dependencies(app):
                visit(apps[other])
            visiting.pop()
            order.append(app)

        for app in self.apps:
            visit(app)
        return order

    def secret_names(self) -> dict[str, str]:
        """Names the apps and the alert channels take from the secret config bag, with where
        each is first used."""
        names: dict[str, str] = {}
        for index, app in enumerate(self.apps):
            for path, _, value in app.references():
                if isinstance(value, SecretValue):
                    names.setdefault(value.secret, f"apps[{index}].{path}")
        if self.services.uptime_kuma is not None:
            for path, value in self.services.uptime_kuma.secret_values():
                names.setdefault(value.secret, f"services.uptimeKuma.{path}")
        return names

    def _check_buckets(self) -> None:
        known = {b.name for b in self.services.minio.buckets} if self.services.minio else set()
        for app_index, app in enumerate(self.apps):
            for index, bucket in enumerate(app.buckets):
                if bucket not in known:
                    where = "services.minio.buckets" if self.services.minio else "services.minio"
                    raise config_error(
                        f"app {app.name!r} uses the bucket {bucket!r}, which is not in {where}; "
                        "add it there or remove it from the app",
                        at=f"apps[{app_index}].buckets[{index}]",
                    )

    def _check_names(self) -> None:
        taken: dict[str, str] = {}
        for index, app in enumerate(self.apps):
            if app.name in RESERVED_NAMES:
                raise config_error(
                    f"the name {app.name!r} belongs to a platform service; rename the app",
                    at=f"apps[{index}].name",
                )
            if app.name in taken:
                raise config_error(
                    f"two apps are named {app.name!r} (the other is {taken[app.name]})",
                    at=f"apps[{index}].name",
                )
            taken[app.name] = f"apps[{index}]"

    def _check_hostnames(self, zone: str) -> None:
        seen: dict[str, ServedHostname] = {}
        for served in self.served_hostnames():
            if served.fqdn in seen:
                first = seen[served.fqdn]
                raise config_error(
                    f"{served.fqdn} is served twice: by the {first.owner} ({first.config_path}) "
                    f"and by the {served.owner}; give each a hostname of its own",
                    at=served.config_path,
                )
            seen[served.fqdn] = served
            # Every name ends in the domain, which lies inside the zone (checked above).
            below_zone = served.fqdn.removesuffix(zone).rstrip(".")
            if served.proxied and "." in below_zone:
                flat = f"{below_zone.replace('.', '-')}.{zone}"
                raise config_error(
                    f"{served.fqdn} is proxied but lies more than one level below the zone "
                    f"{zone}; Cloudflare's Universal SSL certificate covers one level only, so "
                    f"browsers would get a certificate error. Use a name directly under {zone} "
                    f"(e.g. {flat}) or set proxied: false",
                    at=served.config_path,
                )
