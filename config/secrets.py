"""The config keys that hold secrets: set with `pulumi config set --secret`, read with
`require_secret`, never part of the models. The loader checks them with the rest of the
config, before any resource, and no message ever quotes their values."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pulumi

from config.stack import StackConfig
from render.backups import is_plain
from render.urls import postgres_url_parts


def _postgres_url_problem(value: str) -> str | None:
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return "is not a URL"
    if parts.scheme not in ("postgres", "postgresql"):
        return "is not a postgresql:// URL"
    if not parts.hostname or not parts.username or not parts.password or not port:
        return "needs a user, a password, a host and a port"
    return None


def _supabase_kind(value: str) -> str:
    """Which of Supabase's endpoints a URL is: "transaction" (the pooler on 6543), "session"
    (the pooler on 5432), "direct" (db.<project>.supabase.co), or "" (not Supabase's)."""
    parts = urlsplit(value)
    host = (parts.hostname or "").lower()
    if host.endswith(".pooler.supabase.com"):
        return "transaction" if parts.port == 6543 else "session"
    if host.startswith("db.") and host.endswith(".supabase.co"):
        return "direct"
    return ""


def _pooled_url_advice(value: str) -> str | None:
    """What the pooled URL would do badly; it still works, so this is a warning."""
    kind = _supabase_kind(value)
    if kind == "direct":
        return ("is Supabase's direct connection, not its pooler: each app connection takes one "
                "of the database's; give the transaction pooler's URL (Connect > Transaction "
                "pooler: ...pooler.supabase.com:6543)")  # fmt: skip
    if kind == "session":
        return ("is Supabase's session pooler (port 5432): a client holds a database connection "
                "as long as it stays connected; the transaction pooler is port 6543")  # fmt: skip
    if kind == "transaction" and "pgbouncer=true" not in urlsplit(value).query:
        return ("has no ?pgbouncer=true, which Prisma needs behind Supabase's transaction pooler "
                "(its prepared statements collide otherwise); add it (database.pooledUrl gives "
                "libpq drivers the URL without it)")  # fmt: skip
    return None


def _direct_url_problem(value: str) -> str | None:
    if (problem := _postgres_url_problem(value)) is not None:
        return problem
    if _supabase_kind(value) == "transaction":
        return ("is Supabase's transaction pooler (port 6543), where migrations and dumps "
                "cannot run (no session for their locks and prepared statements): give the session "
                "pooler (port 5432)")  # fmt: skip
    return None


def _direct_url_advice(value: str) -> str | None:
    """Supabase's direct host has an IPv6 address only (unless the project bought the IPv4
    add-on), and what connects through this URL runs in containers on Coolify's network,
    which is IPv4 only (`docker network create --attachable coolify`, coolify v4.3.10
    app/Actions/Server/InstallDocker.php:105)."""
    if _supabase_kind(value) != "direct":
        return None
    return ("is Supabase's direct connection (db.<project>.supabase.co), whose address is IPv6 "
            "only unless the project has the IPv4 add-on; the apps and the server's jobs run in "
            "containers on Coolify's IPv4 network and cannot reach it then: give the session "
            "pooler (Connect > Session pooler: postgres.<project>@...pooler.supabase.com:5432)"
            )  # fmt: skip


def _job_url_problem(value: str) -> str | None:
    """A PostgreSQL URL the server's jobs connect through: its parts go into a root-only
    environment file, which holds plain values only (render.backups.is_plain)."""
    parts = postgres_url_parts(value)
    if not all(is_plain(part) for part in (parts.host, parts.user, parts.password, parts.database)):
        return ("has a user, password or database name with characters other than letters, digits "
                "and _ . - + = , @ : / (after URL decoding), which the server's jobs cannot take "
                "as they are; give the database user a password of letters and digits (Supabase: "
                "Database settings > Reset database password, Generate)")  # fmt: skip
    if parts.sslmode not in ("disable", "allow", "prefer", "require"):
        return (f"has sslmode={parts.sslmode}, which the server's jobs cannot use (verify-ca and "
                "verify-full need a CA file they do not have): give sslmode=require, or no "
                "sslmode for libpq's default, TLS where the server offers it")  # fmt: skip
    return None


def _s3_key_problem(value: str) -> str | None:
    # The key goes into a systemd EnvironmentFile, which has quoting rules of its own.
    if not re.fullmatch(r"[A-Za-z0-9+/=._-]{8,}", value):
        return "is not an S3 key: 8 or more of letters, digits and + / = . _ -"
    return None


@dataclass(frozen=True)
class SecretKey:
    description: str
    needed_by: Callable[[StackConfig], bool]
    needed_because: str
    problem: Callable[[str], str | None]
    stand_in: str  # what the offline plan reads instead (the loader accepts it)
    # What works but badly, said as a warning by the loader.
    advice: Callable[[str], str | None] = lambda _: None
    # When the server's jobs connect with it (backups, imports): its parts must be plain.
    used_by_jobs: Callable[[StackConfig], bool] = lambda _: False


SECRET_KEYS = {
    "externalDatabaseUrl": SecretKey(
        "the pooled URL of the external PostgreSQL (Supabase: the pooler on port 6543, with "
        "?pgbouncer=true for Prisma)",
        lambda config: config.services.external_postgres is not None,
        "services.externalPostgres is set",
        _postgres_url_problem,
        "postgresql://offline:offline-placeholder@offline.invalid:5432/offline",
        _pooled_url_advice,
    ),
    "externalDirectUrl": SecretKey(
        "the direct URL of the external PostgreSQL (Supabase: port 5432), for migrations",
        lambda config: config.services.external_postgres is not None,
        "services.externalPostgres is set",
        _direct_url_problem,
        "postgresql://offline:offline-placeholder@offline.invalid:5432/offline",
        _direct_url_advice,
        used_by_jobs=lambda config: config.backups is not None,
    ),
    "githubToken": SecretKey(
        "a GitHub token that may manage the webhooks of the apps' repositories (fine-grained: "
        "Webhooks read and write on those repositories)",
        lambda config: config.github_webhooks,
        "githubWebhooks is true",
        lambda value: (
            None
            if re.fullmatch(r"(gh[pousr]_|github_pat_)\w{20,}", value)
            else "is not a GitHub token (ghp_..., github_pat_...)"
        ),
        "github_pat_offline_placeholder_0123456789",
    ),
    "backupAccessKeyId": SecretKey(
        "the key ID of the off-site storage (Backblaze B2: an application key's keyID, limited "
        "to the backup bucket)",
        lambda config: config.backups is not None,
        "backups is set",
        _s3_key_problem,
        "offline-placeholder-key",
    ),
    "backupSecretAccessKey": SecretKey(
        "the secret of that key (Backblaze B2: the applicationKey)",
        lambda config: config.backups is not None,
        "backups is set",
        _s3_key_problem,
        "offline-placeholder-key",
    ),
    "importSourceUrl": SecretKey(
        "the URL of the PostgreSQL to import from (Supabase: the session pooler, port 5432)",
        lambda config: config.imports.postgres is not None,
        "imports.postgres is set",
        _direct_url_problem,
        "postgresql://offline:offline-placeholder@offline.invalid:5432/offline",
        _direct_url_advice,
        used_by_jobs=lambda _: True,
    ),
    "importAccessKeyId": SecretKey(
        "the access key ID of the storage to import from (Supabase: Storage > S3 Connection > "
        "Access keys)",
        lambda config: config.imports.buckets is not None,
        "imports.buckets is set",
        _s3_key_problem,
        "offline-placeholder-key",
    ),
    "importSecretAccessKey": SecretKey(
        "the secret of that access key",
        lambda config: config.imports.buckets is not None,
        "imports.buckets is set",
        _s3_key_problem,
        "offline-placeholder-key",
    ),
}


def secret_problems(
    namespace: str, config: StackConfig, given: dict[str, tuple[str, bool]]
) -> list[str]:
    """What is wrong with the secret keys: given (key -> (value, stored as secret))."""
    problems = []
    for key, spec in SECRET_KEYS.items():
        path = f"{namespace}:{key}"
        hint = f"pulumi config set --secret {key} '<value>'"
        if key not in given:
            if spec.needed_by(config):
                problems.append(
                    f"{path}: required because {spec.needed_because} -- {spec.description}; "
                    f"set it with `{hint}`"
                )
            continue
        value, stored_secret = given[key]
        if not stored_secret:
            problems.append(
                f"{path}: holds a secret but is stored in plain text; remove it from the stack "
                f"file and set it with `{hint}`"
            )
        elif not spec.needed_by(config):
            problems.append(
                f"{path}: set, but it is needed only when {spec.needed_because}; remove it "
                f"with `pulumi config rm {key}`"
            )
        elif (problem := spec.problem(value)) is not None or (
            spec.used_by_jobs(config) and (problem := _job_url_problem(value)) is not None
        ):
            problems.append(f"{path}: the value {problem} (the value is not shown: it is secret)")
    return problems


def secret_warnings(namespace: str, given: dict[str, tuple[str, bool]]) -> list[str]:
    """What the secret keys given would do badly, though they work (never their values)."""
    return [
        f"{namespace}:{key}: the value {advice} (the value is not shown: it is secret)"
        for key, (value, _) in given.items()
        if key in SECRET_KEYS and (advice := SECRET_KEYS[key].advice(value)) is not None
    ]


SECRETS_BAG = "secrets"  # platform:secrets, an object of the apps' external secrets


def bag_problems(namespace: str, config: StackConfig, given: tuple[str, bool] | None) -> list[str]:
    """What is wrong with the bag of external secrets the apps name (`{secret: name}`)."""
    needed = config.secret_names()
    path = f"{namespace}:{SECRETS_BAG}"
    if given is None:
        return [
            f"{path}.{name}: required by {where} -- set it with "
            f"`pulumi config set --secret --path '{SECRETS_BAG}.{name}' '<value>'`"
            for name, where in needed.items()
        ]
    raw, stored_secret = given
    if not stored_secret:
        return [
            f"{path}: holds secrets but is stored in plain text; set each entry with "
            f"`pulumi config set --secret --path '{SECRETS_BAG}.<name>' '<value>'`"
        ]
    try:
        bag = json.loads(raw)
    except ValueError:
        bag = None
    if not isinstance(bag, dict) or not all(isinstance(v, str) for v in bag.values()):
        return [f"{path}: must be an object of names to text values"]
    problems = [
        f"{path}.{name}: required by {where} -- set it with "
        f"`pulumi config set --secret --path '{SECRETS_BAG}.{name}' '<value>'`"
        for name, where in needed.items()
        if name not in bag
    ]
    problems += [
        f"{path}.{name}: nothing uses it; remove it with "
        f"`pulumi config rm --path '{SECRETS_BAG}.{name}'` or refer to it with {{secret: {name}}}"
        for name in sorted(set(bag) - set(needed))
    ]
    return problems


def read_secret(key: str) -> pulumi.Output[str]:
    """A secret key the loader has checked."""
    assert key in SECRET_KEYS, key
    return pulumi.Config().require_secret(key)


def read_secret_bag() -> pulumi.Output[Any]:
    """The bag of external secrets, checked by the loader."""
    return pulumi.Config().require_secret_object(SECRETS_BAG)
