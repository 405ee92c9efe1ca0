"""Production declares PostgreSQL, PgBouncer and Redis as Coolify resources, with generated
secrets wired into the connection URLs, all secret."""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from offline.engine import RecordedResource, Recording, find_leaks, is_secret, reveal
from render.pgbouncer import PoolSettings, pgbouncer_compose
from tests.support import evaluate_ok, evaluate_stack, tour_crm_config, with_value

POOL = PoolSettings(
    max_client_conn=100, default_pool_size=20, min_pool_size=5, reserve_pool_size=5,
    reserve_pool_timeout=3, server_lifetime=3600, server_idle_timeout=600,
    max_prepared_statements=100,
)  # fmt: skip


@cache
def production() -> Recording:
    return evaluate_stack("production")


def named(name: str, recording: Recording | None = None) -> RecordedResource:
    return (recording or production()).named(name)


def password_of(name: str) -> str:
    return str(reveal(named(f"data-{name}-password").outputs["result"]))


def test_postgres_is_a_tuned_private_protected_coolify_database() -> None:
    postgres = named("data-postgres").inputs
    assert postgres["engine"] == "postgresql"
    assert postgres["image"] == "postgres:16.4-alpine"
    assert postgres["limits_memory"] == "4096m"
    assert "shared_buffers = '1024MB'" in postgres["conf"]
    assert "is_public" not in postgres
    assert postgres["delete_volumes"] is False
    assert is_secret(postgres["credentials"])
    assert reveal(postgres["credentials"]) == {
        "postgres_user": "tour_crm", "postgres_db": "tour_crm",
        "postgres_password": password_of("postgres"),
    }  # fmt: skip
    assert named("data-postgres").protect is True


def test_resources_are_placed_in_the_stacks_coolify_project() -> None:
    expected = {
        "server_uuid": named("coolify-project-server").id,
        "project_uuid": named("coolify-project-project").id,
        "environment_uuid": named("coolify-project-environment").id,
    }
    for name in ("data-postgres", "data-pgbouncer", "data-redis"):
        assert {key: named(name).inputs[key] for key in expected} == expected


def compose() -> dict[str, Any]:
    service = named("data-pgbouncer").inputs
    assert is_secret(service["compose"])
    return yaml.safe_load(reveal(service["compose"]))  # type: ignore[no-any-return]


def mounted(name: str) -> str:
    (volume,) = [
        v for v in compose()["services"]["pgbouncer"]["volumes"] if v["source"].endswith(name)
    ]
    return str(volume["content"])


def test_pgbouncer_pools_to_postgres_by_its_coolify_hostname() -> None:
    pgbouncer = compose()["services"]["pgbouncer"]
    assert pgbouncer["image"] == "edoburu/pgbouncer:v1.24.1-p1"
    assert "ports" not in pgbouncer  # on Coolify's network only
    assert pgbouncer["mem_limit"] == "64m"
    ini = mounted("pgbouncer.ini")
    assert f"tour_crm = host={named('data-postgres').id} port=5432 dbname=tour_crm" in ini
    for line in ("pool_mode = transaction", "auth_type = scram-sha-256", "max_client_conn = 100",
                 "default_pool_size = 20", "min_pool_size = 5", "reserve_pool_size = 5",
                 "reserve_pool_timeout = 3", "max_prepared_statements = 100"):  # fmt: skip
        assert line in ini


def test_pgbouncer_starts_on_its_mounted_ini_which_names_its_mounted_auth_file() -> None:
    pgbouncer = compose()["services"]["pgbouncer"]
    targets = {PurePosixPath(v["target"]).name: v["target"] for v in pgbouncer["volumes"]}
    assert pgbouncer["entrypoint"] == ["/usr/bin/pgbouncer"]
    assert pgbouncer["command"] == [targets["pgbouncer.ini"]]
    assert f"auth_file = {targets['userlist.txt']}" in mounted("pgbouncer.ini")


def test_a_changed_pool_or_password_moves_its_file_to_a_new_mount_path() -> None:
    """Coolify keeps a mounted file's first content at a given path: a change must come at a
    new path, or the running PgBouncer never sees it."""
    settings = {"image": "edoburu/pgbouncer:v1.24.1-p1", "database": "app",
                "postgres_host": "postgres", "version": (1, 24), "user": "app",
                "memory_mb": 64}  # fmt: skip

    def targets(pool: PoolSettings, password: str) -> dict[str, str]:
        service = pgbouncer_compose(**settings, pool=pool, password=password)["services"]
        volumes = service["pgbouncer"]["volumes"]
        return {PurePosixPath(v["target"]).name: v["target"] for v in volumes}

    first = targets(POOL, "secret-one")
    bigger = targets(replace(POOL, default_pool_size=POOL.default_pool_size + 5), "secret-one")
    rotated = targets(POOL, "secret-two")
    assert bigger["pgbouncer.ini"] != first["pgbouncer.ini"]
    assert bigger["userlist.txt"] == first["userlist.txt"]
    assert rotated["userlist.txt"] != first["userlist.txt"]
    assert rotated["pgbouncer.ini"] != first["pgbouncer.ini"]  # it names the new auth file
    assert targets(POOL, "secret-one") == first  # the same files: the same paths


def test_pgbouncer_authenticates_with_postgres_own_secret() -> None:
    assert mounted("userlist.txt") == f'"tour_crm" "{password_of("postgres")}"\n'


def test_redis_is_capped_and_private() -> None:
    redis = named("data-redis").inputs
    assert (redis["engine"], redis["image"], redis["limits_memory"]) == (
        "redis",
        "redis:7.4.1-alpine",
        "768m",
    )
    assert "maxmemory 512mb" in redis["conf"] and "appendfsync everysec" in redis["conf"]  # noqa: PT018
    assert reveal(redis["credentials"]) == {"redis_password": password_of("redis")}


def url(output: str) -> Any:
    value = production().stack_outputs[output]
    assert is_secret(value)
    return urlsplit(reveal(value))


def test_the_urls_carry_the_generated_secrets_to_the_right_hosts() -> None:
    pooled, direct, redis = url("databaseUrl"), url("directUrl"), url("redisUrl")
    assert (pooled.hostname, pooled.port, pooled.query) == (
        f"pgbouncer-{named('data-pgbouncer').id}",
        6432,
        "pgbouncer=true",
    )
    assert (direct.hostname, direct.port, direct.query) == (named("data-postgres").id, 5432, "")
    for parts in (pooled, direct):
        assert (parts.username, unquote(parts.password), parts.path) == (
            "tour_crm",
            password_of("postgres"),
            "/tour_crm",
        )
    assert (redis.hostname, redis.port, unquote(redis.password)) == (
        named("data-redis").id,
        6379,
        password_of("redis"),
    )


def test_no_generated_secret_is_plain_anywhere() -> None:
    assert find_leaks(production()) == []


def test_without_pgbouncer_the_database_url_is_the_direct_one() -> None:
    recording = evaluate_ok(with_value(tour_crm_config(), "services.pgbouncer", None))
    outputs = recording.stack_outputs
    assert reveal(outputs["databaseUrl"]) == reveal(outputs["directUrl"])
    assert "data-pgbouncer" not in {r.name for r in recording.resources}


def test_without_data_services_there_are_no_urls() -> None:
    recording = evaluate_ok(with_value(tour_crm_config(), "services", {}))
    assert not {"databaseUrl", "directUrl", "redisUrl"} & set(recording.stack_outputs)


def test_staging_databases_are_not_protected() -> None:
    staging = evaluate_stack("staging")
    assert staging.named("data-postgres").protect is False
    assert staging.named("data-postgres").inputs["limits_memory"] == "2048m"
