"""Whole stacks: every stack file evaluates, and production and staging say what they should."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import yaml

from config import parse_stack_config
from config.hetzner import SERVER_TYPES
from offline.engine import find_leaks, is_secret
from offline.stack_files import PROJECT_DIR, read_stack_file, stack_names
from tests.support import evaluate_stack

STACK_OUTPUTS = {
    "serverName", "serverIpv4", "serverIpv6", "hostnames",
    "coolifyUrl", "coolifyRootUser", "coolifyRootPassword", "coolifyProjectUuid",
    "coolifyEnvironmentUuid", "databaseUrl", "directUrl", "redisUrl", "s3Endpoint",
    "s3PublicUrl", "s3Buckets", "s3Credentials", "appUrls", "statusUrl", "uptimeKumaUser",
    "uptimeKumaPassword", "webhooks",
}  # fmt: skip


def stack_config(stack: str) -> Any:
    stack_file = read_stack_file(stack)
    values = {
        key.split(":", 1)[1]: yaml.safe_load(value)
        for key, value in stack_file.config.items()
        if key not in stack_file.secret_keys
    }
    return parse_stack_config(values, stack_file.project)


def test_production_and_staging_exist() -> None:
    assert {"production", "staging"} <= set(stack_names())


@pytest.mark.parametrize("stack", stack_names())
def test_every_stack_evaluates_with_its_outputs_and_no_leak(stack: str) -> None:
    recording = evaluate_stack(stack)
    config = stack_config(stack)
    backups = {"backupSchedules", "pushUrls"} if config.backups is not None else set()
    imports = {"importCommands"} if config.imports != type(config.imports)() else set()
    assert set(recording.stack_outputs) == STACK_OUTPUTS | backups | imports
    assert find_leaks(recording) == []
    custom = Counter(r.type for r in recording.resources if r.custom)
    assert custom["hcloud:index/server:Server"] == 1
    assert custom["hcloud:index/firewall:Firewall"] == 1
    assert custom["cloudflare:index/dnsRecord:DnsRecord"] == 2 * len(
        recording.stack_outputs["hostnames"]
    )


@pytest.mark.parametrize("stack", stack_names())
def test_stack_files_hold_tokens_only_encrypted(stack: str) -> None:
    """`pulumi config set --secret` writes ciphertext into the file, which is fine; a token in
    plain text is not."""
    document = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())
    for key, value in document["config"].items():
        if key.startswith(("hcloud:", "cloudflare:")):
            assert isinstance(value, dict), key
            assert set(value) == {"secure"}, key


def test_production_is_the_tour_crm_platform_on_a_16_gb_server() -> None:
    config = stack_config("production")
    assert SERVER_TYPES[config.server.type].memory_gb == 16
    assert config.server.delete_protection
    assert config.server.backups
    assert set(config.services.enabled()) == {
        "postgres",
        "pgbouncer",
        "redis",
        "minio",
        "uptime-kuma",
    }
    apps = {app.name: app for app in config.apps}
    assert set(apps) == {"crm", "book", "worker"}
    assert (apps["crm"].port, apps["book"].port, apps["worker"].port) == (3000, 3001, 3002)
    # The guide's ports; the worker is reached by Inngest Cloud, which calls its functions.
    assert [d.host for d in apps["worker"].domains] == ["jobs"]
    assert "SENTRY_AUTH_TOKEN" in apps["crm"].build_args  # the build uploads the source maps
    assert "SENTRY_AUTH_TOKEN" not in apps["crm"].env
    assert {h.fqdn for h in config.served_hostnames()} == {
        "crm.example.com", "book.example.com", "jobs.example.com", "files.example.com",
        "status.example.com", "coolify.example.com",
    }  # fmt: skip


def test_production_is_protected_and_owns_the_zone_settings() -> None:
    recording = evaluate_stack("production")
    (server,) = recording.of_type("hcloud:index/server:Server")
    assert server.protect
    assert len(recording.of_type("cloudflare:index/zoneSetting:ZoneSetting")) == 3


def test_staging_is_the_same_platform_on_a_smaller_cheaper_server() -> None:
    production, staging = stack_config("production"), stack_config("staging")
    assert staging.server.spec.memory_gb < production.server.spec.memory_gb
    assert staging.server.spec.eur_per_month < production.server.spec.eur_per_month
    assert staging.services.enabled() == production.services.enabled()
    assert [(a.name, a.port) for a in staging.apps] == [(a.name, a.port) for a in production.apps]
    staging_memory = sum(mb for _, mb in staging.memory_budget())
    assert staging_memory <= staging.server.spec.memory_mb


def test_production_takes_the_guides_database_settings() -> None:
    services = stack_config("production").services
    assert services.postgres is not None and services.pgbouncer is not None  # noqa: PT018
    assert (services.postgres.database, services.postgres.user, services.postgres.memory_mb) == (
        "tour_crm", "tour_crm", 4096
    )  # fmt: skip
    pool = services.pgbouncer
    assert (pool.max_client_conn, pool.default_pool_size, pool.min_pool_size,
            pool.reserve_pool_size, pool.reserve_pool_timeout) == (100, 20, 5, 5, 3)  # fmt: skip
    assert services.redis is not None and services.redis.maxmemory_mb == 512  # noqa: PT018


def test_staging_never_serves_a_production_hostname() -> None:
    """Both stacks share the zone: a shared name would get records from both servers."""
    production = {h.fqdn for h in stack_config("production").served_hostnames()}
    staging = {h.fqdn for h in stack_config("staging").served_hostnames()}
    assert production.isdisjoint(staging)
    assert all("staging" in host for host in staging)


def test_staging_leaves_the_zone_settings_to_production() -> None:
    assert evaluate_stack("staging").of_type("cloudflare:index/zoneSetting:ZoneSetting") == []


def test_the_dashboard_password_is_a_secret_output() -> None:
    outputs = evaluate_stack("production").stack_outputs
    assert is_secret(outputs["coolifyRootPassword"])
    assert outputs["coolifyRootUser"] == "admin@example.com"
