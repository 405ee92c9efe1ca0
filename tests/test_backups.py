"""The off-site backup and the restore drill, run for real: Debian's PostgreSQL 15 and its
client tools, the AWS CLI, and moto's S3 server on loopback. Dump -> upload -> retention prune
-> download -> restore -> the same rows; a broken backup or dump fails loudly and reports
"down" to the push monitor."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from render.remote import SCRIPTS
from tests.offsite import (
    BUCKET,
    SECRET_KEY,
    SOURCE_BUCKETS,
    keys,
    offsite_env,
    rows,
    run_script,
    stamp,
    text,
)
from tests.servers import SUPERUSER_PASSWORD, Postgres

PREFIX = "production/postgres"
NOW = datetime(2026, 11, 22, 3, 0, 0, tzinfo=UTC)


def environment(source: Postgres, s3: Any, **extra: str) -> dict[str, str]:
    return {
        **offsite_env(s3, PREFIX),
        "PGHOST": "127.0.0.1",
        "PGPORT": str(source.port),
        "PGUSER": "postgres",
        "PGPASSWORD": SUPERUSER_PASSWORD,
        "PGDATABASE": "app",
        **extra,
    }


def backup(source: Postgres, s3: Any, kind: str = "daily", **extra: str) -> Any:
    env = environment(source, s3, BACKUP_KIND=kind, NOW=stamp(NOW), **extra)
    return run_script("pg-backup", env)


def drill(source: Postgres, s3: Any, **extra: str) -> Any:
    return run_script("pg-restore-drill", environment(source, s3, PGDATABASE="postgres", **extra))


def test_backup_uploads_a_dump_and_its_manifest(source: Postgres, s3: Any) -> None:
    result = backup(source, s3)
    assert result.returncode == 0, result.stderr
    key = f"{PREFIX}/daily/{stamp(NOW)}"
    assert keys(s3) == [f"{key}.dump", f"{key}.manifest"]
    manifest = text(s3, f"{key}.manifest")
    lines = manifest.splitlines()
    assert lines[0] == "tables\t3"
    assert "rows\tpublic.bookings\t5000" in lines
    assert 'rows\tbilling."Invoice"\t300' in lines
    assert SUPERUSER_PASSWORD not in result.stdout + result.stderr


def test_retention_deletes_old_dumps_and_keeps_young_ones(source: Postgres, s3: Any) -> None:
    def put(kind: str, age: timedelta) -> str:
        key = f"{PREFIX}/{kind}/{stamp(NOW - age)}.dump"
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"old")
        return key

    old_daily, young_daily = put("daily", timedelta(days=31)), put("daily", timedelta(days=29))
    old_hourly, young_hourly = (
        put("hourly", timedelta(hours=25)),
        put("hourly", timedelta(hours=23)),
    )
    unrelated = f"{PREFIX}/daily/README"
    s3.put_object(Bucket=BUCKET, Key=unrelated, Body=b"not a dump")
    assert backup(source, s3, "daily").returncode == 0
    assert backup(source, s3, "hourly").returncode == 0
    left = keys(s3)
    assert old_daily not in left
    assert old_hourly not in left
    assert {young_daily, young_hourly, unrelated} <= set(left)
    assert f"{PREFIX}/hourly/{stamp(NOW)}.dump" in left


def test_the_drill_restores_the_newest_dump_and_drops_it(source: Postgres, s3: Any) -> None:
    assert backup(source, s3).returncode == 0
    result = drill(source, s3)
    assert result.returncode == 0, result.stderr
    assert f"restore drill ok: {PREFIX}/daily/{stamp(NOW)}.dump, 3 tables" in result.stdout
    with source.connect() as admin:
        names = {row[0] for row in admin.execute("SELECT datname FROM pg_database")}
    assert "restore_drill" not in names


def test_an_incident_restore_is_equal_to_the_source(source: Postgres, s3: Any) -> None:
    assert backup(source, s3).returncode == 0
    result = drill(source, s3, RESTORE_INTO="app_restored")
    assert result.returncode == 0, result.stderr
    assert rows(source, "app_restored") == rows(source, "app")
    with source.connect() as admin:
        admin.execute("DROP DATABASE app_restored")


def test_a_corrupted_dump_fails_the_drill_loudly(
    source: Postgres, s3: Any, monitor: tuple[str, list[dict[str, str]]]
) -> None:
    assert backup(source, s3).returncode == 0
    newer = f"{PREFIX}/hourly/{stamp(NOW + timedelta(hours=1))}"
    s3.put_object(Bucket=BUCKET, Key=f"{newer}.dump", Body=b"PGDMP garbage")
    s3.put_object(Bucket=BUCKET, Key=f"{newer}.manifest", Body=b"tables\t3\n")
    url, received = monitor
    result = drill(source, s3, PUSH_URL=url)
    assert result.returncode == 1
    assert f"{newer}.dump is not a readable dump" in result.stderr
    assert received == [{"status": "down", "msg": received[0]["msg"]}]
    assert "not_a_readable_dump" in received[0]["msg"]


def test_a_manifest_mismatch_fails_the_drill(source: Postgres, s3: Any) -> None:
    assert backup(source, s3).returncode == 0
    key = f"{PREFIX}/daily/{stamp(NOW)}.manifest"
    manifest = text(s3, key)
    s3.put_object(Bucket=BUCKET, Key=key, Body=manifest.replace("5000", "5001").encode())
    result = drill(source, s3)
    assert result.returncode == 1
    assert "public.bookings has 5000 rows restored, 5001 at dump time" in result.stderr


def test_a_manifest_cannot_inject_sql(source: Postgres, s3: Any) -> None:
    assert backup(source, s3).returncode == 0
    key = f"{PREFIX}/daily/{stamp(NOW)}.manifest"
    evil = "tables\t3\nrows\tpublic.tours; DROP TABLE public.tours\t40\n"
    s3.put_object(Bucket=BUCKET, Key=key, Body=evil.encode())
    result = drill(source, s3)
    assert result.returncode == 1
    assert "the manifest names no table: public.tours; DROP TABLE public.tours" in result.stderr


def test_no_dump_at_all_fails_the_drill(source: Postgres, s3: Any) -> None:
    result = drill(source, s3)
    assert result.returncode == 1
    assert f"no dump under s3://{BUCKET}/{PREFIX}/" in result.stderr


def test_a_failed_backup_exits_non_zero_and_reports_down(
    source: Postgres, s3: Any, monitor: tuple[str, list[dict[str, str]]]
) -> None:
    url, received = monitor
    result = backup(source, s3, PGPASSWORD="wrong-password", PUSH_URL=url)
    assert result.returncode != 0
    assert [r["status"] for r in received] == ["down"]
    assert keys(s3) == []
    assert "wrong-password" not in received[0]["msg"]


def test_a_good_backup_reports_up(
    source: Postgres, s3: Any, monitor: tuple[str, list[dict[str, str]]]
) -> None:
    url, received = monitor
    assert backup(source, s3, PUSH_URL=url).returncode == 0
    assert [r["status"] for r in received] == ["up"]


@pytest.mark.parametrize(
    "name",
    ["pg-backup", "pg-restore-drill", "mariadb-backup", "mariadb-restore-drill", "minio-mirror",
     "backup-lib", "container-tool"],
)  # fmt: skip
def test_the_scripts_pass_shellcheck(name: str) -> None:
    result = subprocess.run(
        ["shellcheck", "-x", "-s", "bash", str(SCRIPTS / f"{name}.sh")],
        cwd=SCRIPTS.parent.parent,  # where the source= directives start
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout


def test_no_secret_reaches_a_command_line(
    source: Postgres, s3: Any, monitor: tuple[str, list[dict[str, str]]], tmp_path: Path
) -> None:
    """Every program the scripts start is wrapped to log its arguments, then run for real."""
    log = tmp_path / "argv.log"
    wrappers = tmp_path / "bin"
    wrappers.mkdir()
    for program in ("aws", "curl", "psql", "pg_dump", "pg_restore"):
        wrapper = wrappers / program
        wrapper.write_text(
            f'#!/bin/sh\necho "{program} $*" >> {log}\nexec /usr/bin/{program} "$@"\n'
        )
        wrapper.chmod(0o755)
    url, _ = monitor
    path = f"{wrappers}:/usr/bin:/bin"
    assert backup(source, s3, PATH=path, PUSH_URL=url).returncode == 0
    assert drill(source, s3, PATH=path, PUSH_URL=url).returncode == 0
    argv = log.read_text()
    assert "pg_dump --format=custom" in argv
    assert "curl -fsS" in argv
    for secret in (SUPERUSER_PASSWORD, SECRET_KEY, "token123"):
        assert secret not in argv


# --- MinIO's buckets mirrored with rclone (Debian's), moto standing in for both ends ---------

MIRROR_PREFIX = "production/minio"


def mirror(s3: Any, today: datetime, **extra: str) -> subprocess.CompletedProcess[str]:
    endpoint = s3.meta.endpoint_url
    return run_script(
        "minio-mirror",
        {
            **offsite_env(s3, MIRROR_PREFIX),
            "MINIO_BUCKETS": ",".join(SOURCE_BUCKETS),
            "TODAY": today.strftime("%Y%m%d"),
            "RCLONE_CONFIG_MINIO_TYPE": "s3",
            "RCLONE_CONFIG_MINIO_PROVIDER": "Minio",
            "RCLONE_CONFIG_MINIO_ENDPOINT": endpoint,
            "RCLONE_CONFIG_MINIO_ACCESS_KEY_ID": "minio-root",
            "RCLONE_CONFIG_MINIO_SECRET_ACCESS_KEY": "minio-root-secret",
            "RCLONE_CONFIG_OFFSITE_TYPE": "s3",
            "RCLONE_CONFIG_OFFSITE_PROVIDER": "Other",
            "RCLONE_CONFIG_OFFSITE_ENV_AUTH": "true",
            "RCLONE_CONFIG_OFFSITE_ENDPOINT": endpoint,
            "RCLONE_CONFIG_OFFSITE_REGION": "us-east-1",
            "RCLONE_CONFIG_OFFSITE_NO_CHECK_BUCKET": "true",
            **extra,
        },
    )


def test_the_mirror_copies_every_bucket_and_keeps_what_changed(buckets: Any) -> None:
    buckets.put_object(Bucket="tour-images", Key="tours/1.jpg", Body=b"photo one")
    buckets.put_object(Bucket="tour-images", Key="tours/2.jpg", Body=b"photo two")
    buckets.put_object(Bucket="documents", Key="waivers/a.pdf", Body=b"waiver")
    first = mirror(buckets, NOW)
    assert first.returncode == 0, first.stderr
    current = f"{MIRROR_PREFIX}/current"
    assert set(keys(buckets)) == {
        f"{current}/tour-images/tours/1.jpg", f"{current}/tour-images/tours/2.jpg",
        f"{current}/documents/waivers/a.pdf",
    }  # fmt: skip

    # A day later: one photo deleted, one replaced. The mirror follows; the old ones are kept.
    buckets.delete_object(Bucket="tour-images", Key="tours/1.jpg")
    buckets.put_object(Bucket="tour-images", Key="tours/2.jpg", Body=b"photo two, cropped")
    second = mirror(buckets, NOW + timedelta(days=1))
    assert second.returncode == 0, second.stderr
    day = (NOW + timedelta(days=1)).strftime("%Y%m%d")
    kept = f"{MIRROR_PREFIX}/deleted/{day}/tour-images/tours"
    assert set(keys(buckets)) == {
        f"{current}/tour-images/tours/2.jpg", f"{current}/documents/waivers/a.pdf",
        f"{kept}/1.jpg", f"{kept}/2.jpg",
    }  # fmt: skip
    body = buckets.get_object(Bucket=BUCKET, Key=f"{current}/tour-images/tours/2.jpg")["Body"]
    assert body.read() == b"photo two, cropped"
    assert buckets.get_object(Bucket=BUCKET, Key=f"{kept}/2.jpg")["Body"].read() == b"photo two"


def test_the_mirror_forgets_deleted_files_after_their_retention(buckets: Any) -> None:
    old, young = NOW - timedelta(days=31), NOW - timedelta(days=29)
    for when in (old, young):
        key = f"{MIRROR_PREFIX}/deleted/{when.strftime('%Y%m%d')}/documents/x.pdf"
        buckets.put_object(Bucket=BUCKET, Key=key, Body=b"deleted long ago")
    result = mirror(buckets, NOW)
    assert result.returncode == 0, result.stderr
    days = {key.split("/")[3] for key in keys(buckets) if "/deleted/" in key}
    assert days == {young.strftime("%Y%m%d")}


def test_a_failed_mirror_exits_non_zero_and_reports_down(
    buckets: Any, monitor: tuple[str, list[dict[str, str]]]
) -> None:
    url, received = monitor
    result = mirror(buckets, NOW, MINIO_BUCKETS="no-such-bucket", PUSH_URL=url)
    assert result.returncode != 0
    assert [r["status"] for r in received] == ["down"]
    assert "minio-root-secret" not in result.stdout + result.stderr
