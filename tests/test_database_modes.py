"""The other database modes the seeds use: an external PostgreSQL (Supabase) by secret URLs,
and MariaDB 10.11; and the secret config keys they bring."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from config import ConfigError
from config.secrets import secret_warnings
from offline.engine import Recording, find_leaks, is_secret, reveal
from tests.support import evaluate_config, minimal_config, with_value

POOLED = "postgresql://postgres.abcdefghijk:S3cretSupabasePw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres?pgbouncer=true"
DIRECT = "postgresql://postgres.abcdefghijk:S3cretSupabasePw@aws-0-eu-central-1.pooler.supabase.com:5432/postgres"
SECRETS = {"platform:externalDatabaseUrl": POOLED, "platform:externalDirectUrl": DIRECT}


def external(**services: Any) -> dict[str, Any]:
    return with_value(
        minimal_config(), "services", {"externalPostgres": {}, "redis": {}, **services}
    )


def run(
    values: dict[str, Any], secrets: dict[str, str], secret_keys: list[str] | None = None
) -> Recording:
    return evaluate_config(
        values, extra=secrets, secret_keys=list(secrets) if secret_keys is None else secret_keys
    )


def problems(recording: Recording) -> list[str]:
    assert isinstance(recording.error, ConfigError), recording.error
    assert recording.resources == []  # before any resource
    return recording.error.problems


def test_an_external_postgres_is_wired_from_the_secret_urls() -> None:
    recording = run(external(), SECRETS)
    assert recording.error is None, recording.error
    engines = {r.inputs.get("engine") for r in recording.resources if r.name.startswith("data-")}
    assert "postgresql" not in engines  # nothing deployed for it
    outputs = recording.stack_outputs
    assert is_secret(outputs["databaseUrl"]) and reveal(outputs["databaseUrl"]) == POOLED  # noqa: PT018
    assert is_secret(outputs["directUrl"]) and reveal(outputs["directUrl"]) == DIRECT  # noqa: PT018
    assert find_leaks(recording) == []


def test_the_external_urls_are_required() -> None:
    found = problems(run(external(), {}))
    assert found[0].startswith(
        "platform:externalDatabaseUrl: required because services.externalPostgres is set"
    )
    assert "pulumi config set --secret externalDatabaseUrl" in found[0]
    assert found[1].startswith("platform:externalDirectUrl: required")


def test_a_secret_stored_in_plain_text_is_refused_without_showing_it() -> None:
    found = problems(run(external(), SECRETS, secret_keys=["platform:externalDirectUrl"]))
    assert found == [
        "platform:externalDatabaseUrl: holds a secret but is stored in plain text; remove it from "
        "the stack file and set it with `pulumi config set --secret externalDatabaseUrl '<value>'`"
    ]


def test_a_malformed_url_is_refused_without_showing_it() -> None:
    found = problems(
        run(external(), {**SECRETS, "platform:externalDirectUrl": "mysql://u:S3cretPw@h:3306/db"})
    )
    assert found == [
        "platform:externalDirectUrl: the value is not a postgresql:// URL (the value is not shown: it is secret)"
    ]
    found = problems(
        run(
            external(), {**SECRETS, "platform:externalDirectUrl": "postgresql://db.example.com/app"}
        )
    )
    assert "needs a user, a password, a host and a port" in found[0]


def test_an_unused_secret_is_refused() -> None:
    values = with_value(minimal_config(), "services", {"postgres": {}})
    found = problems(run(values, SECRETS))
    assert found[0].startswith(
        "platform:externalDatabaseUrl: set, but it is needed only when services.externalPostgres is set"
    )


def test_config_and_secret_problems_are_reported_together() -> None:
    values = {**minimal_config(), "domian": "x"}
    found = problems(run(values, {"platform:externalDatabaseUrl": POOLED}, secret_keys=[]))
    assert [p.split(":")[1] for p in found] == [
        "domian"
    ]  # model errors first; then a rerun shows the rest


def test_one_database_per_stack() -> None:
    values = with_value(minimal_config(), "services", {"postgres": {}, "mariadb": {}})
    (problem,) = problems(run(values, {}))
    assert problem.startswith(
        "platform:services.mariadb: services.postgres, services.mariadb would each provide DATABASE_URL"
    )


def test_mariadb_is_a_coolify_database_with_a_mysql_url() -> None:
    recording = run(
        with_value(
            minimal_config(),
            "services",
            {"mariadb": {"database": "orbitflow", "user": "orbitflow"}},
        ),
        {},
    )
    assert recording.error is None, recording.error
    mariadb = recording.named("data-mariadb")
    assert (mariadb.inputs["engine"], mariadb.inputs["image"], mariadb.inputs["limits_memory"]) == (
        "mariadb",
        "mariadb:10.11.10",
        "1024m",
    )
    credentials = reveal(mariadb.inputs["credentials"])
    password = reveal(recording.named("data-mariadb-password").outputs["result"])
    root = reveal(recording.named("data-mariadb-root-password").outputs["result"])
    assert credentials == {"mariadb_user": "orbitflow", "mariadb_password": password,
                           "mariadb_database": "orbitflow", "mariadb_root_password": root}  # fmt: skip
    assert password != root
    url = urlsplit(reveal(recording.stack_outputs["databaseUrl"]))
    assert (url.scheme, url.username, url.password, url.hostname, url.port, url.path) == (
        "mysql", "orbitflow", password, mariadb.id, 3306, "/orbitflow"
    )  # fmt: skip
    assert "directUrl" not in recording.stack_outputs
    assert find_leaks(recording) == []


SUPABASE_DIRECT = "postgresql://postgres:S3cretSupabasePw@db.abcdefghijk.supabase.co:5432/postgres"


def test_migrations_through_supabases_transaction_pooler_are_refused() -> None:
    found = problems(run(external(), {**SECRETS, "platform:externalDirectUrl": POOLED}))
    assert found == [
        "platform:externalDirectUrl: the value is Supabase's transaction pooler (port 6543), "
        "where migrations and dumps cannot run (no session for their locks and prepared "
        "statements): give the session pooler (port 5432) (the value is not shown: it is "
        "secret)"
    ]
    assert run(external(), {**SECRETS, "platform:externalDirectUrl": SUPABASE_DIRECT}).error is None


@pytest.mark.parametrize("key", ["externalDirectUrl", "importSourceUrl"])
def test_supabases_ipv6_only_direct_host_gets_a_warning_naming_the_session_pooler(
    key: str,
) -> None:
    """Coolify's network is IPv4 only: containers reach db.<project>.supabase.co only with
    Supabase's IPv4 add-on. It may be bought, so this warns."""
    (warning,) = secret_warnings("platform", {key: (SUPABASE_DIRECT, True)})
    assert warning.startswith(f"platform:{key}: the value is Supabase's direct connection")
    assert "give the session pooler" in warning
    assert "S3cret" not in warning
    assert "abcdefghijk" not in warning
    assert secret_warnings("platform", {key: (DIRECT, True)}) == []


@pytest.mark.parametrize(
    ("pooled", "advice"),
    [
        (POOLED, None),
        (POOLED.removesuffix("?pgbouncer=true"), "has no ?pgbouncer=true, which Prisma needs"),
        (DIRECT, "is Supabase's session pooler (port 5432)"),
        (SUPABASE_DIRECT, "is Supabase's direct connection, not its pooler"),
        ("postgresql://app:S3cretPw@db.example.com:6432/app", None),  # not Supabase: as given
    ],
    ids=["transaction-pooler", "no-flag", "session-pooler", "direct", "elsewhere"],
)
def test_a_pooled_url_that_works_badly_gets_a_warning_that_never_shows_it(
    pooled: str, advice: str | None
) -> None:
    warnings = secret_warnings("platform", {"externalDatabaseUrl": (pooled, True)})
    if advice is None:
        assert warnings == []
    else:
        (warning,) = warnings
        assert warning.startswith(f"platform:externalDatabaseUrl: the value {advice}")
        assert "S3cret" not in warning
        assert "abcdefghijk" not in warning
    assert run(external(), {**SECRETS, "platform:externalDatabaseUrl": pooled}).error is None
