"""Configuration files for the host itself, rendered from data by pure functions.

The tests load each of them with the real program: `sshd -t`/`sshd -T`, `fail2ban-client -t`,
`apt-config`, so what reaches the server is known to parse.
"""

from __future__ import annotations

import configparser
import io
from pathlib import Path

FILES = Path(__file__).parent / "files"

# First value wins in sshd_config, and Ubuntu's sshd_config includes sshd_config.d/*.conf at its
# top, so a drop-in named "00-" overrides both the main file and cloud-init's 50-cloud-init.conf.
SSHD_DROPIN_PATH = "/etc/ssh/sshd_config.d/00-platform-hardening.conf"
FAIL2BAN_JAIL_PATH = "/etc/fail2ban/jail.d/sshd.local"
SYSCTL_PATH = "/etc/sysctl.d/60-platform.conf"

# Algorithms after the ssh-audit hardening guide for Ubuntu 24.04 (OpenSSH 9.6), keeping what the
# Go SSH client of pulumi-command and the OpenSSH client in Coolify's container speak. No
# finite-field Diffie-Hellman: every client we use speaks curve25519, and ssh-audit flags the
# group exchange's moduli.
KEX_ALGORITHMS = (
    "sntrup761x25519-sha512@openssh.com",
    "curve25519-sha256",
    "curve25519-sha256@libssh.org",
)
CIPHERS = (
    "chacha20-poly1305@openssh.com",
    "aes256-gcm@openssh.com",
    "aes128-gcm@openssh.com",
    "aes256-ctr",
    "aes192-ctr",
    "aes128-ctr",
)
MACS = (
    "hmac-sha2-512-etm@openssh.com",
    "hmac-sha2-256-etm@openssh.com",
    "umac-128-etm@openssh.com",
)
HOST_KEY_ALGORITHMS = (
    "ssh-ed25519",
    "ssh-ed25519-cert-v01@openssh.com",
    "rsa-sha2-512",
    "rsa-sha2-512-cert-v01@openssh.com",
    "rsa-sha2-256",
    "rsa-sha2-256-cert-v01@openssh.com",
)
# Where the Coolify API listens on the server: the only place an SSH tunnel may go.
COOLIFY_API = "127.0.0.1:8000"
# The user key types the config accepts (config.fields), with RSA signed by SHA-2 only.
PUBKEY_ALGORITHMS = (
    "ssh-ed25519",
    "sk-ssh-ed25519@openssh.com",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "rsa-sha2-512",
    "rsa-sha2-256",
)


def sshd_directives(
    admin_user: str, max_auth_tries: int, permit_open: str = COOLIFY_API
) -> list[tuple[str, str]]:
    """`permit_open`: where local forwards may go (the tests' fakes listen elsewhere)."""
    return [
        # Coolify manages the host as root over SSH with its own key: root by key, never password.
        ("PermitRootLogin", "prohibit-password"),
        ("AllowUsers", f"root {admin_user}"),
        ("AuthenticationMethods", "publickey"),
        ("PubkeyAuthentication", "yes"),
        ("PasswordAuthentication", "no"),
        ("KbdInteractiveAuthentication", "no"),
        ("PermitEmptyPasswords", "no"),
        ("MaxAuthTries", str(max_auth_tries)),
        ("LoginGraceTime", "30"),
        # Unauthenticated connections: refuse 30 % from 10 on, all from 60 (a scan's flood).
        ("MaxStartups", "10:30:60"),
        ("X11Forwarding", "no"),
        ("AllowAgentForwarding", "no"),
        # Local forwards only, and only to the Coolify API, which the program reaches through
        # a tunnel (Coolify itself runs commands over SSH and forwards nothing).
        ("AllowTcpForwarding", "local"),
        ("PermitOpen", permit_open),
        ("AllowStreamLocalForwarding", "no"),
        ("GatewayPorts", "no"),
        ("PermitTunnel", "no"),
        ("PermitUserEnvironment", "no"),
        ("ClientAliveInterval", "300"),
        ("ClientAliveCountMax", "2"),
        ("LogLevel", "VERBOSE"),
        ("KexAlgorithms", ",".join(KEX_ALGORITHMS)),
        ("Ciphers", ",".join(CIPHERS)),
        ("MACs", ",".join(MACS)),
        ("HostKeyAlgorithms", ",".join(HOST_KEY_ALGORITHMS)),
        ("PubkeyAcceptedAlgorithms", ",".join(PUBKEY_ALGORITHMS)),
    ]


def sshd_dropin(admin_user: str, max_auth_tries: int, permit_open: str = COOLIFY_API) -> str:
    lines = ["# Managed by the platform's cloud-init: SSH hardening (keys only)."]
    directives = sshd_directives(admin_user, max_auth_tries, permit_open)
    lines += [f"{key} {value}" for key, value in directives]
    return "\n".join(lines) + "\n"


def fail2ban_jail(ignore_networks: list[str]) -> str:
    """The sshd jail. The networks Docker gives Coolify's containers are never banned: Coolify
    drives the host over SSH from them, and a ban would cut it off."""
    jail = configparser.ConfigParser(interpolation=None)
    jail["sshd"] = {
        "enabled": "true",
        "backend": "systemd",
        "mode": "aggressive",
        "maxretry": "5",
        "findtime": "10m",
        "bantime": "1h",
        "bantime.increment": "true",
        "bantime.maxtime": "1w",
        "ignoreip": " ".join(["127.0.0.1/8", "::1", *ignore_networks]),
    }
    text = io.StringIO()
    text.write("# Managed by the platform's cloud-init.\n")
    jail.write(text)
    return text.getvalue().rstrip("\n") + "\n"


SYSCTL_SETTINGS = {
    # Redis forks to persist; without overcommit the fork can fail under memory pressure.
    "vm.overcommit_memory": "1",
    # Keep the databases in RAM; swap is for the peaks of image builds.
    "vm.swappiness": "10",
    # CIS: a host is no router for others' redirects or source routes, and a setuid program's
    # crash leaves no core. ip_forward is Docker's (its containers need it) and is not touched.
    **{
        f"net.ipv{version}.conf.{interfaces}.{setting}": "0"
        for version, setting in (
            ("4", "send_redirects"), ("4", "accept_redirects"), ("4", "secure_redirects"),
            ("4", "accept_source_route"), ("6", "accept_redirects"),
            ("6", "accept_source_route"),
        )
        for interfaces in ("all", "default")
    },
    "fs.suid_dumpable": "0",
}  # fmt: skip


def sysctl_conf() -> str:
    lines = ["# Managed by the platform's cloud-init."]
    lines += [f"{key} = {value}" for key, value in SYSCTL_SETTINGS.items()]
    return "\n".join(lines) + "\n"


def apt_file(name: str) -> str:
    return (FILES / name).read_text()
