"""Monitoring: Uptime Kuma on the server, at its status hostname, and the tokens of the push
monitors the scheduled jobs report to (a monitor that hears nothing in time alerts too).

The push tokens are generated here, so the jobs know their URLs before the monitors exist.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_random as random

from config.model import UptimeKumaConfig
from coolify.resources import Connection, Service
from render.uptime_kuma import PORT, push_url, uptime_kuma_compose
from render.yaml_text import dump_yaml

# Push monitors: name -> what reports to it.
PUSH_MONITORS = {
    "backup": "the PostgreSQL dumps (daily and hourly)",
    "drill": "the restore drill",
}


class Monitoring(pulumi.ComponentResource):
    url: str
    push_urls: dict[str, pulumi.Output[str]]  # monitor -> its push URL (secret: the token)

    def __init__(
        self,
        name: str,
        *,
        uptime_kuma: UptimeKumaConfig,
        url: str,
        connection: Connection,
        placement: Mapping[str, pulumi.Input[str]],
        protect: bool,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("platform:index:Monitoring", name, None, opts)
        # Its monitors and their history live in its volume: kept like the data services'.
        Service(
            f"{name}-uptime-kuma",
            connection=connection,
            props={
                **placement,
                "name": "uptime-kuma",
                "description": "Uptime Kuma monitoring (managed by Pulumi)",
                "compose": dump_yaml(
                    uptime_kuma_compose(image=uptime_kuma.image, memory_mb=uptime_kuma.memory_mb)
                ),
                "urls": [{"name": "uptime-kuma", "url": f"{url}:{PORT}"}],
                "delete_volumes": False,
            },
            opts=pulumi.ResourceOptions(parent=self, protect=protect),
        )
        self.url = url
        self.push_urls = {}
        for monitor in PUSH_MONITORS:
            token = random.RandomPassword(
                f"{name}-{monitor}-push-token",
                length=32,
                special=False,
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.push_urls[monitor] = pulumi.Output.secret(
                token.result.apply(lambda value: push_url(url, value))
            )
        self.register_outputs({"url": url})
