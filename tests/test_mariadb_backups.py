"""MariaDB's off-site dumps and restore drill, run for real: Debian's MariaDB 10.11 and its
client tools, the AWS CLI, and moto's S3 server on loopback (the OrbitFlow guide's database)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from components.backups import secret_files
from offline.engine import find_leaks, reveal
from offline.stack_files import PROJECT_DIR
from render import backups as render
from tests.backup_host import (
    AWS_IMAGE,
    RCLONE_IMAGE,
    STAND_IN,
    Host,
    backups_config,
    bundle_file,
    secret_env_files,
    verify_root,
)
from tests.offsite import (
    ACCESS_KEY,
    BUCKET,
    SECRET_KEY,
    keys,
    offsite_env,
    run_script,
    stamp,
    text,
)
from tests.servers import running_mariadb
from tests.support import evaluate_stack, run

PASSWORD = "MariadbRootPassword0123456789abcdef"  # the generator's alphabet
PREFIX = "production/mariadb"
NOW = datetime(2026, 11, 22, 3, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def mariadb() -> Iterator[tuple[int, Path]]:
    """MariaDB with the OrbitFlow database and data, and an admin like Coolify's root."""
    with running_mariadb() as (port, socket_path):
        statements = [
            "CREATE DATABASE orbitflow",
            f"CREATE USER 'admin'@'%' IDENTIFIED BY '{PASSWORD}'",
            "GRANT ALL ON *.* TO 'admin'@'%' WITH GRANT OPTION",
            "CREATE TABLE orbitflow.contacts (id INT AUTO_INCREMENT PRIMARY KEY, name TEXT)",
            "CREATE TABLE orbitflow.`deal notes` (id INT AUTO_INCREMENT PRIMARY KEY, body TEXT)",
            "INSERT INTO orbitflow.contacts (name) SELECT CONCAT('contact ', seq)"
            " FROM orbitflow.seq_1_to_3000",
            "INSERT INTO orbitflow.`deal notes` (body) SELECT 'note' FROM orbitflow.seq_1_to_120",
        ]
        for statement in statements:
            result = run(["mariadb", f"--socket={socket_path}", "-e", statement])
            assert result.returncode == 0, result.stderr
        yield port, socket_path


def mariadb_script(name: str, port: int, s3: Any, **extra: str) -> subprocess.CompletedProcess[str]:
    return run_script(
        name,
        {
            **offsite_env(s3, PREFIX),
            "MARIADB_HOST": "127.0.0.1",
            "MARIADB_PORT": str(port),
            "MARIADB_USER": "admin",
            "MYSQL_PWD": PASSWORD,
            "MARIADB_DATABASE": "orbitflow",
            **extra,
        },
    )


def backup(port: int, s3: Any, kind: str = "daily", **extra: str) -> Any:
    return mariadb_script("mariadb-backup", port, s3, BACKUP_KIND=kind, NOW=stamp(NOW), **extra)


def rows(socket_path: Path, database: str) -> list[str]:
    # Our own database names: no injection here.
    contacts = f"SELECT CONCAT(COUNT(*), ' ', SUM(LENGTH(name))) FROM {database}.contacts"  # noqa: S608
    notes = f"SELECT COUNT(*) FROM {database}.`deal notes`"  # noqa: S608
    query = f"{contacts} UNION ALL {notes}"
    result = run(["mariadb", f"--socket={socket_path}", "-N", "-B", "-e", query])
    assert result.returncode == 0, result.stderr
    return result.stdout.split("\n")


def test_backup_uploads_a_dump_and_its_manifest(mariadb: tuple[int, Path], s3: Any) -> None:
    result = backup(mariadb[0], s3)
    assert result.returncode == 0, result.stderr
    key = f"{PREFIX}/daily/{stamp(NOW)}"
    assert keys(s3) == [f"{key}.manifest", f"{key}.sql.gz"]
    manifest = text(s3, f"{key}.manifest")
    lines = manifest.splitlines()
    assert lines[0] == "tables\t2"
    assert "rows\t`contacts`\t3000" in lines
    assert "rows\t`deal notes`\t120" in lines
    assert PASSWORD not in result.stdout + result.stderr


def test_retention_deletes_old_dumps_and_keeps_young_ones(
    mariadb: tuple[int, Path], s3: Any
) -> None:
    old = f"{PREFIX}/hourly/{stamp(NOW - timedelta(hours=25))}.sql.gz"
    young = f"{PREFIX}/hourly/{stamp(NOW - timedelta(hours=23))}.sql.gz"
    for key in (old, young):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"old")
    assert backup(mariadb[0], s3, "hourly").returncode == 0
    assert old not in keys(s3)
    assert young in keys(s3)


def test_the_drill_restores_and_drops_and_an_incident_restore_equals_the_source(
    mariadb: tuple[int, Path], s3: Any, monitor: tuple[str, list[dict[str, str]]]
) -> None:
    port, socket_path = mariadb
    url, received = monitor
    assert backup(port, s3).returncode == 0
    drill = mariadb_script("mariadb-restore-drill", port, s3, PUSH_URL=url)
    assert drill.returncode == 0, drill.stderr
    assert f"restore drill ok: {PREFIX}/daily/{stamp(NOW)}.sql.gz, 2 tables" in drill.stdout
    databases = run(["mariadb", f"--socket={socket_path}", "-N", "-e", "SHOW DATABASES"])
    assert "restore_drill" not in databases.stdout.split()
    assert [r["status"] for r in received] == ["up"]

    restore = mariadb_script("mariadb-restore-drill", port, s3, RESTORE_INTO="orbitflow_restored")
    assert restore.returncode == 0, restore.stderr
    assert rows(socket_path, "orbitflow_restored") == rows(socket_path, "orbitflow")
    run(["mariadb", f"--socket={socket_path}", "-e", "DROP DATABASE orbitflow_restored"])


def test_a_corrupted_dump_or_a_mismatch_fails_the_drill_loudly(
    mariadb: tuple[int, Path], s3: Any, monitor: tuple[str, list[dict[str, str]]]
) -> None:
    port = mariadb[0]
    url, received = monitor
    assert backup(port, s3).returncode == 0
    key = f"{PREFIX}/daily/{stamp(NOW)}"
    manifest = text(s3, f"{key}.manifest")
    s3.put_object(Bucket=BUCKET, Key=f"{key}.manifest", Body=manifest.replace("3000", "2999"))
    mismatch = mariadb_script("mariadb-restore-drill", port, s3, PUSH_URL=url)
    assert mismatch.returncode == 1
    assert "`contacts` has 3000 rows restored, 2999 at dump time" in mismatch.stderr

    newer = f"{PREFIX}/hourly/{stamp(NOW + timedelta(hours=1))}"
    s3.put_object(Bucket=BUCKET, Key=f"{newer}.sql.gz", Body=b"\x1f\x8b garbage")
    s3.put_object(Bucket=BUCKET, Key=f"{newer}.manifest", Body=b"tables\t2\n")
    corrupted = mariadb_script("mariadb-restore-drill", port, s3, PUSH_URL=url)
    assert corrupted.returncode == 1
    assert f"{newer}.sql.gz is not a readable dump" in corrupted.stderr
    assert [r["status"] for r in received] == ["down", "down"]


def test_a_failed_backup_reports_down(
    mariadb: tuple[int, Path], s3: Any, monitor: tuple[str, list[dict[str, str]]]
) -> None:
    url, received = monitor
    result = backup(mariadb[0], s3, MYSQL_PWD="wrong-password", PUSH_URL=url)
    assert result.returncode != 0
    assert [r["status"] for r in received] == ["down"]
    assert keys(s3) == []


# --- as the OrbitFlow example declares them, and run as the server runs them ----------------


def test_the_orbitflow_example_backs_up_its_mariadb_as_root() -> None:
    recording = evaluate_stack(str(PROJECT_DIR / "examples" / "orbitflow.yaml"))
    assert recording.stack_outputs["backupSchedules"] == {
        "mariadb-daily": "02:00:00 UTC",
        "mariadb-drill": "Sun 05:00:00 UTC",
    }
    files = secret_env_files(recording)
    root = reveal(recording.named("data-mariadb-root-password").outputs["result"])
    assert files["mariadb.env"] == f"MYSQL_PWD={root}\n"
    unit = bundle_file(recording, "etc/systemd/system/platform-backup-mariadb-daily.service")
    database = recording.named("data-mariadb").id
    assert f"Environment=MARIADB_HOST={database}\n" in unit
    assert "Environment=MARIADB_USER=root\n" in unit
    assert "Environment=MARIADB_CLIENT_IMAGE=mariadb:10.11.10\n" in unit
    assert "Environment=S3_PREFIX=platform/orbitflow/mariadb\n" in unit
    assert "EnvironmentFile=/etc/platform-backups/mariadb.env\n" in unit
    assert find_leaks(recording) == []


def test_the_mariadb_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    target = render.Database("mariadb", "db", 3306, "root", "orbitflow", "mariadb:10.11.10")
    bundle = render.server_bundle(backups_config(), target, None, STAND_IN)
    units = verify_root(tmp_path, bundle)
    assert sorted(Path(unit).name for unit in units) == [
        "platform-backup-mariadb-daily.service", "platform-backup-mariadb-daily.timer",
        "platform-backup-mariadb-drill.service", "platform-backup-mariadb-drill.timer",
        "platform-backup-mariadb-hourly.service", "platform-backup-mariadb-hourly.timer",
        "platform-backup-mariadb-restore@.service",
    ]  # fmt: skip
    result = run(["systemd-analyze", "verify", "--man=no", f"--root={tmp_path}", *units])
    assert (result.returncode, result.stderr) == (0, "")


def test_the_installed_mariadb_jobs_run_through_their_containers(
    tmp_path: Path, mariadb: tuple[int, Path], s3: Any
) -> None:
    port, socket_path = mariadb
    host = Host(tmp_path)
    target = render.Database("mariadb", "127.0.0.1", port, "admin", "orbitflow", "mariadb:10.11.10")
    offsite = render.Offsite(
        s3.meta.endpoint_url, BUCKET, "us-east-1", "platform/orbitflow", AWS_IMAGE, RCLONE_IMAGE
    )
    bundle = render.server_bundle(backups_config(), target, None, offsite)
    stdin = secret_files(
        {"accessKeyId": ACCESS_KEY, "secretAccessKey": SECRET_KEY, "engine": "mariadb",
         "databasePassword": PASSWORD, "minioRootKey": None}
    )  # fmt: skip
    installed = host.install(bundle, stdin, s3)
    assert installed.returncode == 0, installed.stderr
    assert host.run_job("mariadb-daily").returncode == 0
    assert any(key.startswith("platform/orbitflow/mariadb/daily/") for key in keys(s3))
    drill = host.run_job("mariadb-drill")
    assert drill.returncode == 0, drill.stderr
    restore = host.run_job("mariadb-restore@", instance="orbitflow_restored")
    assert restore.returncode == 0, restore.stderr
    assert rows(socket_path, "orbitflow_restored") == rows(socket_path, "orbitflow")
    run(["mariadb", f"--socket={socket_path}", "-e", "DROP DATABASE orbitflow_restored"])
    calls = [json.loads(line) for line in host.docker_log.read_text().splitlines()]
    tools = {call[call.index("--entrypoint") + 1] for call in calls if call[0] == "run"}
    assert tools == {"aws", "mariadb", "mariadb-dump"}
    assert PASSWORD not in " ".join(" ".join(call) for call in calls)
