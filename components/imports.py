"""The imports on the server (render/imports.py): an external PostgreSQL copied into the
platform's, S3 buckets copied into MinIO. One pulumi-command step per kind installs its
service on the server where the data goes, and runs again when the config or the secrets
change; nothing is imported until someone starts it (docs/operations.md, "Bringing data
in"). Dropping a kind from the config removes its service; what it imported stays. Secrets
travel on stdin."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_command as command

from components.data import BackupSource
from components.remote import remote_step
from config import BucketsImportConfig, PostgresImportConfig
from render.backups import Database, Minio
from render.imports import (
    BUCKETS,
    POSTGRES,
    Layout,
    buckets_import_bundle,
    buckets_import_secrets,
    postgres_import_bundle,
    postgres_import_secrets,
)
from render.minio import S3_PORT as MINIO_PORT
from render.remote import remote_script
from render.urls import postgres_url_parts


def _layout(layout: Layout) -> dict[str, str]:
    return {
        "ROOT": "/",
        "SCRIPTS_DIR": layout.scripts_dir,
        "SECRETS_DIR": layout.secrets_dir,
        "UNIT_PREFIX": layout.unit_prefix,
    }


def postgres_import_stdin(values: dict[str, Any]) -> str:
    """The install step's stdin: sourceUrl (the importSourceUrl) and targetPassword."""
    parts = postgres_url_parts(values["sourceUrl"])
    source = {
        "host": parts.host,
        "port": str(parts.port),
        "user": parts.user,
        "password": parts.password,
        "database": parts.database,
        "sslmode": parts.sslmode,
    }
    return postgres_import_secrets(source, values["targetPassword"])


class Imports(pulumi.ComponentResource):
    """`commands`: each kind's command, to run as root on the server named."""

    def __init__(
        self,
        name: str,
        *,
        postgres: tuple[PostgresImportConfig, BackupSource, pulumi.Output[str]] | None,
        buckets: tuple[BucketsImportConfig, tuple[pulumi.Output[str], pulumi.Output[str]]] | None,
        minio_host: pulumi.Input[str] | None,
        minio_root_key: pulumi.Input[dict[str, str]] | None,
        database_ssh: command.remote.ConnectionArgs,
        database_server_id: pulumi.Input[str],
        minio_ssh: command.remote.ConnectionArgs,
        minio_server_id: pulumi.Input[str],
        after: list[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`postgres`: its config, the platform database it goes into and the source's URL
        (secret); `buckets`: its config and the source's key (ID and secret); the MinIO they go
        into (its host on Coolify's network and root key); the servers the database and MinIO
        run on."""
        super().__init__("platform:index:Imports", name, None, opts)
        self.commands: dict[str, str] = {}
        if postgres is not None:
            config, database, source_url = postgres
            client_image = config.client_image or database.image

            def postgres_install(where: list[Any]) -> str:
                host, port, user, database_name = where
                target = Database("postgres", host, int(port), user, database_name, "unused")
                return remote_script(
                    "install-imports",
                    **_layout(POSTGRES),
                    BUNDLE=postgres_import_bundle(config, target, client_image),
                    IMAGE=client_image,
                )

            stdin = pulumi.Output.all(sourceUrl=source_url, targetPassword=database.password)
            remote_step(
                f"{name}-postgres-install",
                connection=database_ssh,
                create=pulumi.Output.all(
                    database.host, database.port, database.user, database.name
                ).apply(postgres_install),
                delete=remote_script("remove-imports", **_layout(POSTGRES)),
                server_id=database_server_id,
                after=after,
                parent=self,
                stdin=pulumi.Output.secret(stdin.apply(postgres_import_stdin)),
            )
            self.commands["postgres"] = f"systemctl start {POSTGRES.unit_prefix}"
        if buckets is not None:
            # The config requires services.minio for imports.buckets.
            assert minio_host is not None
            assert minio_root_key is not None
            bucket_config, (key_id, secret_key) = buckets
            secrets = pulumi.Output.all(key_id, secret_key, minio_root_key).apply(
                lambda values: buckets_import_secrets(*values)
            )
            remote_step(
                f"{name}-buckets-install",
                connection=minio_ssh,
                create=pulumi.Output.from_input(minio_host).apply(
                    lambda host: remote_script(
                        "install-imports",
                        **_layout(BUCKETS),
                        BUNDLE=buckets_import_bundle(bucket_config, Minio(host, MINIO_PORT, ())),
                        IMAGE=bucket_config.rclone_image,
                    )
                ),
                delete=remote_script("remove-imports", **_layout(BUCKETS)),
                server_id=minio_server_id,
                after=after,
                parent=self,
                stdin=pulumi.Output.secret(secrets),
            )
            self.commands["buckets"] = f"systemctl start {BUCKETS.unit_prefix}"
        self.register_outputs({"commands": self.commands})
