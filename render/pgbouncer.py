"""pgbouncer.ini and its auth file for the platform's PgBouncer, in transaction pooling.

Authentication is scram-sha-256 from the same secret as PostgreSQL's role, so PgBouncer
never meets a password type it cannot use (the guide's "wrong password type" failure).
"""

from __future__ import annotations

import configparser
import io
from dataclasses import dataclass
from typing import Any

from render.coolify_files import mounted_file

AUTH_FILE = "/etc/pgbouncer/userlist.txt"
PORT = 6432
# Prepared statements in transaction mode arrived in PgBouncer 1.21.
PREPARED_STATEMENTS_SINCE = (1, 21)


@dataclass(frozen=True)
class PoolSettings:
    max_client_conn: int
    default_pool_size: int
    min_pool_size: int
    reserve_pool_size: int
    reserve_pool_timeout: int
    server_lifetime: int
    server_idle_timeout: int
    max_prepared_statements: int


def pgbouncer_ini(
    *,
    database: str,
    postgres_host: str,
    pool: PoolSettings,
    version: tuple[int, int],
    auth_file: str = AUTH_FILE,
    listen_port: int = PORT,
    postgres_port: int = 5432,
) -> str:
    """The ini for PgBouncer `version` (settings newer than it are left out)."""
    ini = configparser.ConfigParser(interpolation=None)
    ini["databases"] = {database: f"host={postgres_host} port={postgres_port} dbname={database}"}
    settings = {
        "listen_addr": "*",
        "listen_port": str(listen_port),
        "auth_type": "scram-sha-256",
        "auth_file": auth_file,
        "pool_mode": "transaction",
        "max_client_conn": str(pool.max_client_conn),
        "default_pool_size": str(pool.default_pool_size),
        "min_pool_size": str(pool.min_pool_size),
        "reserve_pool_size": str(pool.reserve_pool_size),
        "reserve_pool_timeout": str(pool.reserve_pool_timeout),
        "server_lifetime": str(pool.server_lifetime),
        "server_idle_timeout": str(pool.server_idle_timeout),
        # Drivers (JDBC, node-postgres) send it at startup; PgBouncer would refuse them.
        "ignore_startup_parameters": "extra_float_digits",
    }
    if version >= PREPARED_STATEMENTS_SINCE:
        settings["max_prepared_statements"] = str(pool.max_prepared_statements)
    ini["pgbouncer"] = settings
    text = io.StringIO()
    text.write("; Managed by the platform (Pulumi): PgBouncer in transaction pooling.\n")
    ini.write(text)
    return text.getvalue().rstrip("\n") + "\n"


def userlist(user: str, password: str) -> str:
    """The auth file: one line, both values quoted, a quote inside doubled."""

    def quoted(value: str) -> str:
        return '"' + value.replace('"', '""') + '"'

    return f"{quoted(user)} {quoted(password)}\n"


def pgbouncer_compose(
    *, image: str, ini: str, auth: str, memory_mb: int, publish_on: str | None = None
) -> dict[str, Any]:
    """The Coolify service running PgBouncer with these files. Apps on the same server reach
    it on Coolify's network; on a database server it is also published on `publish_on`, the
    server's private address (never on its public one)."""
    mounted = [
        ("pgbouncer.ini", "/etc/pgbouncer/pgbouncer.ini", ini),
        ("userlist.txt", AUTH_FILE, auth),
    ]
    return {
        "services": {
            "pgbouncer": {
                "image": image,
                "restart": "unless-stopped",
                "mem_limit": f"{memory_mb}m",
                "volumes": [
                    mounted_file(f"./pgbouncer/{name}", target, content)
                    for name, target, content in mounted
                ],
                **({"ports": [f"{publish_on}:{PORT}:{PORT}"]} if publish_on else {}),
                "healthcheck": {
                    "test": ["CMD-SHELL", f"nc -z 127.0.0.1 {PORT}"],
                    "interval": "10s",
                    "timeout": "5s",
                    "retries": 3,
                },
            }
        }
    }
