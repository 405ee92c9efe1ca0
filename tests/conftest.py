"""Every test leaves Pulumi's process-global runtime as it found it, and a test whose real
tool is not installed fails saying which package brings it."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from pulumi.runtime.settings import get_root_resource

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


def _missing_tool(error: FileNotFoundError) -> str | None:
    name = Path(str(error.filename or "")).name
    return name if name in PACKAGES else None


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
        if (tool := _missing_tool(error)) is None:
            raise
        pytest.fail(
            f'{tool} is not installed: apt-get install {PACKAGES[tool]} (README, "Run the '
            'tests", lists every package; .ci/run installs them)',
            pytrace=False,
        )
