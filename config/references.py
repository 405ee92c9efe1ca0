"""What the apps refer to: platform values, secrets, buckets and each other, in deploy order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from config.apps import AppConfig, RefValue
from config.base import SecretValue
from config.fields import config_error, config_errors
from config.services import RESERVED_NAMES

if TYPE_CHECKING:
    from config.stack import StackConfig


class AppReferences:
    """The apps' references and deploy order (a part of StackConfig)."""

    def ref_problem(self: StackConfig, app: AppConfig, ref: str) -> str | None:
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

    def deploy_dependencies(self: StackConfig, app: AppConfig) -> list[str]:
        """The apps deployed before `app` (deployAfter). URL references add none: an app's URL
        comes from the config and is known before anything is deployed."""
        return sorted(set(app.deploy_after) - {app.name})

    def _check_apps(self: StackConfig) -> None:
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

    def deploy_order(self: StackConfig) -> list[AppConfig]:
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

    def secret_names(self: StackConfig) -> dict[str, str]:
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

    def _check_buckets(self: StackConfig) -> None:
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

    def _check_names(self: StackConfig) -> None:
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
