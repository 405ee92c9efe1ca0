"""Every test leaves Pulumi's process-global runtime as it found it, and a test whose real
tool is not installed fails saying which package brings it."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from pulumi.runtime.settings import get_root_resource

from offline.stack_files import PROVIDER_TOKENS
from tests.offsite import buckets, monitor, s3, source
from tests.sshd import privsep_dir, running_sshd, shared_sshd

# Fixtures shared by modules: sshd (the sshd and tunnel tests), offsite (the backup tests).
__all__ = ["buckets", "monitor", "privsep_dir", "running_sshd", "s3", "shared_sshd", "source"]


@pytest.fixture(autouse=True)
def _pulumi_runtime_is_reset() -> Iterator[None]:
    """set_mocks is process-global; offline.engine.evaluate resets it, and this checks that
    no test leaves mocks, a root stack or an event loop behind for the next one."""
    yield
    assert get_root_resource() is None


# The programs the tests run, by the Debian package that brings each (README, "Run the
# tests"; .ci/run installs them all).
PACKAGES = {
    "cloud-init": "cloud-init",
    "sshd": "openssh-server",
    "ssh": "openssh-client",
    "ssh-keygen": "openssh-client",
    "fail2ban-client": "fail2ban",
    "openssl": "openssl",
    "shellcheck": "shellcheck",
    "initdb": "postgresql-15",
    "pg_ctl": "postgresql-15",
    "postgres": "postgresql-15",
    "psql": "postgresql-15",
    "pg_dump": "postgresql-15",
    "pg_restore": "postgresql-15",
    "pgbouncer": "pgbouncer",
    "redis-server": "redis-server",
    "redis-cli": "redis-server",
    "mariadbd": "mariadb-server",
    "mariadb": "mariadb-server",
    "mariadb-install-db": "mariadb-server",
    "aws": "awscli",
    "rclone": "rclone",
    "systemd-analyze": "systemd",
    "unshare": "util-linux",
    "ip": "iproute2",
    "dot": "graphviz",
    "node": "nodejs",
    "apt-config": "apt",
}


# The programs that come from PyPI, into the venv, by requirements-dev.txt.
PIP_PACKAGES = {"ssh-audit": "ssh-audit", "zizmor": "zizmor"}


def install_hint(error: FileNotFoundError) -> str | None:
    """How to install the program a test could not start, if it is one of the suite's."""
    name = Path(str(error.filename or "")).name
    if name in PACKAGES:
        return f"{name} is not installed: apt-get install {PACKAGES[name]}"
    if name in PIP_PACKAGES:
        return (
            f"{name} is not installed: .venv/bin/pip install -r requirements-dev.txt "
            f"(it pins {PIP_PACKAGES[name]})"
        )
    return None


@pytest.fixture(autouse=True)
def _no_provider_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plan counts a provider's token exported in the environment as set: a developer's
    own exports must not change what the tests expect."""
    for variable in PROVIDER_TOKENS.values():
        monkeypatch.delenv(variable, raising=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    return (yield from _tool_or_fail())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    return (yield from _tool_or_fail())


def _tool_or_fail() -> Generator[None, None, None]:
    try:
        return (yield)
    except FileNotFoundError as error:
        if (hint := install_hint(error)) is None:
            raise
        pytest.fail(
            f'{hint} (README, "Run the tests", lists every package; .ci/run installs them)',
            pytrace=False,
        )
