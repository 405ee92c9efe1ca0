"""Every test leaves Pulumi's process-global runtime as it found it."""

from __future__ import annotations

from collections.abc import Iterator

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
