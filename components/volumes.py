"""A Hetzner Volume for a service's data (render/volumes.py): the volume, its attachment to the
server the service runs on, and a step that mounts it there before the service starts.

The volume outlives its server: a replaced server gets the same volume attached, with the data
on it. It is protected like the server (Hetzner's delete protection and Pulumi's), and Pulumi
never deletes it: removed from the config or from the stack, it leaves the state and stays in
the Hetzner project, billed, until someone deletes it there."""

from __future__ import annotations

import pulumi
import pulumi_command as command
import pulumi_hcloud as hcloud

from components.remote import remote_step
from config import VolumeConfig
from render.remote import remote_script
from render.volumes import (
    data_path,
    device,
    docker_dropin,
    docker_dropin_path,
    mount_path,
    mount_unit,
    mount_unit_name,
)

# The Docker volume a service's data is in without a Hetzner Volume: Coolify names a service's
# `<service uuid>_<volume>` and a database's `<engine>-data-<uuid>` (StandalonePostgresql.php:107
# at v4.3.10).
DOCKER_VOLUMES = {"minio": "_minio-data$", "postgres": "^postgres-data-"}


class DataVolume(pulumi.ComponentResource):
    """`data_path`: the folder on the volume the service's container mounts; `mounted`: what
    the service must wait for."""

    def __init__(
        self,
        name: str,
        *,
        service: str,
        volume: VolumeConfig,
        hostname: str,
        location: str,
        server_id: pulumi.Input[str],
        ssh: command.remote.ConnectionArgs,
        labels: dict[str, str],
        protect: bool,
        after: list[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("platform:index:DataVolume", name, None, opts)
        hetzner_volume = hcloud.Volume(
            f"{name}-volume",
            name=f"{hostname}-{service}",
            size=volume.size_gb,
            format=volume.filesystem,
            location=location,
            automount=False,  # mounted by the step below, by a unit that Docker requires
            delete_protection=protect,
            labels={**labels, "service": service},
            opts=pulumi.ResourceOptions(parent=self, protect=protect, retain_on_delete=True),
        )
        attachment = hcloud.VolumeAttachment(
            f"{name}-attachment",
            volume_id=hetzner_volume.id.apply(int),
            server_id=pulumi.Output.from_input(server_id).apply(int),
            automount=False,
            opts=pulumi.ResourceOptions(parent=self),
        )

        def mount(values: list[object]) -> str:
            volume_id, size = str(values[0]), str(values[1])
            return remote_script(
                "mount-volume",
                ROOT="/",
                DEVICE=device(volume_id),
                SIZE_GB=size,
                FILESYSTEM=volume.filesystem,
                MOUNT_PATH=mount_path(service),
                MOUNT_UNIT_NAME=mount_unit_name(service),
                MOUNT_UNIT=mount_unit(service, volume_id, volume.filesystem),
                DROPIN_PATH=docker_dropin_path(service),
                DROPIN=docker_dropin(service),
                DATA_DIR=data_path(service),
                DOCKER_VOLUME_PATTERN=DOCKER_VOLUMES[service],
            )

        self.data_path = data_path(service)
        # Runs again when the size changes, to grow the filesystem.
        self.mounted = remote_step(
            f"{name}-mount",
            connection=ssh,
            create=pulumi.Output.all(hetzner_volume.id, hetzner_volume.size).apply(mount),
            server_id=server_id,
            after=[attachment, *after],
            parent=self,
        )
        self.volume_id = hetzner_volume.id
        self.register_outputs({"volumeId": hetzner_volume.id})
