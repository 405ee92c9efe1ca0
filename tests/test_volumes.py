"""Hetzner Volumes for MinIO's data (issue 16, point 5): the volume and its mount in the stack,
the mount step run into a scratch root against a real ext4 image (blkid, resize2fs), its units
checked by `systemd-analyze verify`, and the disk budget and cost in the config and the plan."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from config.errors import ConfigError
from offline.engine import reveal
from offline.plan import plan
from render import volumes as render
from render.backups import bundle
from render.remote import remote_script, required_params
from tests.backup_host import Host, verify_root
from tests.support import evaluate_config, run, tour_crm_config, with_value


def with_minio_volume(**volume: Any) -> dict[str, Any]:
    config = with_value(tour_crm_config(), "services.minio.volume", {"sizeGb": 200, **volume})
    return with_value(config, "services.minio.dataGb", 100)


def test_minio_keeps_its_data_on_a_protected_volume_mounted_before_it_starts() -> None:
    recording = evaluate_config(with_minio_volume())
    assert recording.error is None, recording.error
    volume = recording.named("minio-volume-volume")
    assert volume.protect
    assert {key: volume.inputs[key] for key in ("size", "format", "location", "automount")} == {
        "size": 200, "format": "ext4", "location": "fsn1", "automount": False,
    }  # fmt: skip
    assert volume.inputs["deleteProtection"] is True
    attachment = recording.named("minio-volume-attachment")
    assert attachment.inputs["serverId"] == int(recording.named("server-server").id or 0)
    mount = recording.named("minio-volume-mount")
    assert attachment.urn in mount.dependencies
    script = reveal(mount.inputs["create"])
    assert f"DEVICE=/dev/disk/by-id/scsi-0HC_Volume_{volume.id}\n" in script
    minio = recording.named("data-minio")
    assert mount.urn in minio.dependencies  # started only once the volume is mounted
    compose = yaml.safe_load(reveal(minio.inputs["compose"]))
    assert compose["services"]["minio"]["volumes"] == ["/mnt/volumes/minio/data:/data"]
    assert "volumes" not in compose  # no Docker volume beside it


def test_without_a_volume_minio_keeps_a_docker_volume() -> None:
    recording = evaluate_config(tour_crm_config())
    compose = yaml.safe_load(reveal(recording.named("data-minio").inputs["compose"]))
    assert compose["services"]["minio"]["volumes"] == ["minio-data:/data"]
    assert not [r for r in recording.resources if r.name.startswith("minio-volume")]


def test_the_disk_budget_asks_for_a_volume_when_the_data_outgrows_the_disk() -> None:
    config = with_value(tour_crm_config(), "services.minio.dataGb", 200)  # the plan's 200 GB
    recording = evaluate_config(config)
    assert isinstance(recording.error, ConfigError)
    assert recording.resources == []
    (problem,) = recording.error.problems
    assert problem.startswith(
        "platform:server.type: the stack keeps about 229 GB on the cx43's disk, over the 136 GB "
        "(85% of 160 GB) at which Coolify alerts. Give MinIO a volume "
        "(services.minio.volume.sizeGb), or PostgreSQL a volume (services.postgres.volume."
        "sizeGb), choose a type with a larger disk, or expect less data (dataGb):\n"
    )
    assert "      minio data               200 GB\n" in problem
    # A database server's disk: PostgreSQL's data could move, MinIO is not there.
    database_server = with_value(tour_crm_config(), "databaseServer", {"type": "cx33"})
    database_server = with_value(database_server, "network", {})
    database_server = with_value(database_server, "services.postgres.dataGb", 60)
    (problem,) = evaluate_config(database_server).error.problems  # type: ignore[union-attr]
    assert problem.startswith("platform:databaseServer.type: the stack keeps about")
    assert "alerts. Give PostgreSQL a volume (services.postgres.volume.sizeGb), choose a type" in (
        problem
    )
    small = evaluate_config(with_value(with_minio_volume(sizeGb=100), "services.minio.dataGb", 90))
    assert isinstance(small.error, ConfigError)
    assert small.error.problems == [
        "platform:services.minio.volume.sizeGb: minio is to keep 90 GB on its volume, but 85% "
        "of 100 GB is 85 GB; give the volume at least 106 GB, or expect less data (dataGb)"
    ]


def test_the_plan_shows_the_disk_budget_the_volume_and_its_cost() -> None:
    text = plan("production").text
    assert "Disk budget (cx43: 160 GB, estimates)" in text
    assert "minio: 100 GB on a 200 GB Hetzner Volume (ext4), mounted at /mnt/volumes/minio" in text
    assert "volume for minio, 200 GB          8.80   0.044 per GB" in text


# --- the mount step on the server -----------------------------------------------------------

VOLUME_ID = "100200300"
DOCKER = r"""#!/bin/sh
# Stand-in for `docker volume ls -q` and `docker volume inspect`: the volumes in $VOLUMES.
case "$1 $2" in
  "volume ls") cat "$VOLUMES" 2>/dev/null || true ;;
  "volume inspect") echo "/var/lib/docker/volumes/$5/_data" ;;
esac
"""


def mount_host(tmp_path: Path, size_mb: int = 20, filesystem: str = "ext4") -> Host:
    host = Host(tmp_path)
    docker = host.bin / "docker"
    docker.write_text(DOCKER)
    image = host.root / render.device(VOLUME_ID).lstrip("/")
    image.parent.mkdir(parents=True)
    subprocess.run(["truncate", "-s", f"{size_mb}M", str(image)], check=True)
    if filesystem:
        subprocess.run([f"mkfs.{filesystem}", "-q", "-F", str(image)], check=True)
    (host.root / "etc/systemd/system").mkdir(parents=True)
    return host


def mount(host: Host) -> Any:
    script = remote_script(
        "mount-volume",
        ROOT=str(host.root),
        DEVICE=render.device(VOLUME_ID),
        SIZE_GB="200",
        FILESYSTEM="ext4",
        MOUNT_PATH=render.mount_path("minio"),
        MOUNT_UNIT_NAME=render.mount_unit_name("minio"),
        MOUNT_UNIT=render.mount_unit("minio", VOLUME_ID, "ext4"),
        DROPIN_PATH=render.docker_dropin_path("minio"),
        DROPIN=render.docker_dropin("minio"),
        DATA_DIR=render.data_path("minio"),
        DOCKER_VOLUME_PATTERN="_minio-data$",
    )
    # blkid and resize2fs are in sbin, on root's PATH.
    path = f"{host.bin}:/usr/bin:/bin:/usr/sbin:/sbin"
    return run(["bash", "-c", script], env=host.env(VOLUMES=str(host.state / "volumes"), PATH=path))


def test_the_volume_is_mounted_by_a_unit_docker_requires_and_again_changes_nothing(
    tmp_path: Path,
) -> None:
    host = mount_host(tmp_path)
    first = mount(host)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[-1] == "/mnt/volumes/minio mounted: a 200 GB volume, ext4"
    assert host.systemctl() == ["daemon-reload", "enable --now --quiet mnt-volumes-minio.mount"]
    files = {str(p.relative_to(host.root)): p.read_text() for p in host.root.rglob("*.*")
             if p.is_file() and "systemd" in str(p)}  # fmt: skip
    assert set(files) == {
        "etc/systemd/system/mnt-volumes-minio.mount",
        "etc/systemd/system/docker.service.d/platform-volume-minio.conf",
    }
    assert (host.root / "mnt/volumes/minio/data").is_dir()
    second = mount(host)
    assert second.returncode == 0, second.stderr
    again = {str(p.relative_to(host.root)): p.read_text() for p in host.root.rglob("*.*")
             if p.is_file() and "systemd" in str(p)}  # fmt: skip
    assert again == files


def test_a_grown_volume_grows_its_filesystem(tmp_path: Path) -> None:
    host = mount_host(tmp_path)
    image = host.root / render.device(VOLUME_ID).lstrip("/")
    subprocess.run(["truncate", "-s", "40M", str(image)], check=True)
    result = mount(host)
    assert result.returncode == 0, result.stderr
    assert "is now 40960 (1k) blocks long" in result.stdout


def test_a_device_without_the_filesystem_is_never_formatted(tmp_path: Path) -> None:
    host = mount_host(tmp_path, filesystem="")
    result = mount(host)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"{render.device(VOLUME_ID)} holds no filesystem, not ext4; it is not formatted here"
    )
    assert host.systemctl() == []


def test_data_left_in_minios_docker_volume_stops_the_switch(tmp_path: Path) -> None:
    host = mount_host(tmp_path)
    (host.state / "volumes").write_text("abc123_minio-data\nother_redis-data\n")
    old = host.root / "var/lib/docker/volumes/abc123_minio-data/_data/tour-images"
    old.mkdir(parents=True)
    (old / "photo.jpg").write_text("x")
    result = mount(host)
    assert result.returncode == 1
    assert "the Docker volume abc123_minio-data holds the service's data" in result.stderr
    assert "sudo cp -a /var/lib/docker/volumes/abc123_minio-data/_data/. " in result.stderr
    (host.root / "mnt/volumes/minio/data/tour-images").mkdir()  # copied: it goes on
    assert mount(host).returncode == 0


def test_the_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    verify_root(tmp_path, bundle({}))
    unit = tmp_path / "etc/systemd/system" / render.mount_unit_name("minio")
    unit.parent.mkdir(parents=True, exist_ok=True)
    unit.write_text(render.mount_unit("minio", VOLUME_ID, "ext4"))
    dropin = tmp_path / render.docker_dropin_path("minio").lstrip("/")
    dropin.parent.mkdir(parents=True)
    dropin.write_text(render.docker_dropin("minio"))
    result = run(["systemd-analyze", "verify", "--man=no", f"--root={tmp_path}", str(unit),
                  str(tmp_path / "usr/lib/systemd/system/docker.service")])  # fmt: skip
    assert (result.returncode, result.stderr) == (0, "")


def test_the_mount_script_passes_shellcheck(tmp_path: Path) -> None:
    script = tmp_path / "mount-volume.sh"
    script.write_text(
        remote_script("mount-volume", **dict.fromkeys(required_params("mount-volume"), "value"))
    )
    result = run(["shellcheck", "--severity=style", str(script)])
    assert result.returncode == 0, result.stdout


# --- PostgreSQL on a volume -----------------------------------------------------------------


def test_postgres_keeps_its_data_on_a_volume_of_the_server_it_runs_on() -> None:
    config = with_value(tour_crm_config(), "services.postgres.volume", {"sizeGb": 50})
    recording = evaluate_config(config)
    assert recording.error is None, recording.error
    mount = recording.named("postgres-volume-mount")
    database = recording.named("data-postgres")
    assert database.inputs["data_host_path"] == "/mnt/volumes/postgres/data"
    assert mount.urn in database.dependencies  # created and started once it is mounted
    assert "DOCKER_VOLUME_PATTERN='^postgres-data-'\n" in reveal(mount.inputs["create"])

    stage_three = {**config, "network": {}, "databaseServer": {"type": "cx33"}}
    scaled = evaluate_config(stage_three)
    assert scaled.error is None, scaled.error
    (db_server,) = [
        r for r in scaled.of_type("hcloud:index/server:Server") if r.inputs["name"].endswith("-db")
    ]
    attachment = scaled.named("postgres-volume-attachment")
    assert attachment.inputs["serverId"] == int(db_server.id or 0)
    assert (
        scaled.named("postgres-volume-volume").inputs["name"]
        == f"{db_server.inputs['name']}-postgres"
    )
    mount = scaled.named("postgres-volume-mount")
    assert reveal(mount.inputs["connection"])["host"] == db_server.outputs["ipv4Address"]
    ready = scaled.named("coolify-database-server-wait-cloud-init")
    assert ready.urn in mount.dependencies


def test_a_postgres_volume_holds_the_drills_copy_too() -> None:
    config = with_value(tour_crm_config(), "services.postgres.volume", {"sizeGb": 20})
    config = with_value(config, "services.postgres.dataGb", 10)
    config["backups"] = {"offsite": {"endpoint": "https://s3.example.com", "bucket": "dumps"}}
    recording = evaluate_config(config)
    assert isinstance(recording.error, ConfigError)
    assert any(
        problem.startswith(
            "platform:services.postgres.volume.sizeGb: postgres is to keep 20 GB (its data and "
            "the restore drill's copy) on its volume, but 85% of 20 GB is 17 GB; give the volume "
            "at least 24 GB"
        )
        for problem in recording.error.problems
    )
