"""Files the platform adds to Coolify's own configuration, built as data and dumped."""

from __future__ import annotations

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


def mounted_file(source: str, target: str, content: str) -> dict[str, Any]:
    """A read-only file in a Coolify service's container: Coolify writes a bind volume's
    `content` to `source` (relative to the service's folder) before it starts the service
    (its compose extension), so no file has to be copied to the server."""
    return {
        "type": "bind",
        "source": source,
        "target": target,
        "read_only": True,
        "content": content,
    }
