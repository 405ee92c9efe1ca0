"""The backup jobs on the server: the dump, drill and mirror scripts, run by systemd timers.

A job is a oneshot service and its timer. The database's tools, the AWS CLI and rclone run in
pinned containers (render/scripts/container-tool.sh), so the host needs nothing but Docker and
the client matches the server: pg_dump or mariadb-dump from the database's own image. Settings
go into the units; secrets into root-only environment files that the units read. The tests load
the units with `systemd-analyze verify` and the schedules with `systemd-analyze calendar`.
"""

from __future__ import annotations

import base64
import gzip
import io
import re
import tarfile
from dataclasses import dataclass
from typing import Literal

from config.backups import BackupsConfig
from render.remote import SCRIPTS

SCRIPTS_DIR = "/opt/platform-backups"
TOOLS_DIR = f"{SCRIPTS_DIR}/bin"
SECRETS_DIR = "/etc/platform-backups"
UNITS_DIR = "/etc/systemd/system"
UNIT_PREFIX = "platform-backup-"
STATE_DIR = "platform-backups"  # systemd's StateDirectory=: /var/lib/platform-backups
OFFSITE_ENV = f"{SECRETS_DIR}/offsite.env"  # the off-site keys
MINIO_ENV = f"{SECRETS_DIR}/minio.env"  # MinIO's root key, for the mirror
# Links to container-tool: each runs in its container.
TOOLS = ("aws", "pg_dump", "pg_restore", "psql", "mariadb", "mariadb-dump", "rclone")
SCRATCH_DB = "restore_drill"

# Unit settings are ours or generated names: no quoting, no systemd specifiers (%).
_PLAIN = re.compile(r"[A-Za-z0-9_./:@+=,-]+")


def is_plain(value: str) -> bool:
    """Whether a value goes into a unit's Environment= or an EnvironmentFile as it is: the
    config loader refuses a secret that would not."""
    return _PLAIN.fullmatch(value) is not None


EngineName = Literal["postgres", "mariadb"]


@dataclass(frozen=True)
class Engine:
    """What differs between the database engines the jobs back up."""

    title: str
    short: str  # the jobs' names start with it
    backup_script: str
    drill_script: str
    drill_settings: dict[str, str]
    password_file: str  # the environment file with the password, as its client reads it
    password_variable: str
    # The scripts' variables for the client image, host, port, user and database.
    variables: tuple[str, str, str, str, str]


ENGINES: dict[str, Engine] = {
    "postgres": Engine(
        "PostgreSQL", "pg", "pg-backup.sh", "pg-restore-drill.sh",
        # The drill connects to the maintenance database to create and drop its scratch one.
        {"PGDATABASE": "postgres", "SCRATCH_DB": SCRATCH_DB},
        f"{SECRETS_DIR}/postgres.env", "PGPASSWORD",
        ("PG_CLIENT_IMAGE", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE"),
    ),
    "mariadb": Engine(
        "MariaDB", "mariadb", "mariadb-backup.sh", "mariadb-restore-drill.sh",
        {"SCRATCH_DB": SCRATCH_DB},
        f"{SECRETS_DIR}/mariadb.env", "MYSQL_PWD",
        ("MARIADB_CLIENT_IMAGE", "MARIADB_HOST", "MARIADB_PORT", "MARIADB_USER",
         "MARIADB_DATABASE"),
    ),
}  # fmt: skip


@dataclass(frozen=True)
class Database:
    """The database to dump, as the containers on Coolify's network reach it."""

    engine: EngineName
    host: str  # its Coolify uuid
    port: int
    user: str  # one that may create and drop databases (the drill's scratch one)
    name: str
    client_image: str  # the database's own image: a client of the same version


@dataclass(frozen=True)
class Minio:
    """The MinIO to mirror, as the containers on Coolify's network reach it."""

    host: str  # minio-<its Coolify uuid>
    port: int
    buckets: tuple[str, ...]


@dataclass(frozen=True)
class Offsite:
    endpoint: str
    bucket: str
    region: str
    prefix: str  # <project>/<stack>: dumps under <prefix>/<engine>, MinIO's under /minio
    client_image: str  # the AWS CLI's
    rclone_image: str


@dataclass(frozen=True)
class Job:
    name: str  # platform-backup-<name>.service and .timer
    description: str
    script: str
    source: Literal["database", "minio"]  # what it reads
    calendar: str | None  # None: started by hand only (no timer)
    settings: dict[str, str]
    monitor: str | None  # the push monitor it reports to: its environment file <monitor>-push.env


def _calendar(days: str | None, times: str, timezone: str) -> str:
    """A systemd OnCalendar expression: "Mon..Fri 08..18:00:00 Europe/Berlin"."""
    return " ".join(part for part in (days, f"{times}:00", timezone) if part)


def jobs(backups: BackupsConfig, engine: EngineName, minio: bool) -> list[Job]:
    """The scheduled jobs the config asks for (times in the config's time zone); `minio`:
    whether the stack has MinIO buckets to mirror."""
    zone, spec = backups.timezone, ENGINES[engine]
    result = [
        Job(
            f"{spec.short}-daily",
            f"Daily {spec.title} dump to off-site storage",
            spec.backup_script,
            "database",
            _calendar(None, backups.daily_at, zone),
            {"BACKUP_KIND": "daily", "RETENTION_DAILY_DAYS": str(backups.retention_days)},
            "backup",
        )
    ]
    if backups.hourly is not None:
        hourly = backups.hourly
        result.append(
            Job(
                f"{spec.short}-hourly",
                f"Hourly {spec.title} dump to off-site storage, in business hours",
                spec.backup_script,
                "database",
                _calendar(
                    "Mon..Fri" if hourly.days == "weekdays" else None,
                    f"{hourly.from_hour:02d}..{hourly.to_hour:02d}:00",
                    zone,
                ),
                {"BACKUP_KIND": "hourly", "RETENTION_HOURLY_HOURS": str(hourly.retention_hours)},
                "backup",
            )
        )
    drill = backups.drill
    result.append(
        Job(
            f"{spec.short}-drill",
            "Restore drill: the newest dump restored into a scratch database and checked",
            spec.drill_script,
            "database",
            _calendar(None if drill.day == "every-day" else drill.day, drill.at, zone),
            spec.drill_settings,
            "drill",
        )
    )
    if minio and backups.minio is not None:
        result.append(
            Job(
                "minio-mirror",
                "Daily mirror of MinIO's buckets to off-site storage",
                "minio-mirror.sh",
                "minio",
                _calendar(None, backups.minio.at, zone),
                {"RETENTION_DAYS": str(backups.minio.retention_days)},
                "mirror",
            )
        )
    return result


HOUR = 3600


def push_intervals(backups: BackupsConfig, minio: bool) -> dict[str, int]:
    """How long each push monitor waits for its jobs before it alerts, in seconds: the longest
    gap between two runs, and an hour for the run itself."""
    drill_gap = 24 if backups.drill.day == "every-day" else 7 * 24
    intervals = {"backup": 25 * HOUR, "drill": (drill_gap + 1) * HOUR}
    if minio and backups.minio is not None:
        intervals["mirror"] = 25 * HOUR
    return intervals


def restore_job(engine: EngineName) -> Job:
    """The restore for an incident, a template: `systemctl start platform-backup-<pg|mariadb>-
    restore@<new database>` restores the newest dump into that new database, checked like a
    drill, and keeps it."""
    spec = ENGINES[engine]
    settings = {key: value for key, value in spec.drill_settings.items() if key != "SCRATCH_DB"}
    return Job(
        f"{spec.short}-restore@",
        f"Restore the newest {spec.title} dump into the new database %i",
        spec.drill_script,
        "database",
        None,
        settings,
        None,
    )


def unit_text(sections: list[tuple[str, list[tuple[str, str]]]]) -> str:
    """A systemd unit file; a key may repeat (Environment=, EnvironmentFile=)."""
    return "\n".join(
        f"[{section}]\n" + "".join(f"{key}={value}\n" for key, value in entries)
        for section, entries in sections
    )


def environment_settings(settings: dict[str, str]) -> list[tuple[str, str]]:
    """A unit's Environment= lines."""
    for key, value in settings.items():
        if not is_plain(value):
            raise ValueError(f"the unit setting {key}={value!r} needs quoting; it is not ours")
    return [("Environment", f"{key}={value}") for key, value in sorted(settings.items())]


def _source_settings(
    job: Job, database: Database, minio: Minio | None, offsite: Offsite
) -> tuple[dict[str, str], str]:
    """What the job reads: its settings, and the environment file with its password."""
    if job.source == "database":
        engine = ENGINES[database.engine]
        values = (database.client_image, database.host, str(database.port), database.user,
                  database.name)  # fmt: skip
        return {
            **dict(zip(engine.variables, values, strict=True)),
            "AWS_CLI_IMAGE": offsite.client_image,
            "S3_PREFIX": f"{offsite.prefix}/{database.engine}",
        }, engine.password_file
    assert minio is not None  # a mirror job only with a MinIO
    return {
        "RCLONE_IMAGE": offsite.rclone_image,
        "MINIO_BUCKETS": ",".join(minio.buckets),
        "S3_PREFIX": f"{offsite.prefix}/minio",
        # rclone's two remotes, "minio" and "offsite"; the offsite one takes the AWS_* keys.
        "RCLONE_CONFIG_MINIO_TYPE": "s3",
        "RCLONE_CONFIG_MINIO_PROVIDER": "Minio",
        "RCLONE_CONFIG_MINIO_ENDPOINT": f"http://{minio.host}:{minio.port}",
        "RCLONE_CONFIG_OFFSITE_TYPE": "s3",
        "RCLONE_CONFIG_OFFSITE_PROVIDER": "Other",
        "RCLONE_CONFIG_OFFSITE_ENV_AUTH": "true",
        "RCLONE_CONFIG_OFFSITE_ENDPOINT": offsite.endpoint,
        "RCLONE_CONFIG_OFFSITE_REGION": offsite.region,
        # The key may be limited to the bucket: never try to create it.
        "RCLONE_CONFIG_OFFSITE_NO_CHECK_BUCKET": "true",
    }, MINIO_ENV


def oneshot_service(
    description: str,
    environment: list[tuple[str, str]],
    *,
    exec_start: str,
    state_dir: str,
    tuning: list[tuple[str, str]],
    timeout: str,
) -> str:
    """A oneshot service that needs Docker and the network: its Environment= and
    EnvironmentFile= lines, its command, a private state directory (its TMPDIR) and files
    readable by root only."""
    return unit_text(
        [
            (
                "Unit",
                [
                    ("Description", description),
                    ("Wants", "network-online.target"),
                    ("After", "network-online.target docker.service"),
                    ("Requires", "docker.service"),
                ],
            ),
            (
                "Service",
                [
                    ("Type", "oneshot"),
                    *environment,
                    ("ExecStart", exec_start),
                    ("StateDirectory", state_dir),
                    ("StateDirectoryMode", "0700"),
                    ("UMask", "0077"),
                    *tuning,
                    ("TimeoutStartSec", timeout),
                ],
            ),
        ]
    )


def job_units(
    job: Job, database: Database, minio: Minio | None, offsite: Offsite
) -> dict[str, str]:
    """The job's service and its timer if it has a schedule: path -> text."""
    source, password_file = _source_settings(job, database, minio, offsite)
    settings = {
        "PATH": f"{TOOLS_DIR}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "TMPDIR": f"/var/lib/{STATE_DIR}",
        "DOCKER_NETWORK": "coolify",
        "S3_ENDPOINT": offsite.endpoint,
        "S3_BUCKET": offsite.bucket,
        "AWS_DEFAULT_REGION": offsite.region,
        **source,
        **job.settings,
    }
    unit = f"{UNITS_DIR}/{UNIT_PREFIX}{job.name}"
    service = oneshot_service(
        job.description,
        [
            *environment_settings(settings),
            # A template's instance name is the database to restore into.
            *([("Environment", "RESTORE_INTO=%i")] if job.name.endswith("@") else []),
            ("EnvironmentFile", OFFSITE_ENV),
            ("EnvironmentFile", password_file),
            # No monitoring configured: no file, and the script reports nowhere.
            *(
                [("EnvironmentFile", f"-{SECRETS_DIR}/{job.monitor}-push.env")]
                if job.monitor
                else []
            ),
        ],
        exec_start=f"{SCRIPTS_DIR}/{job.script}",
        state_dir=STATE_DIR,
        tuning=[("Nice", "10"), ("IOSchedulingClass", "idle")],
        timeout="2h",
    )
    if job.calendar is None:
        return {f"{unit}.service": service}
    timer = unit_text(
        [
            ("Unit", [("Description", f"Schedule: {job.description}")]),
            (
                "Timer",
                [
                    ("OnCalendar", job.calendar),
                    # A run missed while the server was off runs when it is back.
                    ("Persistent", "true"),
                    ("AccuracySec", "1min"),
                ],
            ),
            ("Install", [("WantedBy", "timers.target")]),
        ]
    )
    return {f"{unit}.service": service, f"{unit}.timer": timer}


def scripts() -> dict[str, str]:
    """The scripts the jobs run: path on the server -> text."""
    names = ["backup-lib.sh", "minio-mirror.sh"]
    names += [name for e in ENGINES.values() for name in (e.backup_script, e.drill_script)]
    files = {f"{SCRIPTS_DIR}/{name}": (SCRIPTS / name).read_text() for name in names}
    files[f"{TOOLS_DIR}/container-tool"] = (SCRIPTS / "container-tool.sh").read_text()
    return files


def environment_file(values: dict[str, str]) -> str:
    """An EnvironmentFile of secrets. The loader admits only values that need no quoting
    (generated letters and digits; S3 keys; URLs of those), and this refuses any other."""
    for key, value in values.items():
        if not is_plain(value):
            raise ValueError(f"the value of {key} cannot go into an environment file as it is")
    return "".join(f"{key}={value}\n" for key, value in sorted(values.items()))


def bundle(files: dict[str, str], links: dict[str, str] | None = None) -> str:
    """A tar.gz of `files` (absolute path -> text; scripts executable) and symlinks (path ->
    target), base64: the same bytes for the same files, so a rerun changes nothing."""
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for path, text in sorted(files.items()):
            data = text.encode()
            info = tarfile.TarInfo(path.lstrip("/"))
            info.size = len(data)
            info.mode = 0o755 if text.startswith("#!") else 0o644
            tar.addfile(info, io.BytesIO(data))
        for path, target in sorted((links or {}).items()):
            info = tarfile.TarInfo(path.lstrip("/"))
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return base64.b64encode(buffer.getvalue()).decode()


def server_bundle(
    backups: BackupsConfig, database: Database, minio: Minio | None, offsite: Offsite
) -> str:
    """Everything the backup jobs install, but their secrets."""
    files = scripts()
    for job in [*jobs(backups, database.engine, minio is not None), restore_job(database.engine)]:
        files.update(job_units(job, database, minio, offsite))
    return bundle(files, {f"{TOOLS_DIR}/{tool}": "container-tool" for tool in TOOLS})
