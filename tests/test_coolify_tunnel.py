"""Providers reach Coolify through an SSH tunnel: a real sshd with the platform's hardening
on loopback, forwarding to the fake Coolify API. The host key is pinned. (Every provider test
goes through such a tunnel too: tests/test_coolify_providers.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from coolify.client import CoolifyError
from coolify.connection import connect
from tests.fake_coolify import FakeCoolify, running_fake
from tests.sshd import RunningSshd, tunnel_to
from tests.support import run

TOKEN = "token-through-the-tunnel-0123456789"


@pytest.fixture
def fake() -> Iterator[FakeCoolify]:
    with running_fake(TOKEN) as server:
        yield server


def tunnelled(fake: FakeCoolify, sshd: RunningSshd, **ssh: Any) -> dict[str, Any]:
    options = {**tunnel_to(fake.url, sshd), **ssh}
    return {"url": "https://unused.example.com", "token": TOKEN, "ssh": options}


def test_the_api_is_reached_through_the_hardened_sshd(
    fake: FakeCoolify, running_sshd: RunningSshd
) -> None:
    with connect(tunnelled(fake, running_sshd)) as coolify:
        assert coolify.get("/version") == "4.3.10"


def test_a_wrong_host_key_is_refused_without_leaking_the_key(
    fake: FakeCoolify, running_sshd: RunningSshd
) -> None:
    connection = tunnelled(
        fake,
        running_sshd,
        host_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ6OGVDhgMAO/YFyP87gsQI8tFdKDlCivk3QN6TcsIR1",
    )
    with pytest.raises(CoolifyError) as raised, connect(connection):
        pass
    assert "Host key verification failed" in str(raised.value)
    assert "PRIVATE KEY" not in str(raised.value)


def test_an_unknown_key_is_refused(
    fake: FakeCoolify, running_sshd: RunningSshd, tmp_path: Any
) -> None:
    other = tmp_path / "other"
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)])
    with (
        pytest.raises(CoolifyError, match="Permission denied"),
        connect(tunnelled(fake, running_sshd, private_key=other.read_text())),
    ):
        pass
