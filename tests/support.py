"""Helpers shared by the tests: evaluate the program for a stack file or a config dict."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from config import StackConfig
from offline import engine
from offline.engine import Recording, evaluate, reveal
from offline.stack_files import PROGRAM, read_stack_file, stack_config
from render.cloud_init import HostKey

PROJECT = "platform"
DELETE = object()

# Public halves of throw-away keys (their private halves were never kept).
ED25519_ALICE = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ6OGVDhgMAO/YFyP87gsQI8tFdKDlCivk3QN6TcsIR1 alice@laptop"
)
ED25519_BOB = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIP2n8PVvPvwWQNWI8BZtMxlYuIaXW43cZ8ikYYlbSuPh bob@desk"
)


GIT = {"repository": "https://github.com/acme/tour-crm"}


def minimal_config() -> dict[str, Any]:
    """The smallest valid stack config (top-level key -> value, as in a stack file)."""
    return {
        "domain": "example.com",
        "server": {"type": "cx33", "location": "fsn1"},
        "ssh": {
            "adminCidrs": ["203.0.113.7/32"],
            "authorizedKeys": [{"name": "alice", "publicKey": ED25519_ALICE}],
        },
    }


def tour_crm_config() -> dict[str, Any]:
    """A full platform: every service with a hostname and three apps."""
    return {
        **minimal_config(),
        "server": {"type": "cx43", "location": "fsn1"},
        "services": {
            "postgres": {},
            "pgbouncer": {},
            "redis": {},
            "minio": {"hostname": "files"},
            "uptimeKuma": {"hostname": "status"},
        },
        "apps": [
            {"name": "crm", "git": GIT, "domains": ["crm"], "port": 3000},
            {"name": "book", "git": GIT, "domains": ["book"], "port": 3001},
            {"name": "worker", "git": GIT},
        ],
    }


def stage_three(**changes: Any) -> dict[str, Any]:
    """The full platform at the master plan's stage 3 (a private network and a database
    server), with `changes` by path ("databaseServer.type": ...)."""
    values = {**tour_crm_config(), "network": {}, "databaseServer": {"type": "cx33"}}
    for path, value in changes.items():
        values = with_value(values, path, value)
    return values


_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def with_value(config: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `config` with `path` ("ssh.adminCidrs[0]") set to `value`, or removed with
    DELETE. Missing objects on the way are created."""
    result = copy.deepcopy(config)
    steps: list[str | int] = [name if name else int(index) for name, index in _STEP.findall(path)]
    node: Any = result
    for step in steps[:-1]:
        node = node.setdefault(step, {}) if isinstance(step, str) else node[step]
    last = steps[-1]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return result


def config_strings(values: dict[str, Any]) -> dict[str, str]:
    """Top-level values -> the "platform:key" strings the CLI passes to the program."""
    return {
        f"{PROJECT}:{key}": value if isinstance(value, str) else json.dumps(value)
        for key, value in values.items()
    }


def evaluate_config(
    values: dict[str, Any],
    *,
    stack: str = "test",
    extra: dict[str, str] | None = None,
    secret_keys: list[str] | None = None,
    preview: bool = False,
) -> Recording:
    return evaluate(
        PROGRAM,
        project=PROJECT,
        stack=stack,
        config={**config_strings(values), **(extra or {})},
        secret_keys=secret_keys,
        preview=preview,
    )


def evaluate_ok(values: dict[str, Any], **kwargs: Any) -> Recording:
    recording = evaluate_config(values, **kwargs)
    if recording.error is not None:
        raise recording.error
    return recording


def evaluate_stack(stack: str) -> Recording:
    recording = engine.evaluate_stack(stack)
    if recording.error is not None:
        raise recording.error
    return recording


@cache
def generated_host_key() -> HostKey:
    """A real ED25519 key pair, as pulumi-tls makes a server's host key."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "host_key")
        assert run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)]).returncode == 0
        return HostKey(path.read_text(), Path(f"{path}.pub").read_text())


def server_host_key(recording: Recording, server: str = "server") -> str:
    """The host key the stack made for `server` (a Server component's name), as pinned."""
    public = reveal(recording.named(f"{server}-host-key").outputs["publicKeyOpenssh"])
    return " ".join(str(public).split()[:2])


def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a real tool; the result carries its output for the assertion message."""
    return subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)


def config_of(stack: str) -> StackConfig:
    """The validated config of a stack or stack file, as the offline plan reads it."""
    stack_file = read_stack_file(stack)
    return stack_config(stack_file.project, stack_file.config)


def npm_packages(folder: Path) -> Path:
    """`folder`'s node_modules, as `npm ci --prefix <folder>` installs them; a clear failure
    saying so where they are not (node would only say "Cannot find module")."""
    modules = folder / "node_modules"
    if not modules.is_dir():
        where = folder.relative_to(Path(__file__).resolve().parent.parent)
        pytest.fail(
            f"the npm packages of {where} are not installed: npm ci --prefix {where} (README, "
            '"Run the tests"; .ci/run installs them)',
            pytrace=False,
        )
    return modules


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
