"""redis.conf for the platform's Redis 7: a password, AOF every second and an RDB snapshot
every 15 minutes (the master plan's), a memory cap and what happens at it. The password comes
from a file Redis includes, never from the command line."""

from __future__ import annotations


def redis_conf(
    *,
    maxmemory_mb: int,
    eviction_policy: str = "noeviction",
    snapshot_minutes: int | None = 15,
    password_file: str | None = None,
) -> str:
    """`eviction_policy`: noeviction unless the Redis is a pure cache. A queue keeps its jobs
    as keys (BullMQ warns about any other policy): evicting them loses jobs without a trace,
    while at maxmemory noeviction makes the write fail, which the producer sees."""
    lines = [
        "# Managed by the platform (Pulumi): Redis settings.",
        "appendonly yes",
        "appendfsync everysec",
        # The snapshot is a second copy in the volume, quick to copy elsewhere or load.
        f"save {snapshot_minutes * 60} 1" if snapshot_minutes else 'save ""',
        f"maxmemory {maxmemory_mb}mb",
        f"maxmemory-policy {eviction_policy}",
        "protected-mode yes",
    ]
    if password_file is not None:
        lines.append(f"include {password_file}")
    return "\n".join(lines) + "\n"


def redis_password_conf(password: str) -> str:
    """The included file with the password (quoted, as redis.conf reads it)."""
    escaped = password.replace("\\", "\\\\").replace('"', '\\"')
    return f'requirepass "{escaped}"\n'
