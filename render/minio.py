"""MinIO as a Coolify service: the server, and a one-shot container that creates the buckets
and one user per app, limited to its buckets by an IAM policy. Policies are built as data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from render.coolify_files import mounted_folder
from render.remote import script_file

S3_PORT = 9000
CONSOLE_PORT = 9001
SETUP_DIR = "/setup"


def public_read_policy(bucket: str) -> dict[str, Any]:
    """Anyone may download the bucket's objects; nobody anonymous may list or write."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicRead",
                "Effect": "Allow",
                "Principal": {"AWS": ["*"]},
                "Action": ["s3:GetObject"],
                "Resource": [f"arn:aws:s3:::{bucket}/*"],
            }
        ],
    }


def app_policy(buckets: list[str]) -> dict[str, Any]:
    """What an app's key may do: read and write objects in its buckets, and nothing else."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ItsBuckets",
                "Effect": "Allow",
                "Action": [
                    "s3:GetBucketLocation",
                    "s3:ListBucket",
                    "s3:ListBucketMultipartUploads",
                ],
                "Resource": [f"arn:aws:s3:::{bucket}" for bucket in buckets],
            },
            {
                "Sid": "ObjectsInItsBuckets",
                "Effect": "Allow",
                "Action": [
                    "s3:GetObject",
                    "s3:PutObject",
                    "s3:DeleteObject",
                    "s3:AbortMultipartUpload",
                    "s3:ListMultipartUploadParts",
                ],
                "Resource": [f"arn:aws:s3:::{bucket}/*" for bucket in buckets],
            },
        ],
    }


@dataclass(frozen=True)
class AppKey:
    app: str
    access_key: str
    secret_key: str
    buckets: list[str]


DATA_VOLUME = "minio-data"  # its Docker volume when it has no Hetzner Volume


def minio_compose(
    *,
    image: str,
    root_user: str,
    root_password: str,
    public_url: str,
    console_url: str | None,
    buckets: list[tuple[str, str]],
    app_keys: list[AppKey],
    memory_mb: int,
    publish_on: str | None = None,
    data_dir: str | None = None,
) -> dict[str, Any]:
    """`buckets` are (name, access). Credentials are generated letters and digits, so they
    sit in the setup's lists and mc's alias URL without escaping. With other servers in the
    stack the S3 API is also published on `publish_on`, the server's private address (never
    on its public one). `data_dir`: the host folder of its data (on a Hetzner Volume), else a
    Docker volume."""
    environment = {
        "MINIO_ROOT_USER": root_user,
        "MINIO_ROOT_PASSWORD": root_password,
        # Presigned URLs and redirects use the public hostname, not the container's.
        "MINIO_SERVER_URL": public_url,
    }
    if console_url is not None:
        environment["MINIO_BROWSER_REDIRECT_URL"] = console_url
    files = {"minio-setup.sh": script_file("minio-setup")}
    files |= {
        f"bucket-{name}.json": json.dumps(public_read_policy(name), indent=2)
        for name, access in buckets
        if access == "public-read"
    }
    files |= {
        f"app-{key.app}.json": json.dumps(app_policy(key.buckets), indent=2) for key in app_keys
    }
    # A folder named after its files (mounted_folder): a changed grant reaches the setup.
    setup_folder, setup_volumes = mounted_folder("./setup", SETUP_DIR, files)
    return {
        "services": {
            "minio": {
                "image": image,
                "restart": "unless-stopped",
                "command": ["server", "/data", "--console-address", f":{CONSOLE_PORT}"],
                "environment": environment,
                "volumes": [f"{data_dir or DATA_VOLUME}:/data"],
                **({"ports": [f"{publish_on}:{S3_PORT}:{S3_PORT}"]} if publish_on else {}),
                "mem_limit": f"{memory_mb}m",
                "healthcheck": {
                    "test": ["CMD", "mc", "ready", "local"],
                    "interval": "10s",
                    "timeout": "5s",
                    "retries": 5,
                },
            },
            "minio-setup": {
                "image": image,
                "restart": "no",
                "depends_on": {"minio": {"condition": "service_healthy"}},
                "entrypoint": ["/bin/sh", f"{setup_folder}/minio-setup.sh"],
                "environment": {
                    "SETUP_DIR": setup_folder,
                    "MC_HOST_platform": f"http://{root_user}:{root_password}@minio:{S3_PORT}",
                    "BUCKETS": " ".join(f"{name}:{access}" for name, access in buckets),
                    "APPS": " ".join(f"{k.app}:{k.access_key}:{k.secret_key}" for k in app_keys),
                },
                "volumes": setup_volumes,
            },
        },
        **({} if data_dir else {"volumes": {DATA_VOLUME: {}}}),
    }
