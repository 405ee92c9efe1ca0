"""The backup jobs as the server gets them: systemd units checked by `systemd-analyze`, the
install step run into a scratch root (tests/backup_host.py), and the installed jobs run the way
systemd runs them (the units' environment and environment files), through the container tool,
against Debian's PostgreSQL 15, AWS CLI and rclone and moto's S3 server."""

from __future__ import annotations

import base64
import io
import json
import stat
import subprocess
import tarfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from components.backups import secret_files
from config.errors import ConfigError
from offline.engine import Recording, find_leaks, is_secret, reveal
from render import backups as render
from render.remote import remote_script, required_params
from render.urls import postgres_url_parts
from tests.backup_host import (
    AWS_IMAGE,
    IMAGE,
    OFFSITE,
    RCLONE_IMAGE,
    STAND_IN,
    Host,
    backups_config,
    bundle_file,
    secret_env_files,
    verify_root,
)
from tests.offsite import ACCESS_KEY, BUCKET, SECRET_KEY, SOURCE_BUCKETS, keys, rows
from tests.servers import SUPERUSER_PASSWORD, Postgres
from tests.support import (
    DELETE,
    evaluate_config,
    evaluate_stack,
    run,
    server_host_key,
    tour_crm_config,
    with_value,
)


def offsite(s3_client: Any) -> render.Offsite:
    return render.Offsite(
        endpoint=s3_client.meta.endpoint_url,
        bucket=BUCKET,
        region="us-east-1",
        prefix="platform/production",
        client_image=AWS_IMAGE,
        rclone_image=RCLONE_IMAGE,
    )


def database(server: Postgres) -> render.Database:
    return render.Database(
        engine="postgres", host="127.0.0.1", port=server.port, user="postgres", name="app",
        client_image=IMAGE,
    )  # fmt: skip


def test_the_schedules_are_what_systemd_reads() -> None:
    config = backups_config(timezone="Europe/Berlin", hourly={"days": "every-day", "toHour": 20})
    calendars = {job.name: job.calendar for job in render.jobs(config, "postgres", minio=False)}
    assert calendars == {
        "pg-daily": "03:00:00 Europe/Berlin",
        "pg-hourly": "09..20:00:00 Europe/Berlin",
        "pg-drill": "Sun 05:00:00 Europe/Berlin",
    }
    for calendar in calendars.values():
        result = run(["systemd-analyze", "calendar", calendar])
        assert result.returncode == 0, result.stderr
    hourly = render.jobs(backups_config(), "postgres", minio=False)[1]
    normalized = run(["systemd-analyze", "calendar", str(hourly.calendar)])
    assert "Normalized form: Mon..Fri *-*-* 09..18:00:00 UTC" in normalized.stdout  # the guide's


def test_no_hourly_dumps_when_hourly_is_null() -> None:
    found = render.jobs(backups_config(hourly=None), "postgres", minio=False)
    assert [job.name for job in found] == ["pg-daily", "pg-drill"]


def test_the_units_pass_systemd_analyze_verify(tmp_path: Path, source: Postgres) -> None:
    bundle = render.server_bundle(backups_config(), database(source), None, STAND_IN)
    units = verify_root(tmp_path, bundle)
    assert len(units) == 7  # three jobs with their timers, and the restore template
    result = run(["systemd-analyze", "verify", "--man=no", f"--root={tmp_path}", *units])
    assert (result.returncode, result.stderr) == (0, "")


def test_a_unit_setting_that_would_need_quoting_is_refused() -> None:
    with pytest.raises(ValueError, match="S3_PREFIX"):
        render.job_units(
            render.jobs(backups_config(), "postgres", minio=False)[0],
            render.Database("postgres", "db", 5432, "app", "app", IMAGE),
            None,
            render.Offsite("https://s3.example.com", "b", "r", "a b%", AWS_IMAGE, RCLONE_IMAGE),
        )
    with pytest.raises(ValueError, match="PGPASSWORD"):
        render.environment_file({"PGPASSWORD": 'has"quote'})


def test_the_bundle_is_the_same_bytes_every_time(source: Postgres) -> None:
    first = render.server_bundle(backups_config(), database(source), None, STAND_IN)
    assert render.server_bundle(backups_config(), database(source), None, STAND_IN) == first
    with tarfile.open(fileobj=io.BytesIO(base64.b64decode(first)), mode="r:gz") as tar:
        members = {member.name: member for member in tar.getmembers()}
    assert members["opt/platform-backups/pg-backup.sh"].mode == 0o755
    assert members["etc/systemd/system/platform-backup-pg-daily.timer"].mode == 0o644
    for tool in render.TOOLS:
        link = members[f"opt/platform-backups/bin/{tool}"]
        assert (link.issym(), link.linkname) == (True, "container-tool")


@pytest.mark.parametrize("name", ["install-backups", "remove-backups"])
def test_the_remote_steps_pass_shellcheck(name: str, tmp_path: Path) -> None:
    script = tmp_path / f"{name}.sh"
    script.write_text(remote_script(name, **dict.fromkeys(required_params(name), "value")))
    result = run(["shellcheck", "-x", "--severity=style", str(script)], cwd=Path.cwd())
    assert result.returncode == 0, result.stdout


# --- installed into a scratch root, then run as systemd runs them --------------------------


@pytest.fixture
def host(tmp_path: Path) -> Host:
    return Host(tmp_path)


def stdin_for(
    push_url: str | None = None,
    secret_key: str = SECRET_KEY,
    minio_root_key: dict[str, str] | None = None,
) -> str:
    values: dict[str, Any] = {
        "accessKeyId": ACCESS_KEY,
        "secretAccessKey": secret_key,
        "engine": "postgres",
        "databasePassword": SUPERUSER_PASSWORD,
        "minioRootKey": minio_root_key,
    }
    if push_url is not None:
        values["pushUrls"] = {"backup": push_url, "drill": push_url}
    return secret_files(values)


def test_install_then_the_jobs_back_up_and_drill_through_the_containers(
    host: Host, source: Postgres, s3: Any, monitor: tuple[str, list[dict[str, str]]]
) -> None:
    url, received = monitor
    bundle = render.server_bundle(backups_config(), database(source), None, offsite(s3))
    result = host.install(bundle, stdin_for(url), s3)
    assert result.returncode == 0, result.stderr
    timers = [f"platform-backup-pg-{job}.timer" for job in ("daily", "drill", "hourly")]
    assert host.systemctl() == ["daemon-reload"] + [
        line for timer in timers for line in (f"enable --quiet {timer}", f"restart {timer}")
    ] + ["list-timers --all --no-legend platform-backup-*"]
    secrets = host.root / render.SECRETS_DIR.lstrip("/")
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o700
    assert sorted(path.name for path in secrets.iterdir()) == [
        "backup-push.env", "drill-push.env", "offsite.env", "postgres.env",
    ]  # fmt: skip
    for path in secrets.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600

    backup = host.run_job("pg-daily")
    assert backup.returncode == 0, backup.stderr
    assert any(key.startswith("platform/production/postgres/daily/") for key in keys(s3))
    drill = host.run_job("pg-drill")
    assert drill.returncode == 0, drill.stderr
    assert "restore drill ok" in drill.stdout
    assert [r["status"] for r in received] == ["up", "up"]

    calls = [json.loads(line) for line in host.docker_log.read_text().splitlines()]
    assert ["pull", "--quiet", IMAGE] in calls
    tools = {call[call.index("--entrypoint") + 1] for call in calls if call[0] == "run"}
    assert tools == {"aws", "pg_dump", "pg_restore", "psql"}
    every_argv = " ".join(" ".join(call) for call in calls) + result.stdout + result.stderr
    for secret in (SUPERUSER_PASSWORD, SECRET_KEY, url.rsplit("/", 1)[1]):
        assert secret not in every_argv


def test_an_external_postgres_given_by_its_url_is_dumped_and_drilled(
    host: Host, source: Postgres, s3: Any
) -> None:
    """The real PostgreSQL here stands for Supabase: the jobs reach it by the parts of its
    direct URL, as the stack gives them, dump it off-site and prove the dump in a scratch
    database they create and drop on it."""
    url = f"postgresql://postgres:{quote(SUPERUSER_PASSWORD, safe='')}@127.0.0.1:{source.port}/app"
    parts = postgres_url_parts(url)
    external = render.Database(
        engine="postgres", host=parts.host, port=parts.port, user=parts.user,
        name=parts.database, client_image=IMAGE,
    )  # fmt: skip
    assert parts.password == SUPERUSER_PASSWORD
    bundle = render.server_bundle(backups_config(), external, None, offsite(s3))
    assert host.install(bundle, stdin_for(), s3).returncode == 0
    backup = host.run_job("pg-daily")
    assert backup.returncode == 0, backup.stderr
    drill = host.run_job("pg-drill")
    assert drill.returncode == 0, drill.stderr
    assert "restore drill ok" in drill.stdout
    with source.connect() as connection:
        names = [row[0] for row in connection.execute("SELECT datname FROM pg_database")]
    assert render.SCRATCH_DB not in names  # dropped again


def test_the_incident_restore_is_one_systemctl_start(host: Host, source: Postgres, s3: Any) -> None:
    """`systemctl start platform-backup-pg-restore@app_restored`: the newest dump, restored
    into that new database and checked, equal to the source."""
    bundle = render.server_bundle(backups_config(), database(source), None, offsite(s3))
    assert host.install(bundle, stdin_for(), s3).returncode == 0
    assert host.run_job("pg-daily").returncode == 0
    result = host.run_job("pg-restore@", instance="app_restored")
    assert result.returncode == 0, result.stderr
    assert rows(source, "app_restored") == rows(source, "app")
    with source.connect() as admin:
        admin.execute("DROP DATABASE app_restored")


def test_the_mirror_job_runs_rclone_in_its_container(
    host: Host, source: Postgres, buckets: Any
) -> None:
    buckets.put_object(Bucket="documents", Key="waivers/a.pdf", Body=b"waiver")
    host_port = buckets.meta.endpoint_url.removeprefix("http://")
    minio = render.Minio(host_port.split(":")[0], int(host_port.split(":")[1]), SOURCE_BUCKETS)
    bundle = render.server_bundle(backups_config(), database(source), minio, offsite(buckets))
    root_key = {"accessKey": "minio-root", "secretKey": "minio-root-secret"}
    result = host.install(bundle, stdin_for(minio_root_key=root_key), buckets)
    assert result.returncode == 0, result.stderr
    mirrored = host.run_job("minio-mirror")
    assert mirrored.returncode == 0, mirrored.stderr
    assert "platform/production/minio/current/documents/waivers/a.pdf" in keys(buckets)
    calls = [json.loads(line) for line in host.docker_log.read_text().splitlines()]
    rclone = [call for call in calls if call[0] == "run" and "rclone" in call]
    assert rclone
    for call in rclone:
        passed = {call[i + 1] for i, flag in enumerate(call) if flag == "-e"}
        assert {"RCLONE_CONFIG_MINIO_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"} <= passed
        assert "minio-root-secret" not in " ".join(call)


def test_a_broken_backup_alerts(
    host: Host, source: Postgres, s3: Any, monitor: tuple[str, list[dict[str, str]]]
) -> None:
    """The database's password changed behind the jobs' back: the next dump fails, and its
    monitor hears "down"."""
    url, received = monitor
    bundle = render.server_bundle(backups_config(), database(source), None, offsite(s3))
    assert host.install(bundle, stdin_for(url), s3).returncode == 0
    postgres_env = host.root / render.ENGINES["postgres"].password_file.lstrip("/")
    postgres_env.write_text("PGPASSWORD=not-the-password\n")
    result = host.run_job("pg-hourly")
    assert result.returncode != 0
    assert [r["status"] for r in received] == ["down"]
    assert keys(s3) == []


def test_an_unreachable_bucket_fails_the_install_before_any_timer(
    host: Host, source: Postgres, s3: Any
) -> None:
    # moto takes any key, so the bucket is what is wrong here; the check is the same call.
    wrong = render.Offsite(
        s3.meta.endpoint_url, "no-such-bucket", "us-east-1", "p", AWS_IMAGE, RCLONE_IMAGE
    )
    bundle = render.server_bundle(backups_config(), database(source), None, wrong)
    result = host.install(bundle, stdin_for(), s3, bucket="no-such-bucket")
    assert result.returncode == 1
    assert "the off-site bucket no-such-bucket" in result.stderr
    assert "backupAccessKeyId and backupSecretAccessKey" in result.stderr
    assert host.systemctl() == []  # no timer enabled


def test_a_rerun_changes_nothing_and_a_dropped_job_is_removed(
    host: Host, source: Postgres, s3: Any
) -> None:
    bundle = render.server_bundle(backups_config(), database(source), None, offsite(s3))
    assert host.install(bundle, stdin_for(), s3).returncode == 0
    before = snapshot(host.root)
    assert host.install(bundle, stdin_for(), s3).returncode == 0
    assert snapshot(host.root) == before
    assert not (host.root / render.SECRETS_DIR.lstrip("/") / "backup-push.env").exists()

    without_hourly = render.server_bundle(
        backups_config(hourly=None), database(source), None, offsite(s3)
    )
    result = host.install(without_hourly, stdin_for(), s3)
    assert result.returncode == 0, result.stderr
    assert "disable --now platform-backup-pg-hourly.timer" in host.systemctl()
    units = sorted(path.name for path in (host.root / "etc/systemd/system").iterdir())
    assert units == [
        "platform-backup-pg-daily.service", "platform-backup-pg-daily.timer",
        "platform-backup-pg-drill.service", "platform-backup-pg-drill.timer",
        "platform-backup-pg-restore@.service",
    ]  # fmt: skip


def test_removal_stops_the_timers_and_deletes_scripts_and_secrets(
    host: Host, source: Postgres, s3: Any
) -> None:
    bundle = render.server_bundle(backups_config(), database(source), None, offsite(s3))
    assert host.install(bundle, stdin_for(), s3).returncode == 0
    script = remote_script(
        "remove-backups",
        ROOT=str(host.root),
        SCRIPTS_DIR=render.SCRIPTS_DIR,
        UNIT_PREFIX=render.UNIT_PREFIX,
        SECRETS_DIR=render.SECRETS_DIR,
    )
    result = subprocess.run(
        ["bash", "-c", script], env=host.env(), capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert sum(line.startswith("disable --now") for line in host.systemctl()) == 3
    assert list((host.root / "etc/systemd/system").iterdir()) == []
    assert not (host.root / render.SCRIPTS_DIR.lstrip("/")).exists()
    assert not (host.root / render.SECRETS_DIR.lstrip("/")).exists()


def snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    return {
        str(path.relative_to(root)): (path.lstat().st_mode, path.read_bytes())
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


# --- the stack declares them (under Pulumi's mocks) ----------------------------------------

KEYS = {
    "platform:backupAccessKeyId": "0031234567890ab0000000001",
    "platform:backupSecretAccessKey": "K003abcdefghijklmnopqrstuvwxyz0123",
}


def with_backups(**backups: Any) -> dict[str, Any]:
    return {**tour_crm_config(), "backups": {"offsite": OFFSITE, **backups}}


def evaluate_backups(values: dict[str, Any], secrets: dict[str, str] = KEYS) -> Recording:
    return evaluate_config(values, extra=secrets, secret_keys=list(secrets))


def test_production_declares_the_backup_jobs() -> None:
    recording = evaluate_stack("production")
    install = recording.named("backups-install")
    database = recording.named("data-postgres")
    assert database.urn in install.dependencies
    assert install.inputs["logging"] == "none"
    (server,) = recording.of_type("hcloud:index/server:Server")
    assert install.inputs["triggers"] == [server.id]
    assert reveal(install.inputs["connection"])["hostKey"] == server_host_key(recording)
    assert "remove-backups" not in install.inputs["create"]
    assert "backup jobs removed" in install.inputs["delete"]
    assert recording.stack_outputs["backupSchedules"] == {
        "pg-daily": "03:00:00 UTC",
        "pg-hourly": "Mon..Fri 09..18:00:00 UTC",
        "pg-drill": "Sun 05:00:00 UTC",
        "minio-mirror": "04:00:00 UTC",
    }
    text = bundle_file(recording, "etc/systemd/system/platform-backup-pg-daily.service")
    assert f"Environment=PGHOST={database.id}\n" in text
    assert "Environment=S3_PREFIX=platform/production/postgres\n" in text
    assert "Environment=AWS_DEFAULT_REGION=eu-central-003\n" in text


def test_production_mirrors_its_minio_buckets() -> None:
    recording = evaluate_stack("production")
    text = bundle_file(recording, "etc/systemd/system/platform-backup-minio-mirror.service")
    minio = recording.named("data-minio").id
    assert "Environment=MINIO_BUCKETS=tour-images,documents\n" in text
    assert f"Environment=RCLONE_CONFIG_MINIO_ENDPOINT=http://minio-{minio}:9000\n" in text
    assert "Environment=S3_PREFIX=platform/production/minio\n" in text
    assert "EnvironmentFile=/etc/platform-backups/minio.env\n" in text
    files = secret_env_files(recording)
    root = reveal(recording.named("data-minio-root-password").outputs["result"])
    assert f"RCLONE_CONFIG_MINIO_SECRET_ACCESS_KEY={root}\n" in files["minio.env"]
    assert "PUSH_URL=" in files["mirror-push.env"]


def test_secrets_reach_the_jobs_on_stdin_only() -> None:
    recording = evaluate_backups(with_backups())
    assert recording.error is None, recording.error
    files = secret_env_files(recording)
    assert sorted(files) == ["backup-push.env", "drill-push.env", "offsite.env", "postgres.env"]
    password = reveal(recording.named("data-postgres-password").outputs["result"])
    assert files["postgres.env"] == f"PGPASSWORD={password}\n"
    assert KEYS["platform:backupSecretAccessKey"] in files["offsite.env"]
    push = reveal(recording.stack_outputs["pushUrls"])
    assert files["drill-push.env"] == f"PUSH_URL={push['drill']}\n"
    assert push["drill"].startswith("https://status.example.com/api/push/")
    create = reveal(recording.named("backups-install").inputs["create"])
    for secret in (password, *KEYS.values(), *push.values()):
        assert secret not in create
    assert find_leaks(recording) == []


def test_without_monitoring_the_jobs_report_nowhere() -> None:
    values = with_value(with_backups(), "services.uptimeKuma", DELETE)
    recording = evaluate_backups(values)
    assert recording.error is None, recording.error
    assert sorted(secret_env_files(recording)) == ["offsite.env", "postgres.env"]
    assert "pushUrls" not in recording.stack_outputs


def test_backups_need_their_keys_and_a_postgres() -> None:
    recording = evaluate_backups(with_backups(), secrets={})
    assert isinstance(recording.error, ConfigError)
    assert recording.resources == []
    assert any(
        "platform:backupAccessKeyId: required because backups is set" in problem
        for problem in recording.error.problems
    )
    no_postgres = with_value(with_value(with_backups(), "services.postgres", DELETE),
                             "services.pgbouncer", DELETE)  # fmt: skip
    recording = evaluate_backups(no_postgres)
    assert isinstance(recording.error, ConfigError)
    assert "backups dump services.postgres, services.externalPostgres or" in str(recording.error)


SUPABASE_DIRECT = "postgresql://postgres:S3cret%2FPw@db.abcdefghijk.supabase.co:5432/postgres"


def test_an_external_postgres_is_dumped_through_its_direct_url() -> None:
    """WMS and UltimatePOS keep Supabase: the same jobs dump it through its direct URL, with a
    client of at least its version, and the drill's scratch database is made and dropped
    there. The URL's parts reach the server only in the secret install step and stdin."""
    values = with_value(with_backups(), "services", {"externalPostgres": {}, "redis": {}})
    secrets = {**KEYS, "platform:externalDatabaseUrl": SUPABASE_DIRECT + "?x=1",
               "platform:externalDirectUrl": SUPABASE_DIRECT}  # fmt: skip
    recording = evaluate_backups(values, secrets)
    assert recording.error is None, recording.error
    install = recording.named("backups-install")
    assert is_secret(install.inputs["create"])
    text = bundle_file(recording, "etc/systemd/system/platform-backup-pg-daily.service")
    for setting in ("PGHOST=db.abcdefghijk.supabase.co", "PGPORT=5432", "PGUSER=postgres",
                    "PGDATABASE=postgres", "PG_CLIENT_IMAGE=postgres:17.6-alpine"):  # fmt: skip
        assert f"Environment={setting}\n" in text, setting
    assert secret_env_files(recording)["postgres.env"] == "PGPASSWORD=S3cret/Pw\n"
    assert "S3cret" not in reveal(install.inputs["create"])
    assert find_leaks(recording) == []


def test_a_malformed_key_is_refused_without_showing_it() -> None:
    bad = {**KEYS, "platform:backupSecretAccessKey": 'has spaces and "quotes"'}
    recording = evaluate_backups(with_backups(), secrets=bad)
    assert isinstance(recording.error, ConfigError)
    message = str(recording.error)
    assert "platform:backupSecretAccessKey: the value is not an S3 key" in message
    assert "quotes" not in message


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("backups.timezone", "Mars/Olympus", "is not a time zone name"),
        ("backups.dailyAt", "3am", "String should match pattern"),
        ("backups.hourly.toHour", 7, "toHour 7 is not after fromHour 9"),
        ("backups.drill.day", "Sunday", "Input should be"),
        ("backups.offsite.endpoint", "http://s3.example.com", "String should match pattern"),
        ("backups.awsCliImage", "amazon/aws-cli:latest", "is not pinned"),
        ("backups.retension", 3, "unknown key; the keys allowed here are awsCliImage"),
    ],
)
def test_bad_backup_settings_name_their_key(path: str, value: Any, message: str) -> None:
    recording = evaluate_backups(with_value(with_backups(), path, value))
    assert isinstance(recording.error, ConfigError)
    assert f"platform:{path}" in str(recording.error)
    assert message in str(recording.error)
