"""The backup jobs' test bench, shared by the PostgreSQL and MariaDB tests: a scratch root
the install step writes into, with a stand-in Docker that checks each command line (no value
ever in it) and runs the tool itself with only the variables it was given, and a stand-in
systemctl that logs; and helpers that read what a recorded stack installs."""

from __future__ import annotations

import base64
import io
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

from config import BackupsConfig
from offline.engine import Recording, is_secret, reveal
from render import backups as render
from render.remote import remote_script
from tests.offsite import BUCKET
from tests.support import write

OFFSITE = {"endpoint": "https://s3.eu-central-003.backblazeb2.com", "bucket": "tour-backups"}
IMAGE = "postgres:16.4-alpine"
AWS_IMAGE = "amazon/aws-cli:2.27.9"
RCLONE_IMAGE = "rclone/rclone:1.67.0"

DOCKER = r'''#!PYTHON
"""Stand-in for docker: `run` as container-tool.sh calls it, and `pull`."""
import json, os, sys
args = sys.argv[1:]
with open(os.environ["DOCKER_LOG"], "a") as log:
    log.write(json.dumps(args) + "\n")
if args[0] == "pull":
    sys.exit(0)
assert args[:3] == ["run", "--rm", "-i"], args
names, options, rest = [], {}, args[3:]
while rest[0].startswith("-"):
    flag, value, rest = rest[0], rest[1], rest[2:]
    if flag == "-e":
        assert "=" not in value, f"a value in the command line: {value}"
        names.append(value)
    else:
        options[flag] = value
image, tool, tool_args = rest[0], options["--entrypoint"], rest[1:]
expected = "host" if tool == "aws" else os.environ["EXPECTED_NETWORK"]
assert options["--network"] == expected, options
assert options["--volume"] == f"{os.environ['TMPDIR']}:{os.environ['TMPDIR']}", options
env = {name: os.environ[name] for name in names if name in os.environ}
env.update(PATH="/usr/bin:/bin", HOME=os.environ.get("HOME", "/root"))
os.execve(f"/usr/bin/{tool}", [tool, *tool_args], env)
'''


def backups_config(**changes: Any) -> BackupsConfig:
    return BackupsConfig.model_validate({"offsite": OFFSITE, **changes})


def unpack(bundle: str, into: Path) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(base64.b64decode(bundle)), mode="r:gz") as tar:
        tar.extractall(into, filter="tar")
        return tar.getnames()


# --- units and schedules, checked by systemd's own tools -----------------------------------


def verify_root(root: Path, bundle: str) -> list[str]:
    """Unpack the bundle into `root` beside systemd's own units and Docker's (as the server
    has it once Coolify installed Docker), for `systemd-analyze verify --root`; returns the
    bundle's unit files."""
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    dockerd = write(root / "usr/bin/dockerd", "#!/bin/sh\n")
    dockerd.chmod(0o755)
    write(root / "usr/lib/systemd/system/docker.service", "[Service]\nExecStart=/usr/bin/dockerd\n")
    names = unpack(bundle, root)
    return [str(root / name) for name in names if name.startswith("etc/systemd/system/")]


STAND_IN = render.Offsite(
    endpoint=OFFSITE["endpoint"],
    bucket=OFFSITE["bucket"],
    region="eu-central-003",
    prefix="platform/production",
    client_image=AWS_IMAGE,
    rclone_image=RCLONE_IMAGE,
)


class Host:
    """A scratch root the install step writes into, with stand-ins for docker and systemctl."""

    def __init__(self, tmp_path: Path) -> None:
        self.root = tmp_path / "root"
        self.bin = tmp_path / "bin"
        self.state = tmp_path / "state"
        for folder in (self.root, self.bin, self.state):
            folder.mkdir()
        docker = self.bin / "docker"
        docker.write_text(DOCKER.replace("PYTHON", sys.executable))
        docker.chmod(0o755)
        systemctl = self.bin / "systemctl"
        systemctl.write_text(f'#!/bin/sh\necho "$*" >> {self.state}/systemctl.log\n')
        systemctl.chmod(0o755)
        self.docker_log = self.state / "docker.jsonl"

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "PATH": f"{self.bin}:/usr/bin:/bin",
            "HOME": os.environ.get("HOME", "/root"),
            "DOCKER_LOG": str(self.docker_log),
            "EXPECTED_NETWORK": "coolify",
            "TMPDIR": str(self.state),
            **extra,
        }

    def install(
        self, bundle: str, stdin: str, s3_client: Any, bucket: str = BUCKET
    ) -> subprocess.CompletedProcess[str]:
        script = remote_script(
            "install-backups",
            ROOT=str(self.root),
            BUNDLE=bundle,
            SCRIPTS_DIR=render.SCRIPTS_DIR,
            UNIT_PREFIX=render.UNIT_PREFIX,
            SECRETS_DIR=render.SECRETS_DIR,
            DB_CLIENT_IMAGE=IMAGE,
            AWS_CLI_IMAGE=AWS_IMAGE,
            RCLONE_IMAGE=RCLONE_IMAGE,
            OFFSITE_ENV=render.OFFSITE_ENV,
            S3_ENDPOINT=s3_client.meta.endpoint_url,
            S3_BUCKET=bucket,
            S3_REGION="us-east-1",
        )
        return subprocess.run(
            ["bash", "-c", script], input=stdin, env=self.env(), capture_output=True,
            text=True, timeout=120, check=False,
        )  # fmt: skip

    def systemctl(self) -> list[str]:
        log = self.state / "systemctl.log"
        return log.read_text().splitlines() if log.exists() else []

    def unit_environment(self, unit: str, instance: str) -> dict[str, str]:
        """The environment systemd gives the unit's command: its Environment= settings (%i:
        the instance), then its EnvironmentFile=s (optional with "-")."""
        env: dict[str, str] = {}
        for line in (self.root / f"etc/systemd/system/{unit}").read_text().splitlines():
            key, _, value = line.partition("=")
            if key == "Environment":
                name, _, setting = value.partition("=")
                env[name] = setting.replace("%i", instance)
            elif key == "EnvironmentFile":
                path = self.root / value.removeprefix("-").lstrip("/")
                if not path.exists() and value.startswith("-"):
                    continue
                for entry in path.read_text().splitlines():
                    name, _, setting = entry.partition("=")
                    env[name] = setting
        return env

    def run_job(
        self, job: str, instance: str = "", **overrides: str
    ) -> subprocess.CompletedProcess[str]:
        unit = f"{render.UNIT_PREFIX}{job}.service"
        return self.run_unit(unit, render.TOOLS_DIR, instance, **overrides)

    def run_unit(
        self, unit: str, tools_dir: str, instance: str = "", **overrides: str
    ) -> subprocess.CompletedProcess[str]:
        """The unit's command as systemd runs it, its tools (`tools_dir`) in the scratch
        root."""
        env = self.unit_environment(unit, instance)
        exec_start = next(
            line.split("=", 1)[1]
            for line in (self.root / f"etc/systemd/system/{unit}").read_text().splitlines()
            if line.startswith("ExecStart=")
        )
        env.update(self.env(), **overrides)
        env["PATH"] = f"{self.root}{tools_dir}:{env['PATH']}"
        return subprocess.run(
            [str(self.root / exec_start.lstrip("/"))], env=env, capture_output=True, text=True,
            timeout=180, check=False,
        )  # fmt: skip


def installed(recording: Recording) -> dict[str, str]:
    """The install step's parameters (NAME=value lines on top of its script)."""
    lines = reveal(recording.named("backups-install").inputs["create"]).splitlines()[1:]
    return dict(line.split("=", 1) for line in lines if "=" in line and line[0].isupper())


def secret_env_files(recording: Recording) -> dict[str, str]:
    stdin = recording.named("backups-install").inputs["stdin"]
    assert is_secret(stdin)
    with tarfile.open(fileobj=io.BytesIO(base64.b64decode(reveal(stdin))), mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read().decode() for m in tar.getmembers()}  # type: ignore[union-attr]


def bundle_file(recording: Recording, path: str) -> str:
    """A file the install step puts on the server (path without the leading /)."""
    bundle = base64.b64decode(installed(recording)["BUNDLE"])
    with tarfile.open(fileobj=io.BytesIO(bundle), mode="r:gz") as tar:
        member = tar.extractfile(path)
        assert member is not None, path
        return member.read().decode()
