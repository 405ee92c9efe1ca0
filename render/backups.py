"""The backup jobs on the server: the dump and drill scripts, run by systemd timers.

A job is a oneshot service and its timer. The PostgreSQL tools and the AWS CLI run in pinned
containers (render/scripts/container-tool.sh), so the host needs nothing but Docker and the
client matches the server: pg_dump 16 from the database's own image. Settings go into the units;
secrets into root-only environment files that the units read. The tests load the units with
`systemd-analyze verify` and the schedules with `systemd-analyze calendar`.
"""

from __future__ import annotations

import base64
import gzip
import io
import re
import tarfile
from dataclasses import dataclass

from config.model import BackupsConfig
from render.remote import SCRIPTS

SCRIPTS_DIR = "/opt/platform-backups"
TOOLS_DIR = f"{SCRIPTS_DIR}/bin"
SECRETS_DIR = "/etc/platform-backups"
UNITS_DIR = "/etc/systemd/system"
UNIT_PREFIX = "platform-backup-"
STATE_DIR = "platform-backups"  # systemd's StateDirectory=: /var/lib/platform-backups
OFFSITE_ENV = f"{SECRETS_DIR}/offsite.env"  # the off-site keys
POSTGRES_ENV = f"{SECRETS_DIR}/postgres.env"  # the database password
TOOLS = ("aws", "pg_dump", "pg_restore", "psql")  # links to container-tool
SCRATCH_DB = "restore_drill"

# Unit settings are ours or generated names: no quoting, no systemd specifiers (%).
_PLAIN = re.compile(r"[A-Za-z0-9_./:@+=,-]+")


@dataclass(frozen=True)
class Database:
    """The database to dump, as the containers on Coolify's network reach it."""

    host: str  # its Coolify uuid
    port: int
    user: str
    name: str
    client_image: str  # the database's own image: pg_dump of the same major version


@dataclass(frozen=True)
class Offsite:
    endpoint: str
    bucket: str
    region: str
    prefix: str  # <project>/<stack>/postgres, say
    client_image: str  # the AWS CLI's


@dataclass(frozen=True)
class Job:
    name: str  # platform-<name>.service and .timer
    description: str
    script: str
    calendar: str | None  # None: started by hand only (no timer)
    settings: dict[str, str]
    monitor: str | None  # the push monitor it reports to: its environment file <monitor>-push.env


def _calendar(days: str | None, times: str, timezone: str) -> str:
    """A systemd OnCalendar expression: "Mon..Fri 08..18:00:00 Europe/Berlin"."""
    return " ".join(part for part in (days, f"{times}:00", timezone) if part)


def jobs(backups: BackupsConfig) -> list[Job]:
    """The scheduled jobs the config asks for (times in the config's time zone)."""
    zone = backups.timezone
    result = [
        Job(
            "pg-daily",
            "Daily PostgreSQL dump to off-site storage",
            "pg-backup.sh",
            _calendar(None, backups.daily_at, zone),
            {"BACKUP_KIND": "daily", "RETENTION_DAILY_DAYS": str(backups.retention_days)},
            "backup",
        )
    ]
    if backups.hourly is not None:
        hourly = backups.hourly
        result.append(
            Job(
                "pg-hourly",
                "Hourly PostgreSQL dump to off-site storage, in business hours",
                "pg-backup.sh",
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
            "pg-drill",
            "Restore drill: the newest dump restored into a scratch database and checked",
            "pg-restore-drill.sh",
            _calendar(None if drill.day == "every-day" else drill.day, drill.at, zone),
            # The drill connects to the maintenance database to create and drop its scratch one.
            {"PGDATABASE": "postgres", "SCRATCH_DB": SCRATCH_DB},
            "drill",
        )
    )
    return result


HOUR = 3600


def push_intervals(backups: BackupsConfig) -> dict[str, int]:
    """How long each push monitor waits for its jobs before it alerts, in seconds: the longest
    gap between two runs, and an hour for the run itself."""
    drill_gap = 24 if backups.drill.day == "every-day" else 7 * 24
    return {"backup": 25 * HOUR, "drill": (drill_gap + 1) * HOUR}


# The restore for an incident, a template: `systemctl start platform-backup-pg-restore@<new
# database>` restores the newest dump into that new database, checked like a drill, and keeps it.
RESTORE = Job(
    "pg-restore@",
    "Restore the newest PostgreSQL dump into the new database %i",
    "pg-restore-drill.sh",
    None,
    {"PGDATABASE": "postgres"},
    None,
)


def unit_text(sections: list[tuple[str, list[tuple[str, str]]]]) -> str:
    """A systemd unit file; a key may repeat (Environment=, EnvironmentFile=)."""
    return "\n".join(
        f"[{section}]\n" + "".join(f"{key}={value}\n" for key, value in entries)
        for section, entries in sections
    )


def _environment(settings: dict[str, str]) -> list[tuple[str, str]]:
    for key, value in settings.items():
        if not _PLAIN.fullmatch(value):
            raise ValueError(f"the unit setting {key}={value!r} needs quoting; it is not ours")
    return [("Environment", f"{key}={value}") for key, value in sorted(settings.items())]


def job_units(job: Job, database: Database, offsite: Offsite) -> dict[str, str]:
    """The job's service and its timer if it has a schedule: path -> text."""
    settings = {
        "PATH": f"{TOOLS_DIR}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "TMPDIR": f"/var/lib/{STATE_DIR}",
        "PG_CLIENT_IMAGE": database.client_image,
        "AWS_CLI_IMAGE": offsite.client_image,
        "DOCKER_NETWORK": "coolify",
        "PGHOST": database.host,
        "PGPORT": str(database.port),
        "PGUSER": database.user,
        "PGDATABASE": database.name,
        "S3_ENDPOINT": offsite.endpoint,
        "S3_BUCKET": offsite.bucket,
        "S3_PREFIX": offsite.prefix,
        "AWS_DEFAULT_REGION": offsite.region,
        **job.settings,
    }
    unit = f"{UNITS_DIR}/{UNIT_PREFIX}{job.name}"
    service = unit_text(
        [
            (
                "Unit",
                [
                    ("Description", job.description),
                    ("Wants", "network-online.target"),
                    ("After", "network-online.target docker.service"),
                    ("Requires", "docker.service"),
                ],
            ),
            (
                "Service",
                [
                    ("Type", "oneshot"),
                    *_environment(settings),
                    # A template's instance name is the database to restore into.
                    *([("Environment", "RESTORE_INTO=%i")] if job.name.endswith("@") else []),
                    ("EnvironmentFile", OFFSITE_ENV),
                    ("EnvironmentFile", POSTGRES_ENV),
                    # No monitoring configured: no file, and the script reports nowhere.
                    *(
                        [("EnvironmentFile", f"-{SECRETS_DIR}/{job.monitor}-push.env")]
                        if job.monitor
                        else []
                    ),
                    ("ExecStart", f"{SCRIPTS_DIR}/{job.script}"),
                    ("StateDirectory", STATE_DIR),
                    ("StateDirectoryMode", "0700"),
                    ("UMask", "0077"),
                    ("Nice", "10"),
                    ("IOSchedulingClass", "idle"),
                    ("TimeoutStartSec", "2h"),
                ],
            ),
        ]
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
    names = ["backup-lib.sh", "pg-backup.sh", "pg-restore-drill.sh"]
    files = {f"{SCRIPTS_DIR}/{name}": (SCRIPTS / name).read_text() for name in names}
    files[f"{TOOLS_DIR}/container-tool"] = (SCRIPTS / "container-tool.sh").read_text()
    return files


def environment_file(values: dict[str, str]) -> str:
    """An EnvironmentFile of secrets. The loader admits only values that need no quoting
    (generated letters and digits; S3 keys; URLs of those), and this refuses any other."""
    for key, value in values.items():
        if not _PLAIN.fullmatch(value):
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


def server_bundle(backups: BackupsConfig, database: Database, offsite: Offsite) -> str:
    """Everything the backup jobs install, but their secrets."""
    files = scripts()
    for job in [*jobs(backups), RESTORE]:
        files.update(job_units(job, database, offsite))
    return bundle(files, {f"{TOOLS_DIR}/{tool}": "container-tool" for tool in TOOLS})
