"""Backups and monitoring: off-site dumps and their drills, and Uptime Kuma's alerts."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator
from pydantic.alias_generators import to_camel

from config.base import HostEntry, Model, SecretValue
from config.fields import BucketName, HostName, PinnedImage, ResourceName, config_error

if TYPE_CHECKING:
    from config.stack import StackConfig


EmailAddress = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class WebhookNotification(Model):
    webhook_url: SecretValue = Field(
        description="the incoming webhook's URL, from `secrets`: `{secret: <name>}`"
    )


class EmailNotification(Model):
    host: HostName = Field(description="the SMTP server")
    port: int = Field(465, ge=1, le=65535, description="its port")
    secure: bool = Field(True, description="TLS from the start (465); false: STARTTLS (587)")
    username: str | None = Field(None, description="the SMTP user")
    password: SecretValue | None = Field(
        None, description="its password, from `secrets`: `{secret: <name>}`"
    )
    sender: EmailAddress = Field(alias="from", description="the sender address")
    to: EmailAddress = Field(description="where alerts go")


class NotificationConfig(Model):
    name: ResourceName = Field(
        description="the channel's name in Uptime Kuma; every monitor alerts every channel"
    )
    email: EmailNotification | None = Field(None, description="alerts by e-mail (SMTP)")
    slack: WebhookNotification | None = Field(None, description="alerts to a Slack webhook")
    discord: WebhookNotification | None = Field(None, description="alerts to a Discord webhook")

    @model_validator(mode="after")
    def _one_channel(self) -> NotificationConfig:
        kinds = [kind for kind in ("email", "slack", "discord") if getattr(self, kind)]
        if len(kinds) != 1:
            raise config_error(
                f"notification {self.name!r} needs exactly one of email, slack or discord"
                + (f", not {' and '.join(kinds)}" if kinds else ""),
                at=kinds[1] if len(kinds) > 1 else None,
            )
        return self

    @property
    def kind(self) -> str:
        return next(kind for kind in ("email", "slack", "discord") if getattr(self, kind))


class UptimeKumaConfig(Model):
    hostname: HostEntry = Field(
        HostEntry(host="status"), description="the status page's hostname; proxied by default"
    )
    image: PinnedImage = Field("louislam/uptime-kuma:1.23.16", description="Uptime Kuma image")
    memory_mb: int = Field(256, ge=64, description="memory limit")
    notifications: list[NotificationConfig] = Field(
        default_factory=list, description="where alerts go: e-mail, Slack or Discord"
    )
    autokuma_image: PinnedImage = Field(
        "ghcr.io/bigboot/autokuma:uptime-kuma-v1-2.0.0",
        description="AutoKuma, which keeps Uptime Kuma's monitors as the stack declares them (its "
        "build for Kuma 1.x)",
    )

    @model_validator(mode="after")
    def _unique_notification_names(self) -> UptimeKumaConfig:
        seen: set[str] = set()
        for index, notification in enumerate(self.notifications):
            if notification.name in seen:
                raise config_error(
                    f"notification {notification.name!r} is listed twice",
                    at=f"notifications[{index}].name",
                )
            seen.add(notification.name)
        return self

    def secret_values(self) -> Iterator[tuple[str, SecretValue]]:
        """(path below uptimeKuma, value) of every secret its notifications take."""
        for index, notification in enumerate(self.notifications):
            channel = getattr(notification, notification.kind)
            for field in type(channel).model_fields:
                value = getattr(channel, field)
                if isinstance(value, SecretValue):
                    yield f"notifications[{index}].{notification.kind}.{to_camel(field)}", value


HourMinute = Annotated[
    str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
]  # "03:00" (24-hour clock), in backups.timezone


RCLONE_IMAGE = "rclone/rclone:1.67.0"


class OffsiteStorageConfig(Model):
    endpoint: str = Field(
        pattern=r"^https://[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$",
        description="the S3 endpoint, e.g. https://s3.eu-central-003.backblazeb2.com",
    )
    bucket: BucketName = Field(description="the bucket the dumps go to (create it first, private)")
    region: str | None = Field(
        None,
        pattern=r"^[a-z0-9-]+$",
        description="the S3 signing region",
        json_schema_extra={"default_text": "from a Backblaze endpoint, else us-east-1"},
    )
    prefix: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$",
        description="where in the bucket this stack's objects go (`<prefix>/postgres/daily/...`, "
        "`<prefix>/minio/...`)",
        json_schema_extra={"default_text": "`<project>/<stack>`"},
    )

    @property
    def signing_region(self) -> str:
        if self.region is not None:
            return self.region
        found = re.fullmatch(r"https://s3\.([a-z0-9-]+)\.backblazeb2\.com", self.endpoint)
        return found.group(1) if found else "us-east-1"


class HourlyBackupsConfig(Model):
    days: Literal["weekdays", "every-day"] = Field(
        "weekdays", description="which days: weekdays or every-day"
    )
    # The Tour CRM guide's `0 9-18 * * 1-5`.
    from_hour: int = Field(9, ge=0, le=23, description="the first hourly dump of the day")
    to_hour: int = Field(18, ge=0, le=23, description="the last hourly dump, on the hour")
    retention_hours: int = Field(24, ge=1, le=720, description="how long an hourly dump is kept")

    @model_validator(mode="after")
    def _hours_in_order(self) -> HourlyBackupsConfig:
        if self.to_hour <= self.from_hour:
            raise config_error(
                f"toHour {self.to_hour} is not after fromHour {self.from_hour}; hourly dumps "
                "run from fromHour to toHour on the same day",
                at="toHour",
            )
        return self


class RestoreDrillConfig(Model):
    day: Literal["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "every-day"] = Field(
        "Sun", description="the drill's day: Mon to Sun, or every-day"
    )
    at: HourMinute = Field("05:00", description="the drill's time, after the daily dump")


class MinioMirrorConfig(Model):
    at: HourMinute = Field("04:00", description="the daily mirror of MinIO's buckets")
    retention_days: int = Field(
        30, ge=1, le=3650, description="how long a deleted or replaced object is kept off-site"
    )


class BackupsConfig(Model):
    offsite: OffsiteStorageConfig = Field(
        description="off-site S3 storage (Backblaze B2); its keys are the secret config keys "
        "backupAccessKeyId and backupSecretAccessKey"
    )
    timezone: str = Field(
        "UTC", description="the time zone of the times below (an IANA name, e.g. Europe/Berlin)"
    )
    daily_at: HourMinute = Field("03:00", description="the daily full dump (24-hour HH:MM)")
    retention_days: int = Field(30, ge=1, le=3650, description="how long a daily dump is kept")
    hourly: HourlyBackupsConfig | None = Field(
        HourlyBackupsConfig(), description="hourly dumps in business hours; null: none"
    )
    drill: RestoreDrillConfig = Field(
        RestoreDrillConfig(), description="the restore drill: the newest dump, restored and checked"
    )
    minio: MinioMirrorConfig | None = Field(
        MinioMirrorConfig(),
        description="MinIO's buckets mirrored daily, with services.minio; null: none",
    )
    aws_cli_image: PinnedImage = Field(
        "amazon/aws-cli:2.27.9", description="the AWS CLI image that moves the dumps"
    )
    rclone_image: PinnedImage = Field(
        RCLONE_IMAGE, description="the rclone image that mirrors MinIO"
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise config_error(
                f"{value!r} is not a time zone name; use an IANA name like UTC or Europe/Berlin"
            ) from None
        return value


# Supabase's own schemas (its auth, storage, realtime, functions, vault and extension schemas):
# an import leaves them at Supabase, as `supabase db dump` does.
# Supabase's own schemas and those its extensions create (PostGIS's tiger and topology,
# TimescaleDB's, pg_repack's, database.dev's); pg_* are never taken.


class BackupsChecks:
    """The backups' checks against the services (a part of StackConfig)."""

    def _check_backups(self: StackConfig) -> None:
        services = self.services
        databases = (services.postgres, services.external_postgres, services.mariadb)
        if self.backups is not None and all(database is None for database in databases):
            raise config_error(
                "backups dump services.postgres, services.externalPostgres or services.mariadb, "
                "and none is configured; add one or remove backups",
                at="backups",
            )
