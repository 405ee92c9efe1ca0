"""What each server must hold: memory, disk (below Coolify's alert) and CPUs, checked before
anything is ordered."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from config.fields import config_error
from config.servers import ServerConfig
from config.services import DATABASE_SERVICES, PostgresConfig, VolumeConfig
from config.topology import APPS, COOLIFY, DATABASES, MINIO, UPTIME_KUMA, Host

if TYPE_CHECKING:
    from config.stack import StackConfig


# The memory budget's fixed shares, in MB.
OS_MB = 512
COOLIFY_MB = 1536
BUILD_MB = 1024
AUTOKUMA_MB = 64  # AutoKuma's memory limit (render.uptime_kuma)
DOCKER_MB = 256  # Docker and Coolify's helper containers on a server Coolify deploys to
PROXY_MB = 128  # Coolify's Traefik on an app server

# The disk budget's fixed shares, in GB: estimates, shown as such in the plan.
OS_GB = 5  # Debian, its packages and logs
COOLIFY_GB = 8  # Coolify's images (its helper alone is 1.5 GB), its database and logs
DOCKER_GB = 3  # Coolify's helper image and the proxy, on a server Coolify deploys to
SERVICE_IMAGES_GB = 2  # the data services' images
APP_GB = 3  # an app's image, the one before it (rollback), and its share of the build cache


# How a budget names each kind of server, before its type ("the database server, cx33").
BUDGET_NAMES = {"main": "", "database": "database server, ", "app": "each app server, "}


def _budget_table(rows: list[tuple[str, int]], unit: str, digits: int) -> str:
    """A memory or disk budget as an error message shows it: who, and how much."""
    width = max(len(who) for who, _ in rows)
    return "\n".join(f"      {who:<{width}}  {amount:>{digits}} {unit}" for who, amount in rows)


class Budgets:
    """Each server's memory, disk and CPU budgets (a part of StackConfig)."""

    def _service_rows(self: StackConfig, names: tuple[str, ...]) -> list[tuple[str, int]]:
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

    def host_memory(self: StackConfig, host: Host) -> list[tuple[str, int]]:
        """Who takes how much of a host's memory, in MB, by what runs on it: where apps run,
        the server builds their images itself."""
        runs = host.runs
        rows = [("operating system", OS_MB)]
        if COOLIFY in runs:
            rows.append(("Coolify (app, database, Redis, realtime, proxy)", COOLIFY_MB))
        else:
            rows.append(("Docker and Coolify's helpers", DOCKER_MB))
            if APPS in runs:
                rows.append(("Coolify's proxy (Traefik)", PROXY_MB))
        if APPS in runs:
            rows.append(("one image build at a time", BUILD_MB))
        services = [*(DATABASE_SERVICES if DATABASES in runs else ())]
        services += [name for name in (MINIO, UPTIME_KUMA) if name in runs]
        rows += self._service_rows(tuple(services))
        if UPTIME_KUMA in runs and self.services.uptime_kuma:
            rows.append(("autokuma (its monitors as code)", AUTOKUMA_MB))
        if APPS in runs:
            rows += [(f"app {app.name}", app.memory_mb) for app in self.apps]
        return rows

    def memory_budget(self: StackConfig) -> list[tuple[str, int]]:
        """Who takes how much of the (main) server's memory, in MB."""
        return self.host_memory(self.hosts.main)

    def _budgets(
        self: StackConfig, rows_of: Callable[[Host], list[tuple[str, int]]]
    ) -> list[tuple[str, ServerConfig, str, list[tuple[str, int]]]]:
        """(which server, its config, its type's config key, its rows) per kind of server of
        the stack: the app servers are alike, so one stands for them all."""
        budgets, roles = [], set()
        for host in self.hosts.all:
            if host.role not in roles:
                roles.add(host.role)
                budgets.append((BUDGET_NAMES[host.role], host.server, host.type_key, rows_of(host)))
        return budgets

    def server_budgets(
        self: StackConfig,
    ) -> list[tuple[str, ServerConfig, str, list[tuple[str, int]]]]:
        """(which server, its config, its type's config key, its memory budget) per kind of
        server of the stack."""
        return self._budgets(self.host_memory)

    def _check_memory(self: StackConfig) -> None:
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

    def _database_disk(self: StackConfig) -> list[tuple[str, int]]:
        """What the databases keep on the disk of the server they run on, in GB."""
        services, rows = self.services, []
        for name, service in (("postgres", services.postgres), ("mariadb", services.mariadb)):
            if service is None:
                continue
            if not (isinstance(service, PostgresConfig) and service.volume is not None):
                rows.append((f"{name} data", service.data_gb))
                if self.backups is not None:
                    # The drill restores a full copy beside it, in the database's own folder.
                    rows.append(("restore drill's copy", service.data_gb))
            if self.backups is not None:
                # The compressed dump waits on the server's disk for its upload.
                rows.append(("a dump", -(-service.data_gb // 2)))
        return rows

    def host_disk(self: StackConfig, host: Host) -> list[tuple[str, int]]:
        """What a host keeps on its own disk, in GB, by what runs on it."""
        runs, services = host.runs, self.services
        rows = [("operating system", OS_GB)]
        if COOLIFY in runs:
            rows.append(("Coolify", COOLIFY_GB))
            if services.enabled():
                rows.append(("data services' images", SERVICE_IMAGES_GB))
        else:
            rows.append(("Docker and Coolify's helper", DOCKER_GB))
            if DATABASES in runs:
                rows.append(("data services' images", SERVICE_IMAGES_GB))
        if DATABASES in runs:
            rows += self._database_disk()
        if MINIO in runs and (minio := services.minio) is not None and minio.volume is None:
            rows.append(("minio data", minio.data_gb))
        if APPS in runs:
            rows += [(f"app {app.name}", APP_GB) for app in self.apps]
        return rows

    def disk_budgets(
        self: StackConfig,
    ) -> list[tuple[str, ServerConfig, str, list[tuple[str, int]]]]:
        """(which server, its config, its type's config key, what it keeps on its own disk in
        GB) per kind of server, as server_budgets gives memory."""
        return self._budgets(self.host_disk)

    def disk_limit_gb(self: StackConfig, server: ServerConfig) -> int:
        """What a server's disk may hold before Coolify's disk alert fires."""
        return server.spec.disk_gb * self.coolify.disk_alert_percent // 100

    def volume_needs(self: StackConfig) -> list[tuple[str, VolumeConfig, int]]:
        """(service, its volume, the GB it keeps there) for each service with a volume: the
        data, and for PostgreSQL with backups the restore drill's copy beside it."""
        services, needs = self.services, []
        if (postgres := services.postgres) is not None and postgres.volume is not None:
            copies = 2 if self.backups is not None else 1
            needs.append(("postgres", postgres.volume, postgres.data_gb * copies))
        if (minio := services.minio) is not None and minio.volume is not None:
            needs.append(("minio", minio.volume, minio.data_gb))
        return needs

    def _check_disk(self: StackConfig) -> None:
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

    def _check_cpus(self: StackConfig) -> None:
        """A CPU limit fits the server its container runs on (Docker refuses more cores than
        the machine has, and the deploy would fail)."""
        hosts, services = self.hosts, self.services
        apps_on, data_on = hosts.running(APPS)[0], hosts.database
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
        for at, who, cpus, host in limits:
            server = host.server
            if cpus is not None and cpus > server.spec.vcpus:
                raise config_error(
                    f"{who} asks for {cpus:g} CPUs but a {server.type} has "
                    f"{server.spec.vcpus}; lower {at} or choose a larger {host.type_key}",
                    at=at,
                )
