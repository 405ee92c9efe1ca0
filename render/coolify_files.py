"""Files the platform adds to Coolify's own configuration, built as data and dumped."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import yaml

from render.yaml_text import Override, Reset

COOLIFY_DIR = "/data/coolify"
# Coolify mounts /data/coolify/proxy into its Traefik container at /traefik and has Traefik
# watch /traefik/dynamic for file configuration (bootstrap/helpers/proxy.php, 4.3.10).
PROXY_MOUNT = "/traefik"


def compose_override() -> dict[str, Any]:
    """docker-compose.custom.yml for Coolify's own stack: the dashboard and API listen on the
    server's loopback only (reached through an SSH tunnel, or through Traefik at the dashboard
    hostname); the realtime ports are not published at all (Traefik routes them too)."""
    return {
        "services": {
            "coolify": {"ports": Override(["127.0.0.1:8000:8080"])},
            "soketi": {"ports": Reset()},
        }
    }


def origin_certificate_config() -> str:
    """Traefik file configuration that adds the origin certificate to its store; Traefik
    serves it for the hostnames it covers."""
    certificate = {"certFile": f"{PROXY_MOUNT}/certs/origin.crt",
                   "keyFile": f"{PROXY_MOUNT}/certs/origin.key"}  # fmt: skip
    return yaml.safe_dump({"tls": {"certificates": [certificate]}}, sort_keys=False)


def mounted_folder(
    source_dir: str, target_dir: str, files: Mapping[str, str]
) -> tuple[str, list[dict[str, Any]]]:
    """Read-only files in a Coolify service's container, in a folder named after their content:
    (the folder in the container, the compose volumes).

    Coolify writes a bind volume's `content` to the service's folder on the server only when
    it first meets the volume's mount path; from then on it keeps what it stored and ignores
    a new `content` (bootstrap/helpers/parsers.php:2187-2190, :2216-2230; the file is written
    on `created` only, app/Models/LocalFileVolume.php:54-61, at v4.3.10). So a file keeps
    its first version forever at a fixed path. Named after the digest of the files, the folder
    is a new mount path whenever one of them changes, and the next start of the service sees
    the new files; the program in the container is pointed at the folder."""
    digest = hashlib.sha256(json.dumps(sorted(files.items())).encode()).hexdigest()[:12]
    folder = f"{target_dir}/{digest}"
    volumes = [
        {
            "type": "bind",
            "source": f"{source_dir}/{digest}/{name}",
            "target": f"{folder}/{name}",
            "read_only": True,
            "content": content,
        }
        for name, content in sorted(files.items())
    ]
    return folder, volumes
