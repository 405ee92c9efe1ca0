"""MariaDB 10.11, Debian's, on loopback: a client connects with the generated mysql:// URL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from render.urls import mysql_url
from tests.servers import running_mariadb
from tests.support import run

PASSWORD = "MariadbPassword0123456789abcdefghijk"  # the generator's alphabet: letters, digits


@pytest.fixture(scope="module")
def mariadb() -> Iterator[tuple[int, Path]]:
    with running_mariadb() as (port, socket_path):
        root = ["mariadb", f"--socket={socket_path}", "-e"]
        statements = ("CREATE DATABASE orbitflow",
                      f"CREATE USER 'orbitflow'@'%' IDENTIFIED BY '{PASSWORD}'",
                      "GRANT ALL ON orbitflow.* TO 'orbitflow'@'%'")  # fmt: skip
        for statement in statements:
            result = run([*root, statement])
            assert result.returncode == 0, result.stderr
        yield port, socket_path


def client(url: str, query: str) -> str:
    """The mariadb client with what the URL says; the password in MYSQL_PWD, not argv."""
    parts = urlsplit(url)
    environment = {**os.environ, "MYSQL_PWD": unquote(parts.password or "")}
    user, database = unquote(parts.username or ""), parts.path.lstrip("/")
    command = [
        "mariadb",
        "-h",
        str(parts.hostname),
        "-P",
        str(parts.port),
        "-u",
        user,
        "-D",
        database,
    ]
    result = run([*command, "-N", "-e", query], env=environment)
    return result.stdout.strip() if result.returncode == 0 else f"ERROR {result.stderr.strip()}"


def test_the_generated_url_connects(mariadb: tuple[int, Path]) -> None:
    port, _ = mariadb
    url = mysql_url(
        user="orbitflow", password=PASSWORD, host="127.0.0.1", port=port, database="orbitflow"
    )
    assert client(url, "SELECT CONCAT(CURRENT_USER(), ' ', DATABASE())") == "orbitflow@% orbitflow"


def test_a_wrong_password_is_refused(mariadb: tuple[int, Path]) -> None:
    port, _ = mariadb
    url = mysql_url(
        user="orbitflow", password="wrong", host="127.0.0.1", port=port, database="orbitflow"
    )
    assert "Access denied" in client(url, "SELECT 1")


def test_it_is_mariadb_10_11(mariadb: tuple[int, Path]) -> None:
    port, _ = mariadb
    url = mysql_url(
        user="orbitflow", password=PASSWORD, host="127.0.0.1", port=port, database="orbitflow"
    )
    assert client(url, "SELECT VERSION()").startswith("10.11.")
