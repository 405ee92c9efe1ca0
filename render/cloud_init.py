"""The server's cloud-init user data, built as data and dumped as YAML.

Cloud-init runs once, on the first boot. The server ignores later changes to it (see
components/server.py), so everything here must be right the first time: the tests run
`cloud-init schema` on the rendered document of every stack.
"""

from __future__ import annotations

import json
from typing import Any

from config.model import ServerConfig, SshConfig
from render.host_files import (
    FAIL2BAN_JAIL_PATH,
    SSHD_DROPIN_PATH,
    SYSCTL_PATH,
    apt_file,
    fail2ban_jail,
    sshd_dropin,
    sysctl_conf,
)
from render.yaml_text import dump_yaml

HEADER = "#cloud-config\n"
MAX_USER_DATA_BYTES = 32 * 1024  # Hetzner's limit
GIB = 1024**3


def _file(path: str, content: str, permissions: str = "0644") -> dict[str, str]:
    return {"path": path, "content": content, "owner": "root:root", "permissions": permissions}


DOCKER_DAEMON_PATH = "/etc/docker/daemon.json"


def docker_daemon(docker_address_pool: str) -> str:
    """Docker's settings on a server Coolify installs Docker on later (the database server):
    its networks come from the pool, apart from the private network. Coolify's Docker install
    merges its own settings into an existing daemon.json and keeps these
    (app/Actions/Server/InstallDocker.php, 4.3.10)."""
    return (
        json.dumps({"default-address-pools": [{"base": docker_address_pool, "size": 24}]}, indent=2)
        + "\n"
    )


def cloud_init(
    server: ServerConfig, ssh: SshConfig, docker_address_pool: str, docker_settings: bool = False
) -> dict[str, Any]:
    """`docker_settings`: write Docker's daemon.json (for a server Coolify installs Docker on
    later; on Coolify's own server its installer sets the pool)."""
    keys = [key.public_key for key in ssh.authorized_keys]
    document: dict[str, Any] = {
        "timezone": "UTC",
        "package_update": True,
        "package_upgrade": True,
        # A reboot while `cloud-init status --wait` is watched over SSH would fail the install.
        "package_reboot_if_required": False,
        "packages": ["fail2ban", "python3-systemd", "unattended-upgrades"],
        "users": [
            {
                "name": server.admin_user,
                "gecos": "Platform administrator",
                "groups": ["sudo"],
                "shell": "/bin/bash",
                # The account has no password (locked), so sudo cannot ask for one.
                "sudo": "ALL=(ALL) NOPASSWD:ALL",
                "lock_passwd": True,
                "ssh_authorized_keys": keys,
            }
        ],
        # Root keeps the keys Hetzner injects: Coolify administers the host as root, by key.
        "disable_root": False,
        "ssh_pwauth": False,
        "write_files": [
            _file(SSHD_DROPIN_PATH, sshd_dropin(server.admin_user, ssh.max_auth_tries)),
            _file(FAIL2BAN_JAIL_PATH, fail2ban_jail([docker_address_pool])),
            _file(SYSCTL_PATH, sysctl_conf()),
            _file("/etc/apt/apt.conf.d/20auto-upgrades", apt_file("20auto-upgrades")),
            _file(
                "/etc/apt/apt.conf.d/52platform-unattended-upgrades",
                apt_file("52platform-unattended-upgrades"),
            ),
        ],
        "runcmd": [
            ["sysctl", "--system"],
            # The package starts fail2ban with the jail above, written before packages install.
            ["systemctl", "enable", "--now", "fail2ban"],
            # Check the new sshd config before it is used; a running sshd rereads it on reload.
            ["sh", "-c", "sshd -t && systemctl try-reload-or-restart ssh.service"],
        ],
    }
    if docker_settings:
        document["write_files"].append(
            _file(DOCKER_DAEMON_PATH, docker_daemon(docker_address_pool))
        )
    if server.swap_size_gb:
        size = server.swap_size_gb * GIB
        document["swap"] = {"filename": "/swapfile", "size": size, "maxsize": size}
    return document


def dump_user_data(document: dict[str, Any]) -> str:
    text = HEADER + dump_yaml(document)
    size = len(text.encode())
    if size > MAX_USER_DATA_BYTES:
        raise ValueError(f"cloud-init user data is {size} bytes; Hetzner accepts at most 32 KiB")
    return text
