"""The imports on the server: an external PostgreSQL (Supabase) copied into the platform's, and
S3 buckets (Supabase Storage) copied into MinIO, each started by hand with one command
(`systemctl start platform-import-postgres`, docs/operations.md, "Bringing data in").

Each kind is a oneshot service without a timer, run by a script of render/scripts/ whose tools
run in pinned containers (container-tool.sh, as the backup jobs' do): pg_dump, pg_restore and
psql from the import's client image, rclone from its image, on Coolify's network where the
platform's PostgreSQL and MinIO answer. Settings go into the units, secrets into root-only
environment files, as for the backup jobs (render/backups.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from config.imports import BucketsImportConfig, PostgresImportConfig
from render.backups import (
    TOOLS,
    Database,
    Minio,
    bundle,
    environment_file,
    environment_settings,
    oneshot_service,
)
from render.remote import SCRIPTS

ImportKind = Literal["postgres", "buckets"]
UNITS_DIR = "/etc/systemd/system"


@dataclass(frozen=True)
class Layout:
    """Where one kind of import lives on the server: its own folders and units, so that
    dropping one from the config removes it alone."""

    kind: ImportKind

    @property
    def unit_prefix(self) -> str:
        return f"platform-import-{self.kind}"

    @property
    def scripts_dir(self) -> str:
        return f"/opt/{self.unit_prefix}"

    @property
    def tools_dir(self) -> str:
        return f"{self.scripts_dir}/bin"

    @property
    def secrets_dir(self) -> str:
        return f"/etc/{self.unit_prefix}"

    @property
    def source_env(self) -> str:
        return f"{self.secrets_dir}/source.env"

    @property
    def target_env(self) -> str:
        return f"{self.secrets_dir}/target.env"


def _service(layout: Layout, description: str, script: str, settings: dict[str, str]) -> str:
    """An import's service: settings in Environment=, the source's and the target's secrets
    in their files."""
    environment = {
        "PATH": f"{layout.tools_dir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "TMPDIR": f"/var/lib/{layout.unit_prefix}",
        "DOCKER_NETWORK": "coolify",
        **settings,
    }
    return oneshot_service(
        description,
        [
            *environment_settings(environment),
            ("EnvironmentFile", layout.source_env),
            ("EnvironmentFile", layout.target_env),
        ],
        exec_start=f"{layout.scripts_dir}/{script}",
        state_dir=layout.unit_prefix,
        tuning=[],
        # A large database or bucket takes its time; started by hand, not waited on by
        # anything else.
        timeout="12h",
    )


def _scripts(layout: Layout, script: str) -> dict[str, str]:
    return {
        f"{layout.scripts_dir}/{script}": (SCRIPTS / script).read_text(),
        f"{layout.tools_dir}/container-tool": (SCRIPTS / "container-tool.sh").read_text(),
    }


def _links(layout: Layout) -> dict[str, str]:
    return {f"{layout.tools_dir}/{tool}": "container-tool" for tool in TOOLS}


POSTGRES = Layout("postgres")
BUCKETS = Layout("buckets")


def postgres_import_files(
    config: PostgresImportConfig, target: Database, client_image: str
) -> dict[str, str]:
    """The PostgreSQL import's script and its two services: `platform-import-postgres` into
    an empty database, `platform-import-postgres-replace` over what the database holds."""
    settings = {
        "PG_CLIENT_IMAGE": client_image,
        "PGHOST": target.host,
        "PGPORT": str(target.port),
        "PGUSER": target.user,
        "PGDATABASE": target.name,
        # Comma lists of identifiers (checked by the config); empty: none.
        "IMPORT_SCHEMAS": ",".join(config.schemas) or "-",
        "SKIP_SCHEMAS": ",".join(config.skip_schemas) or "-",
    }
    files = _scripts(POSTGRES, "pg-import.sh")
    for suffix, replace, description in (
        ("", "no", "Import the external PostgreSQL into an empty platform database"),
        ("-replace", "yes", "Import the external PostgreSQL, replacing what the database holds"),
    ):
        files[f"{UNITS_DIR}/{POSTGRES.unit_prefix}{suffix}.service"] = _service(
            POSTGRES, description, "pg-import.sh", {**settings, "IMPORT_REPLACE": replace}
        )
    return files


def postgres_import_bundle(
    config: PostgresImportConfig, target: Database, client_image: str
) -> str:
    """`client_image`: pg_dump's and pg_restore's, the target's own unless the config says."""
    return bundle(postgres_import_files(config, target, client_image), _links(POSTGRES))


def postgres_import_secrets(source: dict[str, str], target_password: str) -> str:
    """The PostgreSQL import's secret files (for its install step's stdin): the source's
    connection (its URL's parts: host, port, user, password, database, sslmode) and the
    target's password."""
    files = {
        "source.env": environment_file(
            {f"SOURCE_PG{key.upper()}": value for key, value in source.items()}
        ),
        "target.env": environment_file({"PGPASSWORD": target_password}),
    }
    return bundle(files)


def buckets_import_files(config: BucketsImportConfig, minio: Minio) -> dict[str, str]:
    """The buckets import's script and its service, `platform-import-buckets`."""
    settings = {
        "RCLONE_IMAGE": config.rclone_image,
        "IMPORT_BUCKETS": ",".join(f"{b.source}:{b.target}" for b in config.buckets),
        # rclone's two remotes, "source" and "minio", their keys in the secret files.
        "RCLONE_CONFIG_SOURCE_TYPE": "s3",
        "RCLONE_CONFIG_SOURCE_PROVIDER": "Other",
        "RCLONE_CONFIG_SOURCE_ENDPOINT": config.endpoint,
        "RCLONE_CONFIG_SOURCE_REGION": config.region,
        # Supabase's S3 endpoint serves paths, not bucket host names.
        "RCLONE_CONFIG_SOURCE_FORCE_PATH_STYLE": "true",
        "RCLONE_CONFIG_MINIO_TYPE": "s3",
        "RCLONE_CONFIG_MINIO_PROVIDER": "Minio",
        "RCLONE_CONFIG_MINIO_ENDPOINT": f"http://{minio.host}:{minio.port}",
        # The stack creates the buckets; never try to (the root key could, a typo would).
        "RCLONE_CONFIG_MINIO_NO_CHECK_BUCKET": "true",
    }
    return {
        **_scripts(BUCKETS, "buckets-import.sh"),
        f"{UNITS_DIR}/{BUCKETS.unit_prefix}.service": _service(
            BUCKETS,
            "Import the S3 buckets of imports.buckets into MinIO",
            "buckets-import.sh",
            settings,
        ),
    }


def buckets_import_bundle(config: BucketsImportConfig, minio: Minio) -> str:
    return bundle(buckets_import_files(config, minio), _links(BUCKETS))


def buckets_import_secrets(
    access_key_id: str, secret_access_key: str, minio_key: dict[str, str]
) -> str:
    """The buckets import's secret files: the source's key and MinIO's root key."""
    files = {
        "source.env": environment_file(
            {
                "RCLONE_CONFIG_SOURCE_ACCESS_KEY_ID": access_key_id,
                "RCLONE_CONFIG_SOURCE_SECRET_ACCESS_KEY": secret_access_key,
            }
        ),
        "target.env": environment_file(
            {
                "RCLONE_CONFIG_MINIO_ACCESS_KEY_ID": minio_key["accessKey"],
                "RCLONE_CONFIG_MINIO_SECRET_ACCESS_KEY": minio_key["secretKey"],
            }
        ),
    }
    return bundle(files)
