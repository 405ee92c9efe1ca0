"""scripts/app_exec.py, the one-off command in an app's container, through a real sshd to a
server whose `sudo` and `docker` are stand-ins that record what they are asked."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scripts.app_exec import NO_CONTAINER, main
from tests.sshd import RunningSshd, sshd_in
from tests.support import write

# The running container of app `crm` in project platform, environment production.
DOCKER = """#!/bin/sh
echo "docker $*" >> {log}
case "$1" in
  ps) case "$*" in
        *coolify.projectName=platform*coolify.environmentName=production*coolify.resourceName=crm*)
          echo 3f2a9c0d1e5b ;;
      esac ;;
  exec) shift 2; shift; exec "$@" ;;
esac
"""
SUDO = """#!/bin/sh
[ "$1" = -n ] && shift
exec "$@"
"""


@pytest.fixture
def server(tmp_path: Path, privsep_dir: None) -> Iterator[tuple[RunningSshd, Path]]:
    stubs, log = tmp_path / "bin", tmp_path / "docker.log"
    write(stubs / "docker", DOCKER.format(log=log)).chmod(0o755)
    write(stubs / "sudo", SUDO).chmod(0o755)
    (tmp_path / "sshd").mkdir()
    with sshd_in(tmp_path / "sshd", extra=f"SetEnv PATH={stubs}:/usr/bin:/bin\n") as sshd:
        yield sshd, log


def app_exec(sshd: RunningSshd, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The script as an admin runs it, its ssh given this sshd's key and pinned host key."""

    def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        known = sshd.client_key.parent / "known_hosts"
        known.write_text(f"[127.0.0.1]:{sshd.port} {sshd.host_key}\n")
        ssh = ["ssh", "-i", str(sshd.client_key), "-o", f"UserKnownHostsFile={known}",
               "-o", "BatchMode=yes"]  # fmt: skip
        kwargs.pop("check", None)
        return subprocess.run(
            [*ssh, *command[1:]], input=stdin, capture_output=True, text=True, check=False
        )

    results: list[subprocess.CompletedProcess[str]] = []

    def recording(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        results.append(run(command, **kwargs))
        return results[-1]

    status = main(
        ["--stack", "production", "--user", "root", "--host", "127.0.0.1",
         "--port", str(sshd.port), *args],
        run=recording,
    )  # fmt: skip
    (result,) = results
    assert status == result.returncode
    return result


def test_the_command_runs_in_the_apps_container_with_stdin_and_its_status(
    server: tuple[RunningSshd, Path],
) -> None:
    sshd, log = server
    secret = "first-admin-password-0123"
    result = app_exec(sshd, "crm", "--", "sh", "-c", "read pw; echo got $pw; exit 7", stdin=secret)
    assert result.stdout == f"got {secret}\n"  # the secret came by stdin
    assert result.returncode == 7
    calls = log.read_text()
    assert "docker exec -i 3f2a9c0d1e5b sh -c read pw; echo got $pw; exit 7" in calls
    assert secret not in calls  # never on a command line


def test_an_app_without_a_running_container_says_so(server: tuple[RunningSshd, Path]) -> None:
    sshd, _ = server
    result = app_exec(sshd, "book", "--", "npx", "prisma", "db", "seed")
    assert result.returncode == NO_CONTAINER
    assert "app book has no running container" in result.stderr


def test_the_server_is_read_from_the_stacks_outputs() -> None:
    asked: list[list[str]] = []

    def run(command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        asked.append(command)
        outputs = '{"serverIpv4": "203.0.113.10", "appServerIpv4s": ["203.0.113.11"]}'
        return subprocess.CompletedProcess(command, 0, stdout=outputs if len(asked) == 1 else "")

    assert main(["--stack", "production", "crm", "--", "true"], run=run) == 0
    assert asked[0] == ["pulumi", "stack", "output", "--json", "--stack", "production"]
    assert "deploy@203.0.113.11" in asked[1]  # an app server runs every app
