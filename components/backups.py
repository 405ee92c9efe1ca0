"""The backup jobs on the server: daily and hourly dumps of the database (PostgreSQL or
MariaDB) to off-site S3 storage (Backblaze B2), the weekly restore drill, and the daily mirror
of MinIO's buckets, each a systemd timer (render/backups.py).

Coolify has scheduled database backups to S3 too, but they fail silently, record nothing to
check a restore against and never prove one; these jobs exit non-zero and report "down" to
their push monitor on any failure, and a monitor that hears nothing alerts as well.

One pulumi-command step installs them over SSH and runs again whenever the jobs or their
secrets change; its delete step removes them (the dumps off-site stay). Secrets travel on stdin.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_command as command

from components.data import BackupSource
from components.remote import remote_step
from config import BackupsConfig
from config.secrets import read_secret
from render.backups import (
    ENGINES,
    MINIO_ENV,
    OFFSITE_ENV,
    SCRIPTS_DIR,
    SECRETS_DIR,
    UNIT_PREFIX,
    Database,
    Minio,
    Offsite,
    bundle,
    environment_file,
    jobs,
    server_bundle,
)
from render.minio import S3_PORT as MINIO_PORT
from render.remote import remote_script


def secret_files(values: Mapping[str, Any]) -> str:
    """The environment files that hold secrets, as the install step reads them on stdin:
    values are accessKeyId, secretAccessKey, engine and databasePassword, minioRootKey (or
    None) and pushUrls (monitor -> its push URL; what the jobs of render.backups.Job read)."""
    engine = ENGINES[values["engine"]]
    files = {
        OFFSITE_ENV: environment_file(
            {
                "AWS_ACCESS_KEY_ID": values["accessKeyId"],
                "AWS_SECRET_ACCESS_KEY": values["secretAccessKey"],
            }
        ),
        engine.password_file: environment_file(
            {engine.password_variable: values["databasePassword"]}
        ),
    }
    if values.get("minioRootKey"):
        files[MINIO_ENV] = environment_file(
            {
                "RCLONE_CONFIG_MINIO_ACCESS_KEY_ID": values["minioRootKey"]["accessKey"],
                "RCLONE_CONFIG_MINIO_SECRET_ACCESS_KEY": values["minioRootKey"]["secretKey"],
            }
        )
    for monitor, url in (values.get("pushUrls") or {}).items():
        files[f"{SECRETS_DIR}/{monitor}-push.env"] = environment_file({"PUSH_URL": url})
    # Relative to SECRETS_DIR, where the step unpacks them.
    return bundle({path.removeprefix(f"{SECRETS_DIR}/"): text for path, text in files.items()})


class Backups(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        *,
        backups: BackupsConfig,
        prefix: str,
        database: BackupSource,
        minio_host: pulumi.Input[str] | None,
        minio_buckets: list[str],
        minio_root_key: pulumi.Input[dict[str, str]] | None,
        push_urls: Mapping[str, pulumi.Input[str]],
        ssh: command.remote.ConnectionArgs,
        server_id: pulumi.Input[str],
        after: list[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`database`: the database to dump; `minio_*`: the MinIO to mirror (its host on
        Coolify's network, its buckets, its root key, secret), or None and []; `push_urls`:
        monitor ("backup", "drill", "mirror") -> its Uptime Kuma push URL (secret), empty
        without monitoring; `prefix`: where in the bucket this stack's objects go."""
        super().__init__("platform:index:Backups", name, None, opts)
        offsite_config = backups.offsite
        offsite = Offsite(
            endpoint=offsite_config.endpoint,
            bucket=offsite_config.bucket,
            region=offsite_config.signing_region,
            prefix=prefix,
            client_image=backups.aws_cli_image,
            rclone_image=backups.rclone_image,
        )
        mirrored = minio_host is not None and bool(minio_buckets)
        # Where the jobs live on the server: both steps take it.
        layout = {
            "ROOT": "/",
            "SCRIPTS_DIR": SCRIPTS_DIR,
            "UNIT_PREFIX": UNIT_PREFIX,
            "SECRETS_DIR": SECRETS_DIR,
        }
        self.schedules = {
            job.name: job.calendar for job in jobs(backups, database.engine, mirrored)
        }

        def install(where: list[Any]) -> str:
            database_host, port, user, database_name, minio = where
            target = Database(
                engine=database.engine,
                host=database_host,
                port=int(port),
                user=user,
                name=database_name,
                client_image=database.image,
            )
            return remote_script(
                "install-backups",
                **layout,
                BUNDLE=server_bundle(
                    backups,
                    target,
                    Minio(minio, MINIO_PORT, tuple(minio_buckets)) if mirrored else None,
                    offsite,
                ),
                DB_CLIENT_IMAGE=database.image,
                AWS_CLI_IMAGE=backups.aws_cli_image,
                RCLONE_IMAGE=backups.rclone_image,
                OFFSITE_ENV=OFFSITE_ENV,
                S3_ENDPOINT=offsite.endpoint,
                S3_BUCKET=offsite.bucket,
                S3_REGION=offsite.region,
            )

        secrets: dict[str, pulumi.Input[Any]] = {
            "accessKeyId": read_secret("backupAccessKeyId"),
            "secretAccessKey": read_secret("backupSecretAccessKey"),
            "engine": database.engine,
            "databasePassword": database.password,
            "minioRootKey": minio_root_key if mirrored else None,
            "pushUrls": dict(push_urls),
        }
        env_files: pulumi.Output[str] = pulumi.Output.from_input(secrets).apply(secret_files)
        stdin: pulumi.Output[str] = pulumi.Output.secret(env_files)
        self.install = remote_step(
            f"{name}-install",
            connection=ssh,
            create=pulumi.Output.all(
                database.host, database.port, database.user, database.name, minio_host
            ).apply(install),
            delete=remote_script("remove-backups", **layout),
            server_id=server_id,
            after=after,
            parent=self,
            stdin=stdin,
            timeout="15m",
        )
        self.register_outputs({"schedules": self.schedules})
