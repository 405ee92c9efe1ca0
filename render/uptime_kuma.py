"""Uptime Kuma as a Coolify service, with its monitors as code.

Uptime Kuma has no configuration file and no REST API for its monitors, so the service runs
AutoKuma beside it: AutoKuma reads one JSON file per monitor or notification channel (its
"static monitors"), creates what is new, updates what changed and deletes what is gone, on
every start and every minute. The stack writes those files into the compose file, so a
`pulumi up` that changes the config changes the files, Coolify restarts the service, and the
monitors follow. A one-shot container creates Kuma's admin user first (render/files/
kuma-setup.js), with the stack's generated password, for AutoKuma to log in with.

Field names are those of AutoKuma's models (kuma-client/src/models, v2.0.0, which takes Kuma's
own names: maxretries, retryInterval, pushToken, notification_name_list, ...).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config.backups import NotificationConfig
from config.budgets import AUTOKUMA_MB
from render.coolify_files import mounted_folder

PORT = 3001
USERNAME = "admin"
SETUP_SCRIPT = Path(__file__).parent / "files" / "kuma-setup.js"
MONITORS_DIR = "/autokuma/static-monitors"
SETUP_DIR = "/setup"
# The master plan's monitor settings: every minute, down after 3 retries 30 s apart.
INTERVAL, RETRY_INTERVAL, MAX_RETRIES = 60, 30, 3


# The statuses an HTTP monitor takes for up: Kuma's default, and any answer of an app that has
# no health path (its `/` may well be a 404 or a 401, and the app is up all the same).
HEALTHY, ANSWERS = ("200-299",), ("200-499",)


@dataclass(frozen=True)
class HttpCheck:
    id: str
    name: str
    url: str
    interval: int = INTERVAL
    up_statuses: tuple[str, ...] = HEALTHY


@dataclass(frozen=True)
class PortCheck:
    id: str
    name: str
    hostname: str
    port: int


@dataclass(frozen=True)
class PushCheck:
    """A job reports to it; it alerts when a report says down, or when none came in time."""

    id: str
    name: str
    token: str  # 32 letters and digits (Kuma's and AutoKuma's rule)
    interval: int  # seconds: longer than the time between two runs of the job


Check = HttpCheck | PortCheck | PushCheck


def monitor(check: Check, notifications: list[str]) -> dict[str, Any]:
    """The check as an AutoKuma monitor file."""
    common: dict[str, Any] = {
        "name": check.name,
        "interval": check.interval if isinstance(check, HttpCheck | PushCheck) else INTERVAL,
        "retryInterval": RETRY_INTERVAL,
        "maxretries": MAX_RETRIES,
        "notification_name_list": notifications,
    }
    if isinstance(check, HttpCheck):
        # accepted_statuscodes: kuma-client/src/models/monitor.rs:127-130 (AutoKuma v2.0.0).
        return {"type": "http", **common, "url": check.url,
                "accepted_statuscodes": list(check.up_statuses)}  # fmt: skip
    if isinstance(check, PortCheck):
        return {"type": "port", **common, "hostname": check.hostname, "port": check.port}
    # A push monitor alerts once its interval passes without a push: no retries.
    return {"type": "push", **common, "maxretries": 0, "pushToken": check.token}


def notification(config: NotificationConfig, secrets: dict[str, str]) -> dict[str, Any]:
    """The channel as an AutoKuma notification file (Kuma's provider settings in `config`);
    `secrets` are the values of the secret config bag it names."""
    settings: dict[str, Any]
    if config.slack is not None:
        settings = {"type": "slack", "slackwebhookURL": secrets[config.slack.webhook_url.secret]}
    elif config.discord is not None:
        settings = {
            "type": "discord",
            "discordWebhookUrl": secrets[config.discord.webhook_url.secret],
        }
    else:
        email = config.email
        assert email is not None  # one channel: checked by the config
        settings = {
            "type": "smtp",
            "smtpHost": email.host,
            "smtpPort": email.port,
            "smtpSecure": email.secure,
            "smtpUsername": email.username or "",
            "smtpPassword": secrets[email.password.secret] if email.password else "",
            "smtpFrom": email.sender,
            "smtpTo": email.to,
        }
    return {
        "type": "notification",
        "name": config.name,
        "active": True,
        "isDefault": True,  # preselected for monitors added by hand in the dashboard
        "config": {"name": config.name, **settings},
    }


def static_files(
    checks: list[Check], notifications: list[NotificationConfig], secrets: dict[str, str]
) -> dict[str, str]:
    """AutoKuma's files: <id>.json -> text. A notification's id is its name, a monitor's the
    check's id; every monitor alerts every channel."""
    names = [channel.name for channel in notifications]
    files = {f"{c.name}.json": notification(c, secrets) for c in notifications}
    files |= {f"{check.id}.json": monitor(check, names) for check in checks}
    return {name: json.dumps(body, indent=2, sort_keys=True) + "\n" for name, body in files.items()}


def uptime_kuma_compose(
    *,
    image: str,
    autokuma_image: str,
    memory_mb: int,
    password: str,
    files: dict[str, str],
) -> dict[str, Any]:
    """Uptime Kuma with its SQLite database on a volume, the admin setup, and AutoKuma with
    the monitor files. No port is published: Coolify's proxy serves Kuma at its hostname."""
    kuma_url = f"http://uptime-kuma:{PORT}"
    login = {"KUMA_URL": kuma_url, "KUMA_USERNAME": USERNAME, "KUMA_PASSWORD": password}
    # Folders named after their files (mounted_folder): a changed monitor, notification or
    # setup script reaches the containers; the monitors keep their names, so their ids.
    setup_folder, setup_volumes = mounted_folder(
        "./setup", SETUP_DIR, {"kuma-setup.js": SETUP_SCRIPT.read_text()}
    )
    monitors_folder, monitor_volumes = mounted_folder("./monitors", MONITORS_DIR, files)
    return {
        "services": {
            "uptime-kuma": {
                "image": image,
                "restart": "unless-stopped",
                "mem_limit": f"{memory_mb}m",
                "volumes": ["uptime-kuma-data:/app/data"],
                # The image's own health check, more often than its 60 s.
                "healthcheck": {
                    "test": ["CMD", "extra/healthcheck"],
                    "interval": "10s",
                    "timeout": "10s",
                    "retries": 30,
                },
            },
            "kuma-setup": {
                "image": image,
                "restart": "no",
                "depends_on": {"uptime-kuma": {"condition": "service_healthy"}},
                "entrypoint": ["node", f"{setup_folder}/kuma-setup.js"],
                "environment": {**login, "NODE_PATH": "/app/node_modules"},
                "volumes": setup_volumes,
            },
            "autokuma": {
                "image": autokuma_image,
                "restart": "unless-stopped",
                "mem_limit": f"{AUTOKUMA_MB}m",
                "depends_on": {"kuma-setup": {"condition": "service_completed_successfully"}},
                "environment": {
                    "AUTOKUMA__KUMA__URL": kuma_url,
                    "AUTOKUMA__KUMA__USERNAME": USERNAME,
                    "AUTOKUMA__KUMA__PASSWORD": password,
                    "AUTOKUMA__STATIC_MONITORS": monitors_folder,
                    "AUTOKUMA__DOCKER__ENABLED": "false",
                    "AUTOKUMA__ON_DELETE": "delete",  # a monitor gone from the config goes
                },
                "volumes": ["autokuma-data:/data", *monitor_volumes],
            },
        },
        "volumes": {"uptime-kuma-data": {}, "autokuma-data": {}},
    }


def push_url(base_url: str, token: str) -> str:
    """Where a push monitor hears from its job (the job adds ?status=...&msg=...)."""
    return f"{base_url}/api/push/{token}"
