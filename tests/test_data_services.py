"""The data services' rendered configs, loaded by the real servers from Debian's packages on
loopback: PostgreSQL 15, PgBouncer, Redis 7. A client connects with the generated URLs."""

from __future__ import annotations

import json
import os
import string
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from offline.stack_files import PROJECT_DIR
from render.pgbouncer import PoolSettings, pgbouncer_ini, userlist
from render.postgres import postgres_settings, postgresql_conf
from render.redis import redis_conf, redis_password_conf
from render.urls import mysql_url, postgres_url, redis_url
from tests.servers import (
    Postgres,
    loopback_pgbouncer,
    redis_cli,
    running_postgres,
    running_redis,
)
from tests.support import npm_packages, run

# A password of the alphabet the platform generates for databases (URL-safe), with a
# character of each kind the URL encoding must get right anyway.
APP_PASSWORD = "Ab0-_.~kL9mN2pQ4rS6tU8vW1xY3zC5e"
POOL = PoolSettings(
    max_client_conn=200,
    default_pool_size=20,
    min_pool_size=5,
    reserve_pool_size=5,
    reserve_pool_timeout=3,
    server_lifetime=3600,
    server_idle_timeout=600,
    max_prepared_statements=100,
)


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    with running_postgres(postgresql_conf(postgres_settings(4096, 100))) as server:
        with server.connect() as connection:
            connection.execute(f"CREATE ROLE app LOGIN PASSWORD '{APP_PASSWORD}'")
            connection.execute("CREATE DATABASE app OWNER app")
        yield server


@pytest.fixture(scope="module")
def pgbouncer(postgres: Postgres) -> Iterator[int]:
    with loopback_pgbouncer(postgres, POOL, "app", APP_PASSWORD) as port:
        yield port


NODE_CLIENTS = PROJECT_DIR / "tests" / "clients"  # the apps' drivers, from npm


def libpq(url: str) -> str:
    """What Prisma hands the driver: the URL without its own `pgbouncer` flag."""
    return url.removesuffix("?pgbouncer=true")


# --- PostgreSQL ---------------------------------------------------------------------------------


def test_postgres_runs_with_the_guides_values_for_a_4_gb_share(postgres: Postgres) -> None:
    with postgres.connect() as connection:
        show = {
            name: connection.execute(f"SHOW {name}").fetchone()[0]
            for name in (  # type: ignore[index]
                "shared_buffers",
                "effective_cache_size",
                "work_mem",
                "maintenance_work_mem",
                "max_connections",
                "wal_buffers",
                "password_encryption",
            )
        }
    assert show == {
        "shared_buffers": "1GB",
        "effective_cache_size": "3GB",
        "work_mem": "32MB",
        "maintenance_work_mem": "256MB",
        "max_connections": "100",
        "wal_buffers": "32MB",
        "password_encryption": "scram-sha-256",
    }


@pytest.mark.parametrize(
    ("memory_mb", "expected"),
    [
        (512, ("128MB", "384MB", "4MB", "32MB", "4MB")),
        (1024, ("256MB", "768MB", "8MB", "64MB", "8MB")),
        (8192, ("2048MB", "6144MB", "64MB", "512MB", "64MB")),
    ],
)
def test_tuning_scales_with_the_memory_share(memory_mb: int, expected: tuple[str, ...]) -> None:
    settings = postgres_settings(memory_mb, 100)
    names = (
        "shared_buffers",
        "effective_cache_size",
        "work_mem",
        "maintenance_work_mem",
        "wal_buffers",
    )
    assert tuple(settings[name] for name in names) == expected


def test_the_role_password_is_stored_as_scram(postgres: Postgres) -> None:
    with postgres.connect() as connection:
        (stored,) = connection.execute(
            "SELECT rolpassword FROM pg_authid WHERE rolname = 'app'"
        ).fetchone()  # type: ignore[misc]
    assert stored.startswith("SCRAM-SHA-256$")


def test_direct_url_reaches_postgres(postgres: Postgres) -> None:
    url = postgres_url(
        user="app", password=APP_PASSWORD, host="127.0.0.1", port=postgres.port, database="app"
    )
    with psycopg.connect(url) as connection:
        assert connection.execute("SELECT current_user").fetchone() == ("app",)
        assert connection.info.port == postgres.port


# --- PgBouncer ----------------------------------------------------------------------------------


def test_pooled_url_reaches_postgres_through_pgbouncer(pgbouncer: int) -> None:
    url = postgres_url(
        user="app",
        password=APP_PASSWORD,
        host="127.0.0.1",
        port=pgbouncer,
        database="app",
        pgbouncer=True,
    )
    assert url.endswith("?pgbouncer=true")
    with psycopg.connect(libpq(url)) as connection:
        assert connection.execute("SELECT current_user, current_database()").fetchone() == (
            "app",
            "app",
        )
        assert connection.info.port == pgbouncer


def test_a_wrong_password_is_refused_by_pgbouncer(pgbouncer: int) -> None:
    with pytest.raises(psycopg.OperationalError, match="SASL authentication failed"):
        psycopg.connect(
            host="127.0.0.1", port=pgbouncer, user="app", password="wrong", dbname="app"
        )


SERVER_CONNECTIONS = (
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE usename = 'app' AND backend_type = 'client backend'"
)


def test_150_clients_share_the_pool(postgres: Postgres, pgbouncer: int) -> None:
    """Transaction pooling: 150 concurrent clients are served, and PostgreSQL sees no more
    server connections than the pool allows (default + reserve)."""
    url = libpq(
        postgres_url(
            user="app", password=APP_PASSWORD, host="127.0.0.1", port=pgbouncer, database="app"
        )
    )
    peak, errors, done = [0], [], threading.Event()

    def watch() -> None:
        with postgres.connect() as connection:
            while not done.is_set():
                (count,) = connection.execute(SERVER_CONNECTIONS).fetchone()  # type: ignore[misc]
                peak[0] = max(peak[0], count)
                time.sleep(0.02)

    def client() -> None:
        try:
            with psycopg.connect(url, autocommit=True) as connection:
                for _ in range(3):
                    connection.execute("SELECT pg_sleep(0.05)")
        except psycopg.Error as error:
            errors.append(str(error))

    watcher = threading.Thread(target=watch)
    watcher.start()
    clients = [threading.Thread(target=client) for _ in range(150)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join(timeout=120)
    done.set()
    watcher.join()
    assert errors == []
    assert 0 < peak[0] <= POOL.default_pool_size + POOL.reserve_pool_size


def test_pgbouncer_ini_is_rendered_for_its_version() -> None:
    common = {"database": "app", "postgres_host": "postgres", "pool": POOL,
              "auth_file": "/etc/pgbouncer/userlist.txt"}  # fmt: skip
    old = pgbouncer_ini(**common, version=(1, 18))  # type: ignore[arg-type]
    new = pgbouncer_ini(**common, version=(1, 24))  # type: ignore[arg-type]
    assert "max_prepared_statements" not in old  # 1.18 refuses to start with it
    assert "max_prepared_statements = 100" in new
    assert "pool_mode = transaction" in new
    assert "auth_type = scram-sha-256" in new


def test_userlist_quotes_the_password() -> None:
    assert userlist("app", 'pa"ss') == '"app" "pa""ss"\n'


# --- Redis ---------------------------------------------------------------------------------------

REDIS_PASSWORD = "RedisPassword-0123456789_abcdefg"


@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    folder = tmp_path_factory.mktemp("redis")
    config = redis_conf(maxmemory_mb=512, password_file=str(folder / "password.conf"))
    with running_redis(folder, config, redis_password_conf(REDIS_PASSWORD)) as port:
        yield port


def test_redis_runs_with_the_configured_memory_policy_and_persistence(redis: int) -> None:
    def config(name: str) -> str:
        return redis_cli(redis, REDIS_PASSWORD, "CONFIG", "GET", name).stdout.split()[1]

    assert config("maxmemory") == str(512 * 1024 * 1024)
    assert config("maxmemory-policy") == "noeviction"  # a queue's jobs are never dropped
    assert config("appendonly") == "yes"
    assert config("appendfsync") == "everysec"
    assert redis_cli(redis, REDIS_PASSWORD, "CONFIG", "GET", "save").stdout.split()[1:] == [
        "900",
        "1",
    ]


def fill_queue(port: int, attempts: int) -> dict[str, Any]:
    """BullMQ from npm (tests/clients) adding 64 KB jobs until Redis refuses one."""
    npm_packages(NODE_CLIENTS)
    result = run(
        ["node", str(NODE_CLIENTS / "fill-queue.js"), str(port), str(attempts)],
        env={**os.environ, "REDIS_PASSWORD": REDIS_PASSWORD}, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("policy", "kept"), [("noeviction", True), ("allkeys-lru", False)], ids=["queue", "cache"]
)
def test_at_maxmemory_bullmq_loses_no_job_unless_redis_is_a_cache(
    tmp_path: Path, policy: str, kept: bool
) -> None:
    """The default keeps every job and fails the add that does not fit, which the producer
    sees; a cache's policy makes BullMQ warn and then drops queued jobs without a word."""
    config = redis_conf(
        maxmemory_mb=16, eviction_policy=policy, snapshot_minutes=None,
        password_file=str(tmp_path / "password.conf"),
    )  # fmt: skip
    with running_redis(tmp_path, config, redis_password_conf(REDIS_PASSWORD)) as port:
        outcome = fill_queue(port, attempts=600)  # 600 x 64 KB: well past 16 MB
    warned = [w for w in outcome["warnings"] if "Eviction policy" in w]
    if kept:
        assert warned == []
        assert "OOM command not allowed when used memory > 'maxmemory'" in outcome["error"]
        assert outcome["readable"] == outcome["added"] > 0  # every job that was added waits
    else:
        assert warned == [f'IMPORTANT! Eviction policy is {policy}. It should be "noeviction"']
        assert outcome["error"] is None  # every add "succeeded"...
        assert outcome["readable"] < outcome["added"]  # ...and jobs are gone


def test_redis_snapshots_can_be_turned_off(tmp_path: Path) -> None:
    password_file = str(tmp_path / "password.conf")
    config = redis_conf(maxmemory_mb=64, snapshot_minutes=None, password_file=password_file)
    with running_redis(tmp_path, config, redis_password_conf(REDIS_PASSWORD)) as port:
        saved = redis_cli(port, REDIS_PASSWORD, "CONFIG", "GET", "save").stdout.split()
    assert saved == ["save"]  # no save points


def test_redis_refuses_a_wrong_password(redis: int) -> None:
    refused = redis_cli(redis, "wrong-password", "PING")
    assert "WRONGPASS" in refused.stderr  # the AUTH fails...
    assert "NOAUTH" in refused.stdout  # ...and the command is not run
    assert "NOAUTH" in redis_cli(redis, None, "GET", "x").stdout
    assert redis_cli(redis, REDIS_PASSWORD, "PING").stdout.strip() == "PONG"


def test_redis_url_carries_the_password(redis: int) -> None:
    parts = urlsplit(redis_url(password=REDIS_PASSWORD, host="127.0.0.1", port=redis))
    assert (parts.username, unquote(parts.password or ""), parts.port) == (
        "default",
        REDIS_PASSWORD,
        redis,
    )


# --- URLs ----------------------------------------------------------------------------------------


@given(
    st.text(
        alphabet=string.ascii_letters + string.digits + "-_.~!@#$%&*()+=[]{}<>:?/ \"'\\|",
        min_size=1,
        max_size=64,
    )
)
def test_any_password_round_trips_through_a_url_parser(password: str) -> None:
    for url in (
        postgres_url(user="app", password=password, host="db", port=5432, database="app"),
        mysql_url(user="app", password=password, host="db", port=3306, database="app"),
        redis_url(password=password, host="cache"),
    ):
        parts = urlsplit(url)
        assert unquote(parts.password or "") == password
        assert parts.hostname in {"db", "cache"}


@given(st.text(alphabet=string.ascii_letters + string.digits + "-_.~", min_size=8, max_size=64))
def test_libpq_reads_the_generated_password_back(password: str) -> None:
    url = postgres_url(user="app", password=password, host="db", port=5432, database="app")
    assert psycopg.conninfo.conninfo_to_dict(url)["password"] == password


def node_query(url: str, *args: str) -> dict[str, Any]:
    """A query by a Node.js driver from npm (tests/clients/query.js), the URL in its
    environment."""
    npm_packages(NODE_CLIENTS)
    result = run(["node", str(NODE_CLIENTS / "query.js"), *args],
                 env={**os.environ, "DATABASE_URL": url}, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def psycopg_query(url: str) -> dict[str, Any]:
    try:
        with psycopg.connect(url, connect_timeout=10) as connection:
            row = connection.execute("select current_user, %s::int + 2", (2,)).fetchone()
    except psycopg.Error as error:
        return {"error": str(error)}
    return {"ok": list(row)}  # type: ignore[arg-type]


# Debian's PgBouncer (1.18) has no prepared statements in transaction mode, so postgres.js runs
# with `prepare: false` here; the deployed image (1.24, max_prepared_statements) is not covered.
DRIVERS = {
    "postgres.js": lambda url: node_query(url, "postgres", "--no-prepare"),
    "node-postgres": lambda url: node_query(url, "pg"),
    "psycopg": psycopg_query,
}


@pytest.mark.parametrize(
    ("driver", "ref"),
    [("postgres.js", "database.url"), ("node-postgres", "database.url"),
     ("psycopg", "database.pooledUrl")],
)  # fmt: skip
def test_each_driver_reaches_postgres_through_pgbouncer_with_its_url(
    pgbouncer: int, driver: str, ref: str
) -> None:
    """`database.url` carries Prisma's ?pgbouncer=true: postgres.js sends it to PgBouncer as a
    startup parameter (which PgBouncer must ignore), node-postgres drops it; libpq refuses an
    unknown URI parameter, so psycopg takes `database.pooledUrl`, the same without it."""
    url = postgres_url(user="app", password=APP_PASSWORD, host="127.0.0.1", port=pgbouncer,
                       database="app", pgbouncer=ref == "database.url")  # fmt: skip
    assert DRIVERS[driver](url) == {"ok": ["app", 4]}


def test_libpq_refuses_prismas_flag_so_psycopg_needs_the_plain_pooled_url(pgbouncer: int) -> None:
    flagged = postgres_url(user="app", password=APP_PASSWORD, host="127.0.0.1", port=pgbouncer,
                           database="app", pgbouncer=True)  # fmt: skip
    assert 'invalid URI query parameter: "pgbouncer"' in psycopg_query(flagged)["error"]


def test_direct_and_pooled_urls_differ_only_in_host_port_and_flag(tmp_path: Path) -> None:
    direct = postgres_url(user="app", password="p", host="postgres", port=5432, database="app")
    pooled = postgres_url(
        user="app", password="p", host="pgbouncer", port=6432, database="app", pgbouncer=True
    )
    assert direct == "postgresql://app:p@postgres:5432/app"
    assert pooled == "postgresql://app:p@pgbouncer:6432/app?pgbouncer=true"
