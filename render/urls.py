"""Connection strings, built in one place. User names and passwords are percent-encoded, so
any character a generator can produce survives a URL parser."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit


def _part(value: str) -> str:
    return quote(value, safe="")


def postgres_url(
    *, user: str, password: str, host: str, port: int, database: str, pgbouncer: bool = False
) -> str:
    """`pgbouncer=true` tells Prisma it talks to PgBouncer in transaction mode (no server-side
    prepared statements of its own naming); Prisma removes it before connecting."""
    url = f"postgresql://{_part(user)}:{_part(password)}@{host}:{port}/{_part(database)}"
    return url + "?pgbouncer=true" if pgbouncer else url


@dataclass(frozen=True)
class PostgresParts:
    """A PostgreSQL URL's parts as a client takes them, decoded."""

    host: str
    port: int
    user: str
    password: str
    database: str
    sslmode: str  # libpq's: what the URL says, else libpq's default (TLS where offered)


def postgres_url_parts(url: str) -> PostgresParts:
    """The parts of a postgresql:// URL the config loader has checked (user, password, host
    and port present); the database defaults to `postgres`, as Supabase's is."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    return PostgresParts(
        host=parts.hostname or "",
        port=parts.port or 5432,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        database=unquote(parts.path.lstrip("/")) or "postgres",
        sslmode=query.get("sslmode", "prefer"),
    )


def without_pgbouncer_flag(url: str) -> str:
    """The URL without Prisma's `pgbouncer` query parameter, which libpq (psycopg, and every
    driver built on it) refuses as an unknown URI parameter; other parameters stay."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "pgbouncer"]
    return urlunsplit(parts._replace(query=urlencode(query)))


def redis_url(*, password: str, host: str, port: int = 6379, db: int = 0) -> str:
    return f"redis://default:{_part(password)}@{host}:{port}/{db}"


def mysql_url(*, user: str, password: str, host: str, port: int, database: str) -> str:
    return f"mysql://{_part(user)}:{_part(password)}@{host}:{port}/{_part(database)}"
