"""Data brought in from elsewhere (Supabase's PostgreSQL and Storage), one command each."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field, model_validator

from config.backups import RCLONE_IMAGE
from config.base import Model
from config.fields import (
    BucketName,
    DatabaseIdentifier,
    PinnedImage,
    SourceBucketName,
    config_error,
)

if TYPE_CHECKING:
    from config.stack import StackConfig


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
        description="the schemas to leave behind",
        json_schema_extra={
            "default_text": "Supabase's own: auth, storage, realtime, extensions, vault, ..."
        },
    )
    client_image: PinnedImage | None = Field(
        None,
        description="the image whose pg_dump and pg_restore copy it (pg_restore 17 cannot restore "
        "into PostgreSQL 16, which lacks the transaction_timeout it sets; a source newer than "
        "services.postgres is refused: raise services.postgres.image)",
        json_schema_extra={"default_text": "services.postgres.image"},
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
    source: SourceBucketName = Field(description="a bucket at the source")
    target: BucketName = Field(
        description="the MinIO bucket it goes into, one of services.minio.buckets (one source each)"
    )


class BucketsImportConfig(Model):
    """S3-compatible buckets (Supabase Storage's S3 endpoint) copied into MinIO by one command
    on the server; the keys are the secret config keys importAccessKeyId and
    importSecretAccessKey."""

    endpoint: str = Field(
        pattern=r"^https://[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?(/[A-Za-z0-9._-]+)*$",
        description="the source's S3 endpoint (Supabase: Storage, S3 Connection: "
        "`https://<project>.supabase.co/storage/v1/s3`)",
    )
    region: str = Field(
        pattern=r"^[a-z0-9-]+$", description="its region (Supabase: the project's, eu-central-1)"
    )
    buckets: list[BucketImport] = Field(min_length=1, description="what goes where")
    rclone_image: PinnedImage = Field(RCLONE_IMAGE, description="the rclone image that copies")


class ImportsConfig(Model):
    postgres: PostgresImportConfig | None = Field(
        None,
        description="copy an external PostgreSQL (Supabase) into services.postgres by one "
        "command; its URL is the secret key importSourceUrl; {} to enable",
    )
    buckets: BucketsImportConfig | None = Field(
        None,
        description="copy S3 buckets (Supabase Storage) into services.minio by one command; "
        "its keys are the secret keys importAccessKeyId and importSecretAccessKey",
    )


class ImportsChecks:
    """The imports' checks against the services (a part of StackConfig)."""

    def _check_imports(self: StackConfig) -> None:
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
