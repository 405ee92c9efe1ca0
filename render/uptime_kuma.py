"""Uptime Kuma as a Coolify service: its compose file, built as data."""

from __future__ import annotations

from typing import Any

PORT = 3001


def uptime_kuma_compose(*, image: str, memory_mb: int) -> dict[str, Any]:
    """Uptime Kuma with its SQLite database on a volume. No port is published: Coolify's
    proxy serves it at its hostname. The image brings its own health check."""
    return {
        "services": {
            "uptime-kuma": {
                "image": image,
                "restart": "unless-stopped",
                "mem_limit": f"{memory_mb}m",
                "volumes": ["uptime-kuma-data:/app/data"],
            }
        },
        "volumes": {"uptime-kuma-data": {}},
    }


def push_url(base_url: str, token: str) -> str:
    """Where a push monitor hears from its job (the job adds ?status=...&msg=...)."""
    return f"{base_url}/api/push/{token}"
