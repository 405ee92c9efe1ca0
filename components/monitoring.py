"""Monitoring: Uptime Kuma on the server, at its status hostname, with its monitors and alert
channels as code (render/uptime_kuma.py): HTTP on each app's health path, TCP on the data
services, MinIO's health URL, and push monitors for the scheduled jobs.

The push tokens are generated here, so the jobs know their URLs before the monitors exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_random as random

from components.data import Probe
from config import UptimeKumaConfig
from coolify.resources import Connection, Service
from render.uptime_kuma import (
    ANSWERS,
    HEALTHY,
    PORT,
    USERNAME,
    Check,
    HttpCheck,
    PortCheck,
    PushCheck,
    push_url,
    static_files,
    uptime_kuma_compose,
)
from render.yaml_text import dump_yaml

# Push monitors: name -> what reports to it.
PUSH_MONITORS = {"backup": "Database dumps", "drill": "Restore drill", "mirror": "MinIO mirror"}


class Monitoring(pulumi.ComponentResource):
    url: str
    username: str
    password: pulumi.Output[str]  # secret: the dashboard's admin logs in with it
    push_urls: dict[str, pulumi.Output[str]]  # monitor -> its push URL (secret: the token)

    def __init__(
        self,
        name: str,
        *,
        uptime_kuma: UptimeKumaConfig,
        url: str,
        app_urls: Mapping[str, tuple[str, bool]],
        probes: list[Probe],
        push_intervals: Mapping[str, int],
        secrets: pulumi.Output[Any] | None,
        connection: Connection,
        placement: Mapping[str, pulumi.Input[str]],
        protect: bool,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`app_urls`: app -> (the URL to check, whether it is a health path: else any
        answer below 500 is up); `push_intervals`: push monitor -> how long it
        waits for a report (seconds); `secrets`: the config bag the alert channels name."""
        super().__init__("platform:index:Monitoring", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        password = random.RandomPassword(
            f"{name}-admin-password", length=32, special=False, opts=child
        )
        tokens = {
            monitor: random.RandomPassword(
                f"{name}-{monitor}-push-token", length=32, special=False, opts=child
            ).result
            for monitor in push_intervals
        }

        def compose(values: dict[str, Any]) -> str:
            checks: list[Check] = [
                HttpCheck(f"app-{app}", f"App {app}", check_url,
                          up_statuses=HEALTHY if health_path else ANSWERS)
                for app, (check_url, health_path) in app_urls.items()
            ]  # fmt: skip
            for probe, host in zip(probes, values["hosts"], strict=True):
                slug = probe.name.lower()
                if probe.http_path is None:
                    checks.append(PortCheck(slug, probe.name, host, probe.port))
                else:
                    target = f"http://{host}:{probe.port}{probe.http_path}"
                    checks.append(HttpCheck(slug, probe.name, target))
            checks += [
                PushCheck(f"push-{monitor}", PUSH_MONITORS[monitor], token, push_intervals[monitor])
                for monitor, token in values["tokens"].items()
            ]
            files = static_files(checks, uptime_kuma.notifications, values["secrets"] or {})
            return dump_yaml(
                uptime_kuma_compose(
                    image=uptime_kuma.image,
                    autokuma_image=uptime_kuma.autokuma_image,
                    memory_mb=uptime_kuma.memory_mb,
                    password=values["password"],
                    files=files,
                )
            )

        inputs: dict[str, Any] = {
            "hosts": [probe.host for probe in probes],
            "tokens": tokens,
            "password": password.result,
            "secrets": secrets,
        }
        rendered: pulumi.Output[str] = pulumi.Output.from_input(inputs).apply(compose)
        # Its monitors and their history live in its volumes: kept like the data services'.
        Service(
            f"{name}-uptime-kuma",
            connection=connection,
            props={
                **placement,
                "name": "uptime-kuma",
                "description": "Uptime Kuma monitoring (managed by Pulumi)",
                "compose": pulumi.Output.secret(rendered),
                "urls": [{"name": "uptime-kuma", "url": f"{url}:{PORT}"}],
                "delete_volumes": False,
            },
            opts=pulumi.ResourceOptions(parent=self, protect=protect),
        )
        self.url = url
        self.username = USERNAME
        self.password = pulumi.Output.secret(password.result)
        self.push_urls = {
            monitor: pulumi.Output.secret(token.apply(lambda value: push_url(url, value)))
            for monitor, token in tokens.items()
        }
        self.register_outputs({"url": url})
