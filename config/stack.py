"""The stack config as pydantic v2 models: one model per top-level `platform:<key>`.

Keys are camelCase in the stack file (Pulumi's convention) and snake_case in Python. Every model
forbids unknown keys. No model holds a secret: secrets are read with `require_secret` or
generated with pulumi-random, next to the model, never inside it. Each concern's models and
cross-checks live in a module of their own (servers, topology, dns, services, apps and
references, backups and monitoring, imports, budgets); StackConfig joins them.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from config.apps import AppConfig
from config.backups import BackupsChecks, BackupsConfig
from config.base import Model
from config.budgets import Budgets
from config.dns import DnsConfig, Hostnames
from config.fields import DomainName
from config.imports import ImportsChecks, ImportsConfig
from config.references import AppReferences
from config.servers import (
    AppServersConfig,
    DatabaseServerConfig,
    NetworkConfig,
    ServerConfig,
    SshConfig,
)
from config.services import CoolifyConfig, ServicesConfig
from config.topology import Topology


class StackConfig(Hostnames, Topology, Budgets, AppReferences, BackupsChecks, ImportsChecks, Model):
    """The whole stack file's `platform:` namespace, validated once; its parts and their
    cross-checks live in the module of each concern."""

    domain: DomainName = Field(
        description="the domain the stack's hostnames live under, e.g. example.com"
    )
    server: ServerConfig = Field(description="the Hetzner server: type, location, protection")
    ssh: SshConfig = Field(description="who may log in: admin networks and public keys")
    dns: DnsConfig = Field(DnsConfig(), description="Cloudflare zone and record settings")
    coolify: CoolifyConfig = Field(CoolifyConfig(), description="the Coolify dashboard")
    network: NetworkConfig | None = Field(
        None,
        description="a Hetzner private network every server of the stack joins (the base for a "
        "database server and app servers)",
    )
    database_server: DatabaseServerConfig | None = Field(
        None,
        description="scaling stage 3: a database server of its own for PostgreSQL (or MariaDB), "
        "PgBouncer and Redis; needs network",
    )
    app_servers: AppServersConfig | None = Field(
        None,
        description="scaling stage 4: the apps on app servers behind a Hetzner load balancer; "
        "needs network and databaseServer",
    )
    services: ServicesConfig = Field(ServicesConfig(), description="data and support services")
    apps: list[AppConfig] = Field(default_factory=list, description="the team's applications")
    github_webhooks: bool = Field(
        False,
        description="add each GitHub repository's push webhook to it, with the secret key "
        "githubToken (a fine-grained token with Webhooks read and write on the apps' "
        "repositories); otherwise add the `webhooks` output by hand",
    )
    backups: BackupsConfig | None = Field(
        None,
        description="scheduled dumps of the database to off-site storage, restore drills and "
        "MinIO's mirror",
    )
    imports: ImportsConfig = Field(
        ImportsConfig(), description="data brought in from elsewhere, one command each"
    )

    @model_validator(mode="after")
    def _cross_checks(self) -> StackConfig:
        self._check_zone()
        self._check_names()
        self._check_buckets()
        self._check_apps()
        self._check_hostnames()
        self._check_database_server()
        self._check_app_servers()
        self._check_memory()
        self._check_disk()
        self._check_cpus()
        self._check_backups()
        self._check_imports()
        self._check_network()
        return self

    @property
    def coolify_root_email(self) -> str:
        return self.coolify.root_email or f"admin@{self.domain}"

    def minio_bucket_names(self) -> list[str]:
        minio = self.services.minio
        return [bucket.name for bucket in minio.buckets] if minio else []
