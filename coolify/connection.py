"""How a provider reaches Coolify: its HTTPS dashboard URL, or an SSH tunnel to 127.0.0.1:8000
on the server (the port is bound to the server's loopback only, and closed in the firewall).

A connection is {url, token} or {url, token, ssh: {host, port, user, private_key, host_key}};
with `ssh`, `url` is ignored and the tunnel's local end is used. The host key is pinned.
The tunnel's local end is a Unix socket in a folder of its own: the provider host runs several
operations at once, and a free TCP port picked by one could be taken by another before its
ssh binds it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from coolify.budget import RequestBudget
from coolify.client import MASK, CoolifyClient, CoolifyError

COOLIFY_PORT = 8000
TUNNEL_WAIT_SECONDS = 30


def _write_private(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text if text.endswith("\n") else text + "\n")


@contextmanager
def ssh_tunnel(
    *,
    host: str,
    user: str,
    private_key: str,
    host_key: str,
    port: int = 22,
    remote_port: int = COOLIFY_PORT,
) -> Iterator[Path]:
    """Forward a local Unix socket to 127.0.0.1:`remote_port` on `host`; yield its path."""
    with tempfile.TemporaryDirectory(prefix="coolify-tunnel-") as folder:
        key, known_hosts = Path(folder, "key"), Path(folder, "known_hosts")
        _write_private(key, private_key)
        known_host = host if port == 22 else f"[{host}]:{port}"
        known_hosts.write_text(f"{known_host} {host_key.strip()}\n")
        local = Path(folder, "coolify.sock")
        log = Path(folder, "ssh.log")
        command = [
            "ssh", "-N", "-p", str(port), "-i", str(key),
            "-L", f"{local}:127.0.0.1:{remote_port}",
            "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=yes",
            "-o", f"UserKnownHostsFile={known_hosts}", "-o", "ExitOnForwardFailure=yes",
            "-o", "ConnectTimeout=15", "-o", "ServerAliveInterval=15", f"{user}@{host}",
        ]  # fmt: skip
        with log.open("w") as errors:
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=errors, stderr=errors
            )
            try:
                _wait_for(local, process, log)
                yield local
            finally:
                _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """ssh sometimes sits out a SIGTERM in its event loop; a tunnel holds no state worth a
    graceful exit, so it gets a moment and then SIGKILL (every operation of every Coolify
    resource opens one: a long grace adds up over a stack)."""
    process.terminate()
    try:
        process.wait(timeout=0.2)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _wait_for(local: Path, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + TUNNEL_WAIT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CoolifyError(
                f"the SSH tunnel to Coolify failed: {log.read_text().strip()[-500:]}"
            )
        with socket.socket(socket.AF_UNIX) as probe:
            if probe.connect_ex(str(local)) == 0:
                return
        time.sleep(0.05)
    raise CoolifyError(f"the SSH tunnel to Coolify did not open within {TUNNEL_WAIT_SECONDS}s")


@contextmanager
def connect(connection: dict[str, Any], redact: Iterable[str] = ()) -> Iterator[CoolifyClient]:
    """A client for `connection`, through its SSH tunnel when it has one."""
    ssh = connection.get("ssh")
    # Keyed by Coolify's own address: every tunnel's local end looks the same.
    budget = RequestBudget(connection["url"])
    if not ssh:
        with CoolifyClient(
            connection["url"], connection["token"], redact=redact, budget=budget
        ) as client:
            yield client
        return
    try:
        with (
            ssh_tunnel(**ssh) as local,
            CoolifyClient(
                # The Host header Coolify sees is its own address on the server.
                f"http://127.0.0.1:{ssh.get('remote_port', COOLIFY_PORT)}",
                connection["token"],
                redact=[*redact, ssh["private_key"]],
                transport=httpx.HTTPTransport(uds=str(local)),
                budget=budget,
            ) as client,
        ):
            yield client
    except CoolifyError as error:  # never let ssh's own messages carry the key or the token
        message = str(error).replace(ssh["private_key"], MASK).replace(connection["token"], MASK)
        raise CoolifyError(message, status=error.status, field_errors=error.field_errors) from None
