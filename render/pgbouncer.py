"""pgbouncer.ini and its auth file for the platform's PgBouncer, in transaction pooling.

Authentication is scram-sha-256 from the same secret as PostgreSQL's role, so PgBouncer
never meets a password type it cannot use (the guide's "wrong password type" failure).
"""

from __future__ import annotations

import configparser
import io
from dataclasses import dataclass
from typing import Any

from config.services import PgBouncerConfig
from render.coolify_files import mounted_folder

CONFIG_DIR = "/etc/pgbouncer"
PGBOUNCER_BINARY = "/usr/bin/pgbouncer"  # in edoburu/pgbouncer's image
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


def pool_settings(pgbouncer: PgBouncerConfig) -> PoolSettings:
    return PoolSettings(
        max_client_conn=pgbouncer.max_client_conn,
        default_pool_size=pgbouncer.default_pool_size,
        min_pool_size=pgbouncer.min_pool_size,
        reserve_pool_size=pgbouncer.reserve_pool_size,
        reserve_pool_timeout=pgbouncer.reserve_pool_timeout,
        server_lifetime=pgbouncer.server_lifetime,
        server_idle_timeout=pgbouncer.server_idle_timeout,
        max_prepared_statements=pgbouncer.max_prepared_statements,
    )


def pgbouncer_ini(
    *,
    database: str,
    postgres_host: str,
    pool: PoolSettings,
    version: tuple[int, int],
    auth_file: str,
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
        # Startup parameters PgBouncer would refuse the connection for: drivers (JDBC,
        # node-postgres) send extra_float_digits, and postgres.js sends every query parameter
        # of its URL, Prisma's ?pgbouncer=true of `database.url` among them.
        "ignore_startup_parameters": "extra_float_digits,pgbouncer",
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
    *,
    image: str,
    database: str,
    postgres_host: str,
    pool: PoolSettings,
    version: tuple[int, int],
    user: str,
    password: str,
    memory_mb: int,
    publish_on: str | None = None,
) -> dict[str, Any]:
    """The Coolify service running PgBouncer with its ini and auth file. Apps on the same
    server reach it on Coolify's network; on a database server it is also published on
    `publish_on`, the server's private address (never on its public one).

    Each file sits in a folder named after its content (`mounted_folder`: Coolify would keep
    a file's first version at a fixed path), the ini naming the auth file's, and PgBouncer is
    started on the ini's path itself, not through the image's entrypoint script, which would
    write an ini of its own at /etc/pgbouncer when none is there."""
    auth_folder, auth_volumes = mounted_folder(
        "./pgbouncer", CONFIG_DIR, {"userlist.txt": userlist(user, password)}
    )
    ini = pgbouncer_ini(
        database=database, postgres_host=postgres_host, pool=pool, version=version,
        auth_file=f"{auth_folder}/userlist.txt",
    )  # fmt: skip
    ini_folder, ini_volumes = mounted_folder("./pgbouncer", CONFIG_DIR, {"pgbouncer.ini": ini})
    return {
        "services": {
            "pgbouncer": {
                "image": image,
                "restart": "unless-stopped",
                "mem_limit": f"{memory_mb}m",
                "entrypoint": [PGBOUNCER_BINARY],
                "command": [f"{ini_folder}/pgbouncer.ini"],
                "volumes": [*ini_volumes, *auth_volumes],
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
