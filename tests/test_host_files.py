"""The host's config files, loaded by the real programs from Debian's packages."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from coolify.connection import COOLIFY_PORT
from render.host_files import (
    CIPHERS,
    COOLIFY_API,
    KEX_ALGORITHMS,
    MACS,
    SYSCTL_SETTINGS,
    apt_file,
    fail2ban_jail,
    sshd_dropin,
    sysctl_conf,
)
from tests.sshd import SSHD, RunningSshd, sshd_in, ubuntu_like_sshd_config
from tests.support import run, write


def effective(config: Path) -> dict[str, str]:
    """sshd -T's effective settings; a key it prints once per value (allowusers) is joined."""
    result = run([SSHD, "-T", "-f", str(config)])
    assert result.returncode == 0, result.stderr
    settings: dict[str, str] = {}
    for line in result.stdout.splitlines():
        key, _, value = line.partition(" ")
        settings[key] = f"{settings[key]} {value}" if key in settings else value
    return settings


@pytest.mark.usefixtures("privsep_dir")
def test_sshd_accepts_the_dropin(tmp_path: Path) -> None:
    config = ubuntu_like_sshd_config(tmp_path, sshd_dropin("deploy", 3))
    result = run([SSHD, "-t", "-f", str(config)])
    assert result.returncode == 0, result.stderr


@pytest.mark.usefixtures("privsep_dir")
def test_sshd_rejects_a_broken_dropin(tmp_path: Path) -> None:
    """The check above is not vacuous: sshd -t does fail on a bad drop-in."""
    config = ubuntu_like_sshd_config(tmp_path, "Ciphers rot13@example.org\n")
    assert run([SSHD, "-t", "-f", str(config)]).returncode != 0


@pytest.mark.usefixtures("privsep_dir")
def test_the_dropin_wins_over_the_main_config_and_cloud_init(tmp_path: Path) -> None:
    settings = effective(ubuntu_like_sshd_config(tmp_path, sshd_dropin("deploy", 3)))
    assert settings["passwordauthentication"] == "no"
    assert settings["kbdinteractiveauthentication"] == "no"
    assert settings["permitrootlogin"] == "without-password"  # = prohibit-password
    assert settings["authenticationmethods"] == "publickey"
    assert settings["maxauthtries"] == "3"
    assert settings["x11forwarding"] == "no"
    assert settings["allowagentforwarding"] == "no"
    assert settings["allowtcpforwarding"] == "local"
    assert settings["permitopen"] == "127.0.0.1:8000"
    assert settings["maxstartups"] == "10:30:60"
    assert settings["allowusers"] == "root deploy"
    assert settings["kexalgorithms"] == ",".join(KEX_ALGORITHMS)
    assert settings["ciphers"] == ",".join(CIPHERS)
    assert settings["macs"] == ",".join(MACS)


def ssh(port: int, *options: str, user: str = "root") -> subprocess.CompletedProcess[str]:
    return run(
        ["ssh", "-p", str(port), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
         "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10", *options,
         f"{user}@127.0.0.1", "true"],
        timeout=30,
    )  # fmt: skip


def test_root_logs_in_by_key(running_sshd: RunningSshd) -> None:
    port, key = running_sshd.port, running_sshd.client_key
    result = ssh(port, "-i", str(key), "-o", "IdentitiesOnly=yes")
    assert result.returncode == 0, result.stderr


def test_passwords_are_never_offered(running_sshd: RunningSshd) -> None:
    port = running_sshd.port
    result = ssh(port, "-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password")
    assert result.returncode != 0
    assert "Permission denied (publickey)" in result.stderr


def test_users_outside_allowusers_are_refused(running_sshd: RunningSshd) -> None:
    port, key = running_sshd.port, running_sshd.client_key
    result = ssh(port, "-i", str(key), "-o", "IdentitiesOnly=yes", user="nobody")
    assert result.returncode != 0


@pytest.mark.parametrize(
    ("weak", "refusal"),
    [(["-c", "aes128-cbc"], "no matching cipher"),
     (["-o", "KexAlgorithms=diffie-hellman-group14-sha1"], "no matching key exchange"),
     (["-c", "aes256-ctr", "-o", "MACs=hmac-sha1"], "no matching MAC")],
    ids=["cbc-cipher", "sha1-kex", "sha1-mac"],
)  # fmt: skip
def test_weak_algorithms_are_refused(
    running_sshd: RunningSshd, weak: list[str], refusal: str
) -> None:
    port, key = running_sshd.port, running_sshd.client_key
    result = ssh(port, "-i", str(key), "-o", "IdentitiesOnly=yes", *weak)
    assert result.returncode != 0
    assert refusal in result.stderr


def test_the_drop_in_lets_tunnels_reach_the_coolify_api_and_nothing_else(
    tmp_path: Path, privsep_dir: None
) -> None:
    """`ssh -W` asks the server for a forward as the tunnel's -L does: to the Coolify API
    the server tries (nothing listens here: connect failed), elsewhere it refuses."""
    assert f"127.0.0.1:{COOLIFY_PORT}" == COOLIFY_API
    with sshd_in(tmp_path, permit_open=COOLIFY_API) as sshd:
        key = ["-i", str(sshd.client_key), "-o", "IdentitiesOnly=yes"]
        elsewhere = ssh(sshd.port, *key, "-W", "127.0.0.1:5432")
        assert "administratively prohibited" in elsewhere.stderr
        api = ssh(sshd.port, *key, "-W", COOLIFY_API)
        assert "administratively prohibited" not in api.stderr
        assert "Connection refused" in api.stderr


# What ssh-audit warns about that we keep, each with its reason.
ACCEPTED_SSH_AUDIT_WARNINGS = {
    # "does not provide protection against post-quantum attacks": sntrup761x25519 comes
    # first, but pulumi-command's Go SSH client (golang.org/x/crypto) does not speak it, and
    # Ubuntu 24.04's OpenSSH 9.6 has no mlkem768x25519 (9.9) that Go does: curve25519 is the
    # only exchange both ends share.
    ("kex", "curve25519-sha256"),
    ("kex", "curve25519-sha256@libssh.org"),
}


def test_ssh_audit_finds_no_failure_and_only_the_accepted_warnings(
    tmp_path: Path, privsep_dir: None
) -> None:
    """ssh-audit (PyPI) against the real sshd with the drop-in (Debian 12's OpenSSH 9.2; the
    server runs Ubuntu 24.04's 9.6, which offers the same algorithms from this list). Its
    connection-rate test is skipped: SSH is open only to ssh.adminCidrs at Hetzner's
    firewall, and Coolify opens many connections from its container, which a per-source
    limit (the guide's PerSourceMaxStartups 1) would cut."""
    audit = Path(sys.executable).with_name("ssh-audit")
    with sshd_in(tmp_path, permit_open=COOLIFY_API) as sshd:
        result = run([str(audit), "--json", "--skip-rate-test", "-p", str(sshd.port),
                      "127.0.0.1"])  # fmt: skip
    report = json.loads(result.stdout)
    found = {
        (level, kind, algorithm["algorithm"])
        for kind in ("kex", "key", "enc", "mac")
        for algorithm in report[kind]
        for level in ("fail", "warn")
        if algorithm.get("notes", {}).get(level)
    }
    assert found == {("warn", *accepted) for accepted in ACCEPTED_SSH_AUDIT_WARNINGS}
    assert report["cves"] == []
    assert "fail" not in report["recommendations"]


def test_fail2ban_loads_the_jail(tmp_path: Path) -> None:
    """fail2ban-client -t only warns about bad values, so read its parsed dump instead."""
    conf = tmp_path / "fail2ban"
    shutil.copytree("/etc/fail2ban", conf)
    write(conf / "jail.d" / "sshd.local", fail2ban_jail(["172.16.0.0/12"]))
    result = run(["fail2ban-client", "-c", str(conf), "-d"])
    assert result.returncode == 0, result.stderr
    assert "Wrong value" not in result.stderr
    dump = result.stdout
    assert "['add', 'sshd', 'systemd']" in dump
    assert "['set', 'sshd', 'maxretry', 5]" in dump
    assert "['set', 'sshd', 'addignoreip', '127.0.0.1/8', '::1', '172.16.0.0/12']" in dump


@pytest.mark.parametrize("name", ["20auto-upgrades", "52platform-unattended-upgrades"])
def test_apt_parses_the_unattended_upgrade_settings(tmp_path: Path, name: str) -> None:
    path = write(tmp_path / name, apt_file(name))
    result = run(["apt-config", "-c", str(path), "dump"])
    assert result.returncode == 0, result.stderr
    if name == "20auto-upgrades":
        assert 'APT::Periodic::Unattended-Upgrade "1";' in result.stdout
    else:
        assert 'Unattended-Upgrade::Automatic-Reboot "false";' in result.stdout


def test_sysctl_settings_exist_in_the_kernel() -> None:
    for key in SYSCTL_SETTINGS:
        assert Path("/proc/sys", *key.split(".")).exists(), key
    text = sysctl_conf()
    assert "vm.overcommit_memory = 1" in text
    # No redirects sent or taken, no source routes, no setuid core dumps ...
    for setting in ("send_redirects", "accept_redirects", "secure_redirects",
                    "accept_source_route"):  # fmt: skip
        for interfaces in ("all", "default"):
            assert f"net.ipv4.conf.{interfaces}.{setting} = 0" in text
    for setting in ("accept_redirects", "accept_source_route"):
        for interfaces in ("all", "default"):
            assert f"net.ipv6.conf.{interfaces}.{setting} = 0" in text
    assert "fs.suid_dumpable = 0" in text
    # ... and Docker's forwarding left as Docker sets it.
    assert "forwarding" not in text
    assert "ip_forward" not in text
