"""postgresql.conf for the platform's PostgreSQL, tuned from the memory it is given.

The rules reproduce the Tour CRM guide's values for a 4 GB share (shared_buffers 1 GB,
effective_cache_size 3 GB, work_mem 32 MB, maintenance_work_mem 256 MB, wal_buffers 32 MB,
max_connections 100) and scale with the share. Coolify starts PostgreSQL with this file as its
whole config file, so it also sets what the image's default file would have set.
"""

from __future__ import annotations


def postgres_settings(memory_mb: int, max_connections: int) -> dict[str, str]:
    shared_buffers = memory_mb // 4
    return {
        "listen_addresses": "*",  # inside the container; the port is never published
        "max_connections": str(max_connections),
        "shared_buffers": f"{shared_buffers}MB",
        "effective_cache_size": f"{memory_mb * 3 // 4}MB",
        "work_mem": f"{max(4, memory_mb // 128)}MB",
        "maintenance_work_mem": f"{min(2048, memory_mb // 16)}MB",
        "wal_buffers": f"{min(64, max(1, shared_buffers // 32))}MB",
        # PgBouncer authenticates with SCRAM too: one kind of secret everywhere.
        "password_encryption": "scram-sha-256",
        "log_timezone": "UTC",
        "timezone": "UTC",
    }


def postgresql_conf(settings: dict[str, str]) -> str:
    lines = ["# Managed by the platform (Pulumi): PostgreSQL settings."]
    lines += [f"{key} = '{value}'" for key, value in settings.items()]
    return "\n".join(lines) + "\n"
