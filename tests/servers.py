"""Real PostgreSQL, PgBouncer and Redis servers on loopback, started from the rendered configs.

PostgreSQL and PgBouncer refuse to run as root, so they run as the `postgres` user Debian's
package creates; the tests themselves run as root (CI does).
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from render.pgbouncer import PoolSettings, pgbouncer_ini, userlist
from tests.sshd import free_port
from tests.support import run, write

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SUPERUSER_PASSWORD = "superuser-password-for-tests"


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command]


def _own(path: Path) -> None:
    account = pwd.getpwnam("postgres")
    for item in [path, *path.rglob("*")]:
        os.chown(item, account.pw_uid, account.pw_gid)


def _wait_until(ready: object, what: str, log: Path, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ready():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} did not start: {log.read_text()[-2000:]}")


@contextmanager
def _process(command: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("w") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def accepts(port: int) -> bool:
    """Whether a PostgreSQL server (or PgBouncer) answers on the port."""
    return run([str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)]).returncode == 0


@dataclass(frozen=True)
class Postgres:
    port: int
    folder: Path

    def connect(
        self, user: str = "postgres", password: str = SUPERUSER_PASSWORD, dbname: str = "postgres"
    ) -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=user,
            password=password,
            dbname=dbname,
            autocommit=True,
        )


@contextmanager
def postgres_folder(prefix: str) -> Iterator[Path]:
    """A folder the postgres user can reach (pytest's own temporary tree is root's only)."""
    folder = Path(tempfile.mkdtemp(prefix=f"platform-{prefix}-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def running_postgres(config: str) -> Iterator[Postgres]:
    """PostgreSQL 15 with `config` as its whole config file, on a free loopback port."""
    with postgres_folder("postgres") as folder:
        yield from _postgres_in(folder, config)


def _postgres_in(folder: Path, config: str) -> Iterator[Postgres]:
    write(folder / "superuser-password", SUPERUSER_PASSWORD + "\n")
    write(folder / "postgresql.conf", config)
    _own(folder)
    data = folder / "data"
    init = run(_as_postgres([
        str(PG_BIN / "initdb"), "-D", str(data), "--auth=scram-sha-256", "--username=postgres",
        f"--pwfile={folder / 'superuser-password'}",
    ]))  # fmt: skip
    assert init.returncode == 0, init.stderr
    port = free_port()
    command = _as_postgres([
        str(PG_BIN / "postgres"), "-D", str(data),
        "-c", f"config_file={folder / 'postgresql.conf'}",
        "-p", str(port), "-k", str(folder), "-c", "listen_addresses=127.0.0.1",
    ])  # fmt: skip
    log = folder / "postgres.log"
    with _process(command, log):
        _wait_until(lambda: accepts(port), "postgres", log)
        yield Postgres(port, folder)


def pgbouncer_version() -> tuple[int, int]:
    output = run(["pgbouncer", "--version"]).stdout
    match = re.search(r"PgBouncer (\d+)\.(\d+)", output)
    assert match, output
    return int(match.group(1)), int(match.group(2))


@contextmanager
def running_pgbouncer(folder: Path, ini: str, userlist: str, port: int) -> Iterator[int]:
    """PgBouncer from `ini` and its auth file, both written to `folder` (see postgres_folder)."""
    write(folder / "pgbouncer.ini", ini)
    write(folder / "userlist.txt", userlist)
    _own(folder)
    os.chmod(folder / "userlist.txt", 0o600)
    log = folder / "pgbouncer.log"
    with _process(_as_postgres(["pgbouncer", str(folder / "pgbouncer.ini")]), log) as process:

        def ready() -> bool:
            assert process.poll() is None, log.read_text()
            return accepts(port)

        _wait_until(ready, "pgbouncer", log)
        yield port


@contextmanager
def loopback_pgbouncer(
    postgres: Postgres, pool: PoolSettings, user: str, password: str, database: str = "app"
) -> Iterator[int]:
    """The rendered pgbouncer.ini in front of `postgres`'s `database`, for `user`, listening on
    a free loopback port."""
    with postgres_folder("pgbouncer") as folder:
        port = free_port()
        ini = pgbouncer_ini(
            database=database,
            postgres_host="127.0.0.1",
            postgres_port=postgres.port,
            pool=pool,
            version=pgbouncer_version(),
            auth_file=str(folder / "userlist.txt"),
            listen_port=port,
        )
        ini = ini.replace("listen_addr = *", "listen_addr = 127.0.0.1")  # loopback only here
        with running_pgbouncer(folder, ini, userlist(user, password), port) as listening:
            yield listening


@contextmanager
def running_redis(folder: Path, config: str, password_conf: str) -> Iterator[int]:
    """redis-server with `config`, which includes `folder`/password.conf."""
    folder.mkdir(parents=True, exist_ok=True)
    write(folder / "redis.conf", config)
    write(folder / "password.conf", password_conf)
    os.chmod(folder / "password.conf", 0o600)
    port = free_port()
    log = folder / "redis.log"
    command = [shutil.which("redis-server") or "redis-server", str(folder / "redis.conf"),
               "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder)]  # fmt: skip
    with _process(command, log):
        # Up once it answers at all: NOAUTH without the password.
        _wait_until(lambda: "NOAUTH" in redis_cli(port, None, "PING").stdout, "redis", log)
        yield port


def redis_cli(port: int, password: str | None, *command: str) -> subprocess.CompletedProcess[str]:
    """redis-cli with the password in REDISCLI_AUTH, never on its command line."""
    environment = {**os.environ, **({"REDISCLI_AUTH": password} if password else {})}
    return run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), *command], env=environment)


@contextmanager
def running_mariadb() -> Iterator[tuple[int, Path]]:
    """MariaDB 10.11 on a free loopback port; yields (port, socket). The OS root user is the
    database's root through unix_socket authentication, as Debian sets it up."""
    folder = Path(tempfile.mkdtemp(prefix="platform-mariadb-"))
    account = pwd.getpwnam("mysql")
    os.chown(folder, account.pw_uid, account.pw_gid)
    try:
        data, socket_path, port = folder / "data", folder / "mariadb.sock", free_port()
        init = run(["mariadb-install-db", "--no-defaults", "--user=mysql", f"--datadir={data}",
                    "--skip-test-db"])  # fmt: skip
        assert init.returncode == 0, init.stdout + init.stderr
        command = ["mariadbd", "--no-defaults", "--user=mysql", f"--datadir={data}",
                   f"--socket={socket_path}", f"--port={port}", "--bind-address=127.0.0.1",
                   f"--pid-file={folder / 'mariadb.pid'}"]  # fmt: skip
        log = folder / "mariadb.log"
        with _process(command, log):
            query = ["mariadb", f"--socket={socket_path}", "-e", "SELECT 1"]
            _wait_until(lambda: run(query).returncode == 0, "mariadb", log, seconds=60)
            yield port, socket_path
    finally:
        shutil.rmtree(folder, ignore_errors=True)
