"""Shared by the backup tests: a PostgreSQL with data to back up, moto's S3 server with the
backup bucket, and a push monitor that records what the jobs report. conftest.py makes the
fixtures available to every test module."""

from __future__ import annotations

import http.server
import os
import subprocess
import threading
import urllib.parse
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from render.postgres import postgres_settings, postgresql_conf
from render.remote import SCRIPTS
from tests.servers import Postgres, running_postgres

BUCKET = "platform-backups"
ACCESS_KEY, SECRET_KEY = "backup-access-key", "backup-secret-key-for-tests"


@pytest.fixture(scope="module")
def source() -> Iterator[Postgres]:
    with running_postgres(postgresql_conf(postgres_settings(512, 20))) as server:
        with server.connect() as admin:
            admin.execute("CREATE DATABASE app")
        with server.connect(dbname="app") as app:
            app.execute("CREATE TABLE tours (id serial PRIMARY KEY, name text NOT NULL)")
            app.execute("CREATE TABLE bookings (id serial PRIMARY KEY, tour int REFERENCES tours,"
                        " seats int)")  # fmt: skip
            app.execute("CREATE SCHEMA billing")
            app.execute('CREATE TABLE billing."Invoice" (id serial PRIMARY KEY, total numeric)')
            app.execute(
                "INSERT INTO tours (name) SELECT 'tour ' || g FROM generate_series(1, 40) g"
            )
            app.execute("INSERT INTO bookings (tour, seats) SELECT 1 + g % 40, g % 7"
                        " FROM generate_series(1, 5000) g")  # fmt: skip
            app.execute(
                'INSERT INTO billing."Invoice" (total) SELECT g FROM generate_series(1, 300) g'
            )
        yield server


@pytest.fixture
def s3() -> Iterator[Any]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    client = boto3.client(
        "s3",
        endpoint_url=f"http://{host}:{port}",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=BUCKET)
    try:
        yield client
    finally:
        # moto keeps its buckets per process, not per server: leave none behind.
        for key in keys(client):
            client.delete_object(Bucket=BUCKET, Key=key)
        client.delete_bucket(Bucket=BUCKET)
        server.stop()


class PushMonitor(http.server.BaseHTTPRequestHandler):
    received: list[dict[str, str]]

    def do_GET(self) -> None:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        self.received.append({key: values[0] for key, values in query.items()})
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def monitor() -> Iterator[tuple[str, list[dict[str, str]]]]:
    received: list[dict[str, str]] = []
    handler = type("Handler", (PushMonitor,), {"received": received})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/api/push/token123", received
    finally:
        server.shutdown()
        server.server_close()


def keys(s3: Any) -> list[str]:
    listing = s3.list_objects_v2(Bucket=BUCKET)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def text(s3: Any, key: str) -> str:
    """An object of the off-site bucket, as text (a manifest)."""
    return str(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode())


def rows(source: Postgres, dbname: str) -> dict[str, list[tuple[Any, ...]]]:
    with source.connect(dbname=dbname) as connection:
        return {
            table: connection.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()  # noqa: S608
            for table in ("tours", "bookings", 'billing."Invoice"')
        }


SOURCE_BUCKETS = ("tour-images", "documents")


@pytest.fixture
def buckets(s3: Any) -> Iterator[Any]:
    """The MinIO side: two buckets on the same S3 server, emptied and removed after."""
    for bucket in SOURCE_BUCKETS:
        s3.create_bucket(Bucket=bucket)
    yield s3
    for bucket in SOURCE_BUCKETS:
        for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=item["Key"])
        s3.delete_bucket(Bucket=bucket)


def stamp(when: datetime) -> str:
    """The time in a dump's name."""
    return when.strftime("%Y%m%dT%H%M%SZ")


def offsite_env(s3: Any, prefix: str) -> dict[str, str]:
    """What every backup script needs: a PATH to Debian's tools, and the bucket with its key."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/root"),
        "S3_ENDPOINT": s3.meta.endpoint_url,
        "S3_BUCKET": BUCKET,
        "S3_PREFIX": prefix,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def run_script(name: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """render/scripts/<name>.sh with only `env`."""
    return subprocess.run(
        ["bash", str(SCRIPTS / f"{name}.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
