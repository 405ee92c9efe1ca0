"""The data services as Coolify resources: PostgreSQL 16 with PgBouncer in front of it, or an
external PostgreSQL (Supabase) by secret URLs, or MariaDB 10.11; and Redis 7. Passwords are
generated, and the connection URLs the apps get are built in one place.

On one server everything runs on Coolify's shared Docker network and nothing is published: a
database's hostname there is its Coolify uuid, PgBouncer's is `pgbouncer-<service uuid>`. With
a database server (the master plan's stage 3) the databases, PgBouncer and Redis run there,
published on its private address, which is what the apps connect to; its firewall keeps them
off the internet. MinIO stays on Coolify's server and is then published on that server's
private address, for the backup jobs on the database server and the apps on app servers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_random as random

from components.volumes import DataVolume
from config import (
    AppConfig,
    MariadbConfig,
    MinioConfig,
    PgBouncerConfig,
    PostgresConfig,
    RedisConfig,
    ServicesConfig,
)
from config.secrets import read_secret
from coolify.resources import Connection, Database, Service
from render.minio import CONSOLE_PORT, S3_PORT, AppKey, minio_compose
from render.pgbouncer import PORT as PGBOUNCER_PORT
from render.pgbouncer import pgbouncer_compose, pool_settings
from render.postgres import postgres_settings, postgresql_conf
from render.redis import redis_conf
from render.urls import PostgresParts, mysql_url, postgres_url, postgres_url_parts, redis_url
from render.yaml_text import dump_yaml

POSTGRES_PORT = 5432
REDIS_PORT = 6379
MARIADB_PORT = 3306


def _password(name: str, parent: pulumi.Resource, length: int = 40) -> random.RandomPassword:
    """URL-safe: letters and digits only (40 of them: about 238 bits)."""
    return random.RandomPassword(
        name, length=length, special=False, opts=pulumi.ResourceOptions(parent=parent)
    )


def _secret_url(
    url: Callable[..., str],
    host: pulumi.Input[str],
    password: pulumi.Output[str],
    **fields: Any,
) -> pulumi.Output[str]:
    """A connection URL (render.urls) once its host and password are known; secret."""
    return pulumi.Output.secret(
        pulumi.Output.all(host, password).apply(
            lambda values: url(host=values[0], password=values[1], **fields)
        )
    )


@dataclass(frozen=True)
class Probe:
    """Where a data service answers on Coolify's network, for monitoring: a TCP port, or an
    HTTP health path on it."""

    name: str
    host: pulumi.Output[str]
    port: int
    http_path: str | None = None


@dataclass(frozen=True)
class DatabaseHost:
    """The database server (the master plan's stage 3): its uuid in Coolify and its address in
    the private network, where the data services are published for the apps."""

    server_uuid: pulumi.Input[str]
    private_ip: str


@dataclass(frozen=True)
class BackupSource:
    """The database the backup jobs dump: where it answers on Coolify's network, as whom (a
    user that may create and drop the drill's scratch database), with which client image."""

    engine: Literal["postgres", "mariadb"]
    host: pulumi.Output[str]
    port: pulumi.Input[int]
    user: pulumi.Input[str]
    name: pulumi.Input[str]
    image: str
    password: pulumi.Output[str]  # secret


def limits_cpus(cpus: float | None) -> str:
    """A CPU limit as Coolify's limits_cpus takes it: "1.5", or "0" for none."""
    return f"{cpus:g}" if cpus else "0"


def _external_source(direct_url: pulumi.Output[str], image: str) -> BackupSource:
    """The external PostgreSQL as the backup jobs reach it: its direct URL's parts (secret,
    as the URL is), dumped over the internet by a client of `image`."""
    parts = direct_url.apply(postgres_url_parts)

    def part(read: Callable[[PostgresParts], Any]) -> pulumi.Output[Any]:
        return pulumi.Output.secret(parts.apply(read))

    return BackupSource(
        "postgres",
        host=part(lambda url: url.host),
        port=part(lambda url: url.port),
        user=part(lambda url: url.user),
        name=part(lambda url: url.database),
        image=image,
        password=part(lambda url: url.password),
    )


class DataServices(pulumi.ComponentResource):
    """Outputs (all secret): `database_url` (through PgBouncer when there is one, with
    `?pgbouncer=true` for Prisma), `direct_url` (PostgreSQL itself, for migrations) and
    `redis_url`; None where the service is not configured."""

    database_url: pulumi.Output[str] | None = None
    direct_url: pulumi.Output[str] | None = None
    redis_url: pulumi.Output[str] | None = None
    redis_host: pulumi.Output[str] | None = None
    redis_password: pulumi.Output[str] | None = None  # secret
    # MinIO: the S3 endpoint on Coolify's network (or the private one), the public one, and
    # each app's own key.
    s3_endpoint: pulumi.Output[str] | None = None
    s3_public_url: str | None = None
    s3_keys: dict[str, pulumi.Output[dict[str, str]]] | None = None  # app -> its key, secret
    s3_credentials: pulumi.Output[dict[str, dict[str, str]]] | None = None  # all, for export
    backup_source: BackupSource | None = None  # the database on the server, for the backups
    # For the off-site mirror: MinIO's host (as the S3 endpoint) and its root key (secret).
    minio_host: pulumi.Output[str] | None = None
    minio_root_key: pulumi.Output[dict[str, str]] | None = None

    def __init__(
        self,
        name: str,
        *,
        services: ServicesConfig,
        apps: list[AppConfig],
        minio_urls: tuple[str, str | None] | None,
        connection: Connection,
        placement: Mapping[str, pulumi.Input[str]],
        protect: bool,
        database_host: DatabaseHost | None = None,
        minio_address: str | None = None,
        volumes: Mapping[str, DataVolume] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`database_host`: the database server PostgreSQL (or MariaDB), PgBouncer and Redis
        go to; None: they stay on Coolify's own server with everything else. `minio_address`:
        Coolify's server's private address, where MinIO is published for the other servers
        (the backup jobs on the database server, the apps on app servers); None: one server.
        `volumes`: the Hetzner Volumes services keep their data on ("postgres", "minio"),
        mounted before they start."""
        super().__init__("platform:index:DataServices", name, None, opts)
        self._name, self._connection, self._placement = name, connection, placement
        self._database_host = database_host
        self._minio_address = minio_address
        self._volumes: Mapping[str, DataVolume] = volumes or {}
        self._data_placement: Mapping[str, pulumi.Input[str]] = (
            {**placement, "server_uuid": database_host.server_uuid} if database_host else placement
        )
        # Data lives in these: protected like the server, and their volumes outlive them.
        self._keep = pulumi.ResourceOptions(parent=self, protect=protect)
        # What apps wait for: the databases and services themselves. (Waiting for the component
        # would wait for each of its children, every app's S3 key included: quadratic.)
        self.running: list[pulumi.Resource] = []
        self.probes: list[Probe] = []
        if services.postgres is not None:
            self._postgres(services.postgres, services.pgbouncer)
        if services.external_postgres is not None:
            # Nothing to deploy: the URLs the user gave (checked by the config loader).
            self.database_url = read_secret("externalDatabaseUrl")
            self.direct_url = read_secret("externalDirectUrl")
            self.backup_source = _external_source(
                self.direct_url, services.external_postgres.client_image
            )
        if services.mariadb is not None:
            self._mariadb(services.mariadb)
        if services.redis is not None:
            self._redis(services.redis)
        if services.minio is not None and minio_urls is not None:
            self._minio(services.minio, apps, *minio_urls)
        self.register_outputs({})

    def _database(
        self,
        engine: str,
        name: str,
        what: str,
        *,
        image: str,
        memory_mb: int,
        cpus: float | None,
        port: int,
        credentials: dict[str, pulumi.Input[str]],
        conf: str | None = None,
        volume: DataVolume | None = None,
    ) -> Database:
        """A Coolify database on the (database) server: it holds data, so it is kept (protected,
        and its volumes outlive it), and the apps wait for it. On a database server it is
        published on the engine's port."""
        database = Database(
            f"{self._name}-{name}",
            connection=self._connection,
            props={
                **self._data_placement,
                **({"public_port": port} if self._database_host else {}),
                "engine": engine,
                "name": name,
                "description": f"{what} (managed by Pulumi)",
                "image": image,
                "limits_memory": f"{memory_mb}m",
                "limits_cpus": limits_cpus(cpus),
                "credentials": credentials,
                **({"conf": conf} if conf is not None else {}),
                **({"data_host_path": volume.data_path} if volume else {}),
                "delete_volumes": False,
            },
            opts=pulumi.ResourceOptions.merge(
                self._keep, pulumi.ResourceOptions(depends_on=[volume.mounted] if volume else [])
            ),
        )
        self.running.append(database)
        return database

    def _service(
        self,
        name: str,
        what: str,
        *,
        compose: pulumi.Output[str],
        urls: list[dict[str, str]],
        holds_data: bool,
        on_database_server: bool = False,
        after: list[pulumi.Resource] | None = None,
    ) -> Service:
        """A Coolify service from our compose file (secret: it carries the service's secrets);
        kept like a database if it holds data. The apps wait for it."""
        service = Service(
            f"{self._name}-{name}",
            connection=self._connection,
            props={
                **(self._data_placement if on_database_server else self._placement),
                "name": name,
                "description": f"{what} (managed by Pulumi)",
                "compose": pulumi.Output.secret(compose),
                "urls": urls,
                "delete_volumes": not holds_data,
            },
            opts=pulumi.ResourceOptions.merge(
                self._keep if holds_data else pulumi.ResourceOptions(parent=self),
                pulumi.ResourceOptions(depends_on=after or []),
            ),
        )
        self.running.append(service)
        return service

    def _client_host(self, in_coolify: pulumi.Output[str]) -> pulumi.Output[str]:
        """The host the apps connect to: the database server's private address, or the
        service's name on Coolify's network."""
        host = self._database_host
        return pulumi.Output.from_input(host.private_ip) if host else in_coolify

    def _postgres(self, postgres: PostgresConfig, pgbouncer: PgBouncerConfig | None) -> None:
        password = _password(f"{self._name}-postgres-password", self)
        database = self._database(
            "postgresql",
            "postgres",
            "PostgreSQL",
            image=postgres.image,
            memory_mb=postgres.memory_mb,
            cpus=postgres.cpus,
            port=POSTGRES_PORT,
            volume=self._volumes.get("postgres"),
            credentials={
                "postgres_user": postgres.user,
                "postgres_password": password.result,
                "postgres_db": postgres.database,
            },
            conf=postgresql_conf(postgres_settings(postgres.memory_mb, postgres.max_connections)),
        )

        host = self._client_host(database.id)
        self.direct_url = _secret_url(
            postgres_url, host, password.result,
            user=postgres.user, port=POSTGRES_PORT, database=postgres.database,
        )  # fmt: skip
        self.database_url = self.direct_url
        # The jobs run on the database's own server: they reach it on Coolify's network.
        self.backup_source = BackupSource(
            "postgres", database.id, POSTGRES_PORT, postgres.user, postgres.database,
            postgres.image, pulumi.Output.secret(password.result),
        )  # fmt: skip
        self.probes.append(Probe("PostgreSQL", host, POSTGRES_PORT))
        if pgbouncer is None:
            return

        def compose(values: list[Any]) -> str:
            host, secret = values
            return dump_yaml(
                pgbouncer_compose(
                    image=pgbouncer.image,
                    database=postgres.database,
                    postgres_host=host,
                    pool=pool_settings(pgbouncer),
                    version=pgbouncer.version,
                    user=postgres.user,
                    password=secret,
                    memory_mb=pgbouncer.memory_mb,
                    publish_on=self._database_host.private_ip if self._database_host else None,
                )
            )

        service = self._service(
            "pgbouncer",
            "PgBouncer in front of PostgreSQL",
            compose=pulumi.Output.all(database.id, password.result).apply(compose),
            urls=[],
            holds_data=False,
            on_database_server=True,
        )

        pgbouncer_host = self._client_host(service.id.apply(lambda uuid: f"pgbouncer-{uuid}"))
        self.database_url = _secret_url(
            postgres_url, pgbouncer_host, password.result,
            user=postgres.user, port=PGBOUNCER_PORT, database=postgres.database, pgbouncer=True,
        )  # fmt: skip
        self.probes.append(Probe("PgBouncer", pgbouncer_host, PGBOUNCER_PORT))

    def _mariadb(self, mariadb: MariadbConfig) -> None:
        password = _password(f"{self._name}-mariadb-password", self)
        root_password = _password(f"{self._name}-mariadb-root-password", self)
        database = self._database(
            "mariadb",
            "mariadb",
            "MariaDB",
            image=mariadb.image,
            memory_mb=mariadb.memory_mb,
            cpus=mariadb.cpus,
            port=MARIADB_PORT,
            credentials={
                "mariadb_user": mariadb.user,
                "mariadb_password": password.result,
                "mariadb_database": mariadb.database,
                "mariadb_root_password": root_password.result,
            },
        )

        host = self._client_host(database.id)
        self.database_url = _secret_url(
            mysql_url, host, password.result,
            user=mariadb.user, port=MARIADB_PORT, database=mariadb.database,
        )  # fmt: skip
        self.probes.append(Probe("MariaDB", host, MARIADB_PORT))
        # As root: the drill creates and drops its scratch database.
        self.backup_source = BackupSource(
            "mariadb", database.id, MARIADB_PORT, "root", mariadb.database, mariadb.image,
            pulumi.Output.secret(root_password.result),
        )  # fmt: skip

    def _redis(self, redis: RedisConfig) -> None:
        password = _password(f"{self._name}-redis-password", self)
        database = self._database(
            "redis",
            "redis",
            "Redis",
            image=redis.image,
            memory_mb=redis.limit_mb,
            cpus=redis.cpus,
            port=REDIS_PORT,
            credentials={"redis_password": password.result},
            conf=redis_conf(
                maxmemory_mb=redis.maxmemory_mb,
                eviction_policy=redis.eviction_policy,
                snapshot_minutes=redis.snapshot_minutes,
            ),
        )
        host = self._client_host(database.id)
        self.redis_host = host
        self.probes.append(Probe("Redis", host, REDIS_PORT))
        self.redis_password = pulumi.Output.secret(password.result)
        self.redis_url = _secret_url(redis_url, host, password.result, port=REDIS_PORT)

    def _minio(
        self, minio: MinioConfig, apps: list[AppConfig], public_url: str, console_url: str | None
    ) -> None:
        volume = self._volumes.get("minio")
        root_user = _password(f"{self._name}-minio-root-user", self, length=20)
        root_password = _password(f"{self._name}-minio-root-password", self)
        users = [app for app in apps if app.buckets]
        keys = {
            app.name: (
                _password(f"{self._name}-minio-{app.name}-access-key", self, length=20),
                _password(f"{self._name}-minio-{app.name}-secret-key", self),
            )
            for app in users
        }

        def compose(values: list[Any]) -> str:
            user, password, *credentials = values
            app_keys = [
                AppKey(app.name, credentials[2 * i], credentials[2 * i + 1], app.buckets)
                for i, app in enumerate(users)
            ]
            return dump_yaml(
                minio_compose(
                    image=minio.image,
                    root_user=user,
                    root_password=password,
                    public_url=public_url,
                    console_url=console_url,
                    buckets=[(bucket.name, bucket.access) for bucket in minio.buckets],
                    app_keys=app_keys,
                    memory_mb=minio.memory_mb,
                    publish_on=self._minio_address,
                    data_dir=volume.data_path if volume else None,
                )
            )

        secrets = [root_user.result, root_password.result]
        secrets += [value.result for pair in keys.values() for value in pair]
        urls = [f"{public_url}:{S3_PORT}"] + (
            [f"{console_url}:{CONSOLE_PORT}"] if console_url else []
        )
        service = self._service(
            "minio",
            "MinIO object storage",
            compose=pulumi.Output.all(*secrets).apply(compose),
            urls=[{"name": "minio", "url": ",".join(urls)}],
            holds_data=True,
            after=[volume.mounted] if volume else [],
        )
        minio_host = (
            pulumi.Output.from_input(self._minio_address)
            if self._minio_address
            else service.id.apply(lambda uuid: f"minio-{uuid}")
        )
        self.s3_endpoint = minio_host.apply(lambda host: f"http://{host}:{S3_PORT}")
        self.probes.append(Probe("MinIO", minio_host, S3_PORT, "/minio/health/live"))
        self.minio_host = minio_host
        root: pulumi.Input[dict[str, Any]] = {
            "accessKey": root_user.result,
            "secretKey": root_password.result,
        }
        self.minio_root_key = pulumi.Output.secret(pulumi.Output.from_input(root))
        self.s3_public_url = public_url
        # One output per app, so that an app's variables depend on its own key only (one
        # output of every key would make each app depend on all of them: quadratic).
        self.s3_keys = {
            name: pulumi.Output.secret(
                pulumi.Output.from_input({"accessKey": access.result, "secretKey": secret.result})
            )
            for name, (access, secret) in keys.items()
        }
        # from_input, not Output.all(**keys), which gives a list when no app has a key.
        every_key: pulumi.Input[dict[str, Any]] = dict(self.s3_keys)
        self.s3_credentials = pulumi.Output.secret(pulumi.Output.from_input(every_key))
