"""A Hetzner Volume on the server: a systemd mount unit for it, and a drop-in that makes Docker
require the mount, so after a reboot no container starts on the empty folder underneath (and
writes a service's data to the server's own disk). The tests load both with `systemd-analyze
verify`."""

from __future__ import annotations

import re

from render.backups import unit_text

MOUNT_ROOT = "/mnt/volumes"
UNITS_DIR = "/etc/systemd/system"


def mount_path(service: str) -> str:
    """Where a service's volume is mounted: /mnt/volumes/<service> (a name of a-z only, so
    that the mount unit's name needs no escaping)."""
    assert re.fullmatch("[a-z]+", service), service
    return f"{MOUNT_ROOT}/{service}"


def data_path(service: str) -> str:
    """The folder on the volume the service's container mounts: below the mount point, whose
    lost+found would otherwise be in the service's data."""
    return f"{mount_path(service)}/data"


def device(volume_id: str) -> str:
    """The volume's device, by the name Hetzner's disks have on every image."""
    return f"/dev/disk/by-id/scsi-0HC_Volume_{volume_id}"


def mount_unit_name(service: str) -> str:
    return mount_path(service).strip("/").replace("/", "-") + ".mount"


def mount_unit(service: str, volume_id: str, filesystem: str) -> str:
    return unit_text(
        [
            (
                "Unit",
                [
                    ("Description", f"Hetzner Volume {volume_id}: {service}'s data"),
                    ("Before", "docker.service"),
                ],
            ),
            (
                "Mount",
                [
                    ("What", device(volume_id)),
                    ("Where", mount_path(service)),
                    ("Type", filesystem),
                    ("Options", "defaults,discard"),
                ],
            ),
            ("Install", [("WantedBy", "multi-user.target")]),
        ]
    )


def docker_dropin_path(service: str) -> str:
    return f"{UNITS_DIR}/docker.service.d/platform-volume-{service}.conf"


def docker_dropin(service: str) -> str:
    """Docker starts only with the volume mounted: a volume that fails to mount stops every
    container, loudly, rather than letting the service start afresh on an empty folder."""
    return unit_text([("Unit", [("RequiresMountsFor", mount_path(service))])])
