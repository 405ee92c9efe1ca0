"""Hetzner Cloud catalogue: the server types that can be ordered today and where.

The Pulumi provider exposes no prices and accepts any string as a type, so a retired or
misspelt type would only fail at the API, after the plan looked fine. This table lets the
config reject it up front. Source: Hetzner's server-type list as of 2026-11 (CX Gen2 and
CPX Gen1 were retired in 2025; `datacenter` was removed in 2026-07). Prices are indicative
EUR per month without VAT in the EU locations; `hcloud server-type list` is authoritative.
"""

from __future__ import annotations

from dataclasses import dataclass

EU_LOCATIONS = ("fsn1", "nbg1", "hel1")
ALL_LOCATIONS = (*EU_LOCATIONS, "ash", "hil", "sin")

# The network zone a location's servers join private networks in.
NETWORK_ZONES = {
    "fsn1": "eu-central",
    "nbg1": "eu-central",
    "hel1": "eu-central",
    "ash": "us-east",
    "hil": "us-west",
    "sin": "ap-southeast",
}

LOCATION_NAMES = {
    "fsn1": "Falkenstein, DE",
    "nbg1": "Nuremberg, DE",
    "hel1": "Helsinki, FI",
    "ash": "Ashburn, US-East",
    "hil": "Hillsboro, US-West",
    "sin": "Singapore",
}


@dataclass(frozen=True)
class ServerType:
    name: str
    family: str
    architecture: str
    vcpus: int
    memory_gb: int
    disk_gb: int
    eur_per_month: float
    locations: tuple[str, ...]

    @property
    def memory_mb(self) -> int:
        return self.memory_gb * 1024


def _family(
    family: str,
    architecture: str,
    locations: tuple[str, ...],
    rows: list[tuple[str, int, int, int, float]],
) -> dict[str, ServerType]:
    return {
        name: ServerType(name, family, architecture, vcpus, memory, disk, price, locations)
        for name, vcpus, memory, disk, price in rows
    }


SERVER_TYPES: dict[str, ServerType] = {
    # Cost-optimised shared x86, EU only.
    **_family(
        "cost-optimised x86 (CX)",
        "x86",
        EU_LOCATIONS,
        [
            ("cx23", 2, 4, 40, 3.99),
            ("cx33", 4, 8, 80, 6.49),
            ("cx43", 8, 16, 160, 11.99),
            ("cx53", 16, 32, 320, 22.49),
        ],
    ),
    # Regular shared x86 (AMD), every location.
    **_family(
        "regular shared x86 (CPX)",
        "x86",
        ALL_LOCATIONS,
        [
            ("cpx12", 1, 2, 40, 5.49),
            ("cpx22", 2, 4, 80, 7.99),
            ("cpx32", 4, 8, 160, 13.99),
            ("cpx42", 8, 16, 320, 25.49),
            ("cpx52", 12, 24, 480, 36.49),
            ("cpx62", 16, 32, 640, 50.49),
        ],
    ),
    # Shared Arm64 (Ampere), EU only.
    **_family(
        "shared Arm64 (CAX)",
        "arm",
        EU_LOCATIONS,
        [
            ("cax11", 2, 4, 40, 4.49),
            ("cax21", 4, 8, 80, 7.99),
            ("cax31", 8, 16, 160, 15.99),
            ("cax41", 16, 32, 320, 31.49),
        ],
    ),
    # Dedicated vCPU x86, every location.
    **_family(
        "dedicated x86 (CCX)",
        "x86",
        ALL_LOCATIONS,
        [
            ("ccx13", 2, 8, 80, 14.49),
            ("ccx23", 4, 16, 160, 28.49),
            ("ccx33", 8, 32, 240, 56.49),
            ("ccx43", 16, 64, 360, 112.49),
            ("ccx53", 32, 128, 600, 224.49),
            ("ccx63", 48, 192, 960, 336.49),
        ],
    ),
}

# Types that still appear in guides (the WMS seed orders a CPX21) but can no longer be ordered,
# mapped to the current type with the same shape.
RETIRED_SERVER_TYPES = {
    "cx11": "cx23",
    "cx21": "cx23",
    "cx22": "cx23",
    "cx31": "cx33",
    "cx32": "cx33",
    "cx41": "cx43",
    "cx42": "cx43",
    "cx51": "cx53",
    "cx52": "cx53",
    "cpx11": "cpx12",
    "cpx21": "cpx22",
    "cpx31": "cpx32",
    "cpx41": "cpx42",
    "cpx51": "cpx52",
}


def types_offered_in(location: str) -> list[str]:
    return [name for name, t in SERVER_TYPES.items() if location in t.locations]


@dataclass(frozen=True)
class LoadBalancerType:
    name: str
    max_services: int
    max_targets: int
    eur_per_month: float


# Hetzner's load balancer types (2026-11; indicative EUR per month without VAT, EU).
LOAD_BALANCER_TYPES = {
    lb.name: lb
    for lb in (
        LoadBalancerType("lb11", 5, 25, 5.39),
        LoadBalancerType("lb21", 15, 75, 16.40),
        LoadBalancerType("lb31", 30, 150, 32.90),
    )
}


# A Volume (block storage), per GB and month, in every location.
VOLUME_EUR_PER_GB = 0.044
