"""Every test leaves Pulumi's process-global runtime as it found it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pulumi.runtime.settings import get_root_resource

from tests.sshd import privsep_dir, running_sshd

__all__ = ["privsep_dir", "running_sshd"]  # fixtures shared by the sshd and tunnel tests


@pytest.fixture(autouse=True)
def _pulumi_runtime_is_reset() -> Iterator[None]:
    """set_mocks is process-global; offline.engine.evaluate resets it, and this checks that
    no test leaves mocks, a root stack or an event loop behind for the next one."""
    yield
    assert get_root_resource() is None
