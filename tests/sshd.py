"""A real sshd on loopback with the platform's hardening drop-in, for the tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from render.host_files import sshd_dropin
from tests.support import run, write

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


def ubuntu_like_sshd_config(folder: Path, dropin: str, extra: str = "") -> Path:
    """A main sshd_config shaped like Ubuntu 24.04's (drop-ins included first), whose own
    settings and a cloud-init drop-in contradict ours: ours must win."""
    write(folder / "sshd_config.d" / "00-platform-hardening.conf", dropin)
    write(folder / "sshd_config.d" / "50-cloud-init.conf", "PasswordAuthentication yes\n")
    host_key = folder / "ssh_host_ed25519_key"
    if not host_key.exists():
        assert (
            run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)]).returncode
            == 0
        )
    return write(
        folder / "sshd_config",
        f"Include {folder}/sshd_config.d/*.conf\n"
        "KbdInteractiveAuthentication yes\n"
        "PasswordAuthentication yes\n"
        "PermitRootLogin yes\n"
        "X11Forwarding yes\n"
        "AllowAgentForwarding yes\n"
        "MaxAuthTries 6\n"
        "UsePAM yes\n"
        "AcceptEnv LANG LC_*\n"
        "Subsystem sftp /usr/lib/openssh/sftp-server\n"
        f"HostKey {host_key}\n"
        f"PidFile {folder}/sshd.pid\n"
        f"AuthorizedKeysFile {folder}/authorized_keys\n"
        # Only for this test: the keys live under /tmp, which StrictModes would refuse.
        "StrictModes no\n" + extra,
    )


@pytest.fixture(scope="session")
def privsep_dir() -> None:
    """sshd insists on its privilege separation directory even for -t."""
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class RunningSshd:
    port: int
    client_key: Path  # its public half is authorized for root
    host_key: str  # the server's public host key, as in known_hosts


@contextmanager
def sshd_in(
    folder: Path, port: int = 0, extra: str = "", permit_open: str = "any"
) -> Iterator[RunningSshd]:
    """A real sshd on loopback with the hardening drop-in, its files in `folder`, on `port`
    (a free one by default), with `extra` lines of sshd_config. Its tunnels may go anywhere
    (`permit_open`), as the fake Coolify listens on a free port; the simulated `up`, where
    the fake has the server's port, and tests/test_host_files.py keep the drop-in's own."""
    client_key = folder / "client_key"
    assert (
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(client_key)]).returncode == 0
    )
    write(folder / "authorized_keys", Path(f"{client_key}.pub").read_text())
    config = ubuntu_like_sshd_config(folder, sshd_dropin("deploy", 3, permit_open), extra)
    port = port or free_port()
    command = [
        SSHD,
        "-D",
        "-e",
        "-f",
        str(config),
        "-p",
        str(port),
        "-o",
        "ListenAddress=127.0.0.1",
    ]
    log = (folder / "sshd.log").open("w")
    server = subprocess.Popen(command, stderr=log)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        else:
            pytest.fail(f"sshd did not start listening: {(folder / 'sshd.log').read_text()}")
        host_key = " ".join((folder / "ssh_host_ed25519_key.pub").read_text().split()[:2])
        yield RunningSshd(port, client_key, host_key)
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


@pytest.fixture
def running_sshd(tmp_path: Path, privsep_dir: None) -> Iterator[RunningSshd]:
    """A real sshd on loopback with the hardening drop-in."""
    with sshd_in(tmp_path) as sshd:
        yield sshd


@pytest.fixture(scope="session")
def shared_sshd(
    tmp_path_factory: pytest.TempPathFactory, privsep_dir: None
) -> Iterator[RunningSshd]:
    """One sshd for every test that only needs to get through it (the providers' tunnel)."""
    with sshd_in(tmp_path_factory.mktemp("sshd")) as sshd:
        yield sshd


def tunnel_to(url: str, sshd: RunningSshd) -> dict[str, Any]:
    """A Coolify connection's `ssh` part that reaches `url` (on loopback) through `sshd`."""
    return {
        "host": "127.0.0.1", "port": sshd.port, "user": "root",
        "remote_port": int(url.rsplit(":", 1)[1]),
        "private_key": sshd.client_key.read_text(), "host_key": sshd.host_key,
    }  # fmt: skip
