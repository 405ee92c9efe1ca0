"""Coolify and the data and support services it runs: PostgreSQL, PgBouncer, Redis, MariaDB,
MinIO and their volumes."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator
from pydantic.alias_generators import to_camel

from config.backups import UptimeKumaConfig
from config.base import HostEntry, Model
from config.fields import (
    BucketName,
    CpuLimit,
    DatabaseIdentifier,
    PinnedImage,
    PrivateIPv4Cidr,
    config_error,
)

PGBOUNCER_PREPARED_STATEMENTS = (1, 21)

# sha256 of scripts/install.sh at each Coolify tag the platform knows; another version needs
# coolify.installScriptSha256 (`curl -fsSL <tag's install.sh> | sha256sum`).
INSTALL_SCRIPT_SHA256 = {
    "4.3.10": "8ef02dce49339208f5abc247bff0277c73d04538d7a36dcfd21331e314e0f2cd",
}


class CoolifyConfig(Model):
    hostname: HostEntry = Field(
        HostEntry(host="coolify"),
        description="the dashboard's hostname (a hostname entry); DNS-only by default",
    )
    version: str = Field(
        "4.3.10",
        pattern=r"^\d+\.\d+\.\d+$",
        description="the Coolify release to install; an upgrade is a change of this key",
    )
    install_script_sha256: str | None = Field(
        None,
        pattern=r"^[0-9a-f]{64}$",
        description="sha256 of that tag's scripts/install.sh; needed for any other version",
        json_schema_extra={"default_text": f"known for {', '.join(INSTALL_SCRIPT_SHA256)}"},
    )
    root_username: str = Field(
        "admin",
        pattern=r"^[A-Za-z0-9_-]{3,}$",
        description="the dashboard's root user (its password is generated)",
    )
    root_email: str | None = Field(
        None,
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        description="the root user's e-mail, the dashboard login; Coolify checks that its domain "
        "has DNS records",
        json_schema_extra={"default_text": "`admin@<domain>`"},
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
        "any private network the server joins; never banned by fail2ban",
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
    image: PinnedImage = Field(
        "postgres:16.4-alpine",
        description="PostgreSQL 16 image; every image is pinned to an exact version or digest",
    )
    database: DatabaseIdentifier = Field("app", description="the application database")
    user: DatabaseIdentifier = Field(
        "app", description="the role the apps connect as (its password is generated)"
    )
    memory_mb: int = Field(
        4096,
        ge=256,
        description="memory limit; shared_buffers (1/4), effective_cache_size (3/4), work_mem "
        "(1/128), maintenance_work_mem (1/16) and wal_buffers are tuned from it",
    )
    max_connections: int = Field(100, ge=20, le=1000, description="PostgreSQL max_connections")
    data_gb: int = Field(5, ge=1, description="the data you expect to keep, in GB: the disk budget")
    volume: VolumeConfig | None = Field(
        None,
        description="a Hetzner Volume for its data, on the server it runs on (the database "
        "server, when there is one); none: the server's own disk",
    )
    cpus: CpuLimit | None = Field(
        None,
        description="CPU limit of its container, in cores (e.g. 1.0); at most its server's vCPUs",
        json_schema_extra={"default_text": "no limit"},
    )


class PgBouncerConfig(Model):
    image: PinnedImage = Field(
        "edoburu/pgbouncer:v1.24.1-p1",
        description="PgBouncer image, version 1.21 or newer (prepared statements in transaction "
        "mode)",
    )
    max_client_conn: int = Field(100, ge=1, description="client connections accepted")
    default_pool_size: int = Field(20, ge=1, description="server connections per pool")
    min_pool_size: int = Field(5, ge=0, description="server connections kept open")
    reserve_pool_size: int = Field(5, ge=0, description="extra server connections under load")
    reserve_pool_timeout: int = Field(
        3, ge=0, description="seconds a client waits before the reserve is used"
    )
    server_lifetime: int = Field(3600, ge=0, description="seconds a server connection lives")
    server_idle_timeout: int = Field(
        600, ge=0, description="seconds an idle server connection is kept"
    )
    max_prepared_statements: int = Field(
        100, ge=0, description="prepared statements tracked per connection"
    )
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
    maxmemory_mb: int = Field(512, ge=16, description="Redis maxmemory, in MB")
    eviction_policy: Literal[
        "noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru",
        "volatile-lfu", "volatile-random", "volatile-ttl",
    ] = Field(
        "noeviction",
        description="what Redis does at maxmemory: noeviction refuses writes, loudly, and keeps "
        "every key (queues: BullMQ, Sidekiq); an eviction policy drops keys (a pure cache)",
    )  # fmt: skip
    memory_mb: int | None = Field(
        None,
        ge=32,
        description="container memory limit (room for the AOF rewrite's fork)",
        json_schema_extra={"default_text": "1.5 x maxmemoryMb"},
    )
    cpus: CpuLimit | None = Field(
        None,
        description="CPU limit of its container, in cores (e.g. 1.0); at most its server's vCPUs",
        json_schema_extra={"default_text": "no limit"},
    )
    snapshot_minutes: int | None = Field(
        15,
        ge=1,
        le=1440,
        description="an RDB snapshot this often if anything changed (besides the AOF); null: none",
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
    user: DatabaseIdentifier = Field(
        "app",
        description="the user the apps connect as (its password and the root password are "
        "generated)",
    )
    memory_mb: int = Field(1024, ge=256, description="memory limit")
    data_gb: int = Field(5, ge=1, description="the data you expect to keep, in GB: the disk budget")
    cpus: CpuLimit | None = Field(
        None,
        description="CPU limit of its container, in cores (e.g. 1.0); at most its server's vCPUs",
        json_schema_extra={"default_text": "no limit"},
    )


class BucketConfig(Model):
    name: BucketName = Field(description="the bucket's name")
    access: Literal["private", "public-read"] = Field(
        "private",
        description="public-read: anyone may download its objects (e.g. images served through "
        "Cloudflare); private: only the keys of apps that name it",
    )


class MinioConfig(Model):
    hostname: HostEntry = Field(
        HostEntry(host="files"), description="the S3 API's hostname; proxied by default"
    )
    buckets: list[BucketConfig] = Field(default_factory=list, description="buckets to create")
    console_hostname: HostEntry | None = Field(
        None,
        description="the web console's hostname; DNS-only by default; no console when unset",
    )
    image: PinnedImage = Field(
        "ghcr.io/coollabsio/minio:RELEASE.2025-10-15T17-29-55Z",
        description="MinIO image (MinIO stopped publishing images in 2025-10; this is Coolify's "
        "build of the last release)",
    )
    memory_mb: int = Field(512, ge=128, description="memory limit")
    data_gb: int = Field(
        10,
        ge=1,
        description="the objects you expect to keep, in GB: the disk budget, or the volume's",
    )
    volume: VolumeConfig | None = Field(
        None, description="a Hetzner Volume for its data; none: the server's own disk"
    )


class ServicesConfig(Model):
    postgres: PostgresConfig | None = Field(
        None, description="PostgreSQL 16 on the server ({} to enable with the defaults)"
    )
    external_postgres: ExternalPostgresConfig | None = Field(
        None,
        description="PostgreSQL run elsewhere (Supabase): nothing is deployed, the apps get the "
        "secret keys externalDatabaseUrl and externalDirectUrl; {} to enable",
    )
    mariadb: MariadbConfig | None = Field(
        None,
        description="MariaDB 10.11 on the server instead of PostgreSQL (one database per stack); "
        "the apps get a mysql:// DATABASE_URL",
    )
    pgbouncer: PgBouncerConfig | None = Field(
        None,
        description="PgBouncer in front of postgres (needs it): transaction pooling, scram-sha-256",
    )
    redis: RedisConfig | None = Field(
        None, description="Redis 7 on the server: generated password, AOF every second"
    )
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
