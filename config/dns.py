"""DNS: the Cloudflare zone's settings, and every hostname the stack serves."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import Field, model_validator

from config.apps import AppConfig
from config.base import HostEntry, Model
from config.fields import DomainName, config_error

if TYPE_CHECKING:
    from config.stack import StackConfig


class DnsConfig(Model):
    zone_name: DomainName | None = Field(
        None,
        description="the Cloudflare zone, looked up by name",
        json_schema_extra={"default_text": "the domain"},
    )
    zone_id: str | None = Field(
        None,
        pattern=r"^[0-9a-f]{32}$",
        description="the zone's id instead of a lookup (not with zoneName)",
    )
    manage_zone_settings: bool = Field(
        False,
        description="set SSL Full (strict), Always Use HTTPS and minimum TLS 1.2 on the whole "
        "zone; let one stack per zone do it (production here)",
    )
    ttl: int = Field(
        300,
        ge=60,
        le=86400,
        description="TTL of DNS-only records; proxied records always use automatic TTL",
    )
    ipv6: bool = Field(True, description="publish an AAAA record next to each A record")

    @model_validator(mode="after")
    def _one_zone_selector(self) -> DnsConfig:
        if self.zone_name is not None and self.zone_id is not None:
            raise config_error("give zoneName or zoneId, not both", at="zoneId")
        return self


@dataclass(frozen=True)
class ServedHostname:
    """One hostname the stack serves, with where in the config it comes from."""

    fqdn: str
    proxied: bool
    owner: str
    config_path: str


class Hostnames:
    """The stack's hostnames and where they point (a part of StackConfig)."""

    @property
    def zone_name(self: StackConfig) -> str:
        return self.dns.zone_name or self.domain

    @property
    def dashboard_url(self: StackConfig) -> str:
        return f"https://{self.fqdn(self.coolify.hostname.host)}"

    @property
    def minio_urls(self: StackConfig) -> tuple[str, str | None] | None:
        """The public S3 URL and the console's URL (None without a console)."""
        minio = self.services.minio
        if minio is None:
            return None
        console = minio.console_hostname
        return (
            f"https://{self.fqdn(minio.hostname.host)}",
            f"https://{self.fqdn(console.host)}" if console else None,
        )

    @property
    def status_url(self: StackConfig) -> str:
        """Uptime Kuma's URL (the config has it)."""
        assert self.services.uptime_kuma is not None
        return f"https://{self.fqdn(self.services.uptime_kuma.hostname.host)}"

    def app_url(self: StackConfig, app: AppConfig) -> str | None:
        """The app's public URL: its first domain."""
        return f"https://{self.fqdn(app.domains[0].host)}" if app.domains else None

    def app_health_urls(self: StackConfig) -> dict[str, tuple[str, bool]]:
        """What monitoring checks of each app with a domain: (its health path, True), or
        (its /, False)."""
        return {
            app.name: (f"{url}{app.health.path if app.health else '/'}", app.health is not None)
            for app in self.apps
            if (url := self.app_url(app))
        }

    def fqdn(self: StackConfig, host: str) -> str:
        if host in ("@", self.domain):
            return self.domain
        if host.endswith("." + self.domain):
            return host
        return f"{host}.{self.domain}"

    def _host_entries(self: StackConfig) -> Iterator[tuple[HostEntry, bool, str, str]]:
        """(entry, default proxied, owner, config path) for every hostname in the config."""
        yield self.coolify.hostname, False, "coolify dashboard", "coolify.hostname"
        minio = self.services.minio
        if minio is not None:
            yield minio.hostname, True, "minio S3 API", "services.minio.hostname"
            if minio.console_hostname is not None:
                path = "services.minio.consoleHostname"
                yield minio.console_hostname, False, "minio console", path
        kuma = self.services.uptime_kuma
        if kuma is not None:
            yield (
                kuma.hostname,
                True,
                "uptime-kuma status page",
                "services.uptimeKuma.hostname",
            )
        for app_index, app in enumerate(self.apps):
            for domain_index, entry in enumerate(app.domains):
                yield (
                    entry,
                    True,
                    f"app {app.name}",
                    f"apps[{app_index}].domains[{domain_index}]",
                )

    def served_hostnames(self: StackConfig) -> list[ServedHostname]:
        """Every hostname the stack serves, in config order (validated unique)."""
        return [
            ServedHostname(
                fqdn=self.fqdn(entry.host),
                proxied=default if entry.proxied is None else entry.proxied,
                owner=owner,
                config_path=path,
            )
            for entry, default, owner, path in self._host_entries()
        ]

    def _check_zone(self: StackConfig) -> None:
        zone = self.zone_name
        if self.domain != zone and not self.domain.endswith("." + zone):
            raise config_error(
                f"the domain {self.domain!r} is not inside the Cloudflare zone {zone!r}; "
                "fix dns.zoneName or the domain",
                at="domain",
            )

    def _check_hostnames(self: StackConfig) -> None:
        zone = self.zone_name
        seen: dict[str, ServedHostname] = {}
        for served in self.served_hostnames():
            if served.fqdn in seen:
                first = seen[served.fqdn]
                raise config_error(
                    f"{served.fqdn} is served twice: by the {first.owner} ({first.config_path}) "
                    f"and by the {served.owner}; give each a hostname of its own",
                    at=served.config_path,
                )
            seen[served.fqdn] = served
            # Every name ends in the domain, which lies inside the zone (checked above).
            below_zone = served.fqdn.removesuffix(zone).rstrip(".")
            if served.proxied and "." in below_zone:
                flat = f"{below_zone.replace('.', '-')}.{zone}"
                raise config_error(
                    f"{served.fqdn} is proxied but lies more than one level below the zone "
                    f"{zone}; Cloudflare's Universal SSL certificate covers one level only, so "
                    f"browsers would get a certificate error. Use a name directly under {zone} "
                    f"(e.g. {flat}) or set proxied: false",
                    at=served.config_path,
                )
