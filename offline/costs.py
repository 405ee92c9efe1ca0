"""The stack's estimated monthly cost, beside what its seed system pays for managed services.

Indicative EUR without VAT, from the Hetzner catalogue (config/hetzner.py); Hetzner's own
price list is authoritative. The seeds' figures are quoted from their guides, in USD as they
give them.
"""

from __future__ import annotations

from dataclasses import dataclass

from config import ServerConfig, StackConfig
from config.hetzner import LOAD_BALANCER_TYPES, VOLUME_EUR_PER_GB

BACKUP_SHARE = 0.20  # Hetzner's server backups: 20% of the server's price
PRIMARY_IPV4_EUR = 0.50  # a primary IPv4 is billed on top of the server since 2024-02


@dataclass(frozen=True)
class CostLine:
    item: str
    eur_per_month: float
    note: str = ""


@dataclass(frozen=True)
class ManagedService:
    """One line of a seed's managed bill, in USD per month as its guide gives it."""

    name: str
    usd: tuple[int, int]  # low, high: a guide may give a range
    database: bool = False  # the managed PostgreSQL: kept where the stack keeps it

    @property
    def shown(self) -> str:
        low, high = self.usd
        return f"${low}" if low == high else f"${low}-{high}"


@dataclass(frozen=True)
class Baseline:
    """What a seed system pays for managed services, as its guide says."""

    services: tuple[ManagedService, ...]
    source: str

    def replaced_by(self, config: StackConfig) -> tuple[list[ManagedService], list[ManagedService]]:
        """(what the stack replaces, what it keeps): a stack on an external PostgreSQL keeps
        the managed database and goes on paying for it."""
        keeps = config.services.external_postgres is not None
        kept = [service for service in self.services if service.database and keeps]
        return [service for service in self.services if service not in kept], kept


def usd_range(services: list[ManagedService]) -> str:
    low, high = sum(s.usd[0] for s in services), sum(s.usd[1] for s in services)
    return f"USD {low}" if low == high else f"USD {low}-{high}"


SEED_BASELINES = {
    "tour-crm": Baseline(
        (
            ManagedService("Supabase Pro PostgreSQL", (25, 25), database=True),
            ManagedService("storage, hosting and add-ons", (20, 45)),
        ),
        'seeds/tour-crm-infrastructure-master-plan.md, "CURRENT -> TARGET"',
    ),
    "masstock": Baseline(
        (
            ManagedService("Supabase Pro", (25, 25), database=True),
            ManagedService("Render Starter web", (7, 7)),
            ManagedService("Render Starter worker", (7, 7)),
            ManagedService("Upstash Redis", (10, 10)),
        ),
        'seeds/masstock-render-supabase-redis.md, "Production" costs',
    ),
    "ultimatepos": Baseline(
        (
            ManagedService("Vercel Pro", (20, 20)),
            ManagedService("Supabase Pro", (25, 25), database=True),
        ),
        'seeds/ultimatepos-vercel-supabase.md, "Production" tier',
    ),
}
# The stacks of this repository run the Tour CRM seed.
STACK_SEEDS = {"production": "tour-crm", "staging": "tour-crm"}


def _server_lines(server: ServerConfig, labels: tuple[str, str, str]) -> list[CostLine]:
    """A server, its primary IPv4 and its backups, under these labels."""
    spec = server.spec
    lines = [CostLine(labels[0], spec.eur_per_month), CostLine(labels[1], PRIMARY_IPV4_EUR)]
    if server.backups:
        lines.append(CostLine(labels[2], spec.eur_per_month * BACKUP_SHARE))
    return lines


def monthly_cost(config: StackConfig) -> list[CostLine]:
    lines: list[CostLine] = []
    for host in config.hosts.all:
        name = f"{host.title} {host.server.spec.name}"
        lines += _server_lines(
            host.server,
            (name, "primary IPv4", "Hetzner backups (7 daily images)")
            if host.role == "main"
            else (name, "its primary IPv4", "its Hetzner backups"),
        )
    if (balancing := config.hosts.load_balancing) is not None:
        balancer = LOAD_BALANCER_TYPES[balancing.config.type]
        lines.append(
            CostLine(f"load balancer {balancer.name}", balancer.eur_per_month, "its IPv4 included")
        )
    volumes = config.volume_needs()
    for service, volume, _ in volumes:
        size = volume.size_gb
        lines.append(CostLine(f"volume for {service}, {size} GB", size * VOLUME_EUR_PER_GB,
                              f"{VOLUME_EUR_PER_GB} per GB"))  # fmt: skip
    if not volumes:
        lines.append(CostLine("volumes", 0.0, "none: all data on the servers' local disks"))
    if config.backups is None:
        lines.append(CostLine("off-site backup storage", 0.0, "not configured: no backups"))
    else:
        hourly = config.backups.hourly
        kept = f"{config.backups.retention_days} daily" + (
            f" and up to {hourly.retention_hours} hourly" if hourly else ""
        )
        mirror = ", and MinIO's files" if config.minio_bucket_names() else ""
        lines.append(
            CostLine(
                "off-site backup storage",
                0.0,
                f"by use: Backblaze B2 bills $6 per TB-month for {kept} dumps{mirror}; the "
                "master plan expects about $1/month",
            )
        )
    if config.services.external_postgres is not None:
        lines.append(CostLine("external PostgreSQL", 0.0, "billed by its provider (e.g. Supabase)"))
    return lines


def baseline(stack: str) -> Baseline | None:
    return SEED_BASELINES.get(STACK_SEEDS.get(stack, stack))
