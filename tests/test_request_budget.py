"""The request budget that keeps a `pulumi up` under Coolify's API limit: clients in several
processes (the engine's two provider hosts) and threads (its concurrent operations) share it,
against the fake's limit (Laravel's fixed window), in real time on a one-second window."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from coolify.budget import RATE_LIMIT_VARIABLE, RequestBudget, requests_per_minute
from offline.stack_files import PROJECT_DIR
from tests.fake_coolify import FakeCoolify, running_fake

TOKEN = "budget-test-token-0123456789abcdefghij"
LIMIT = 20  # the fake's requests per window
WINDOW = 1.0
# One provider host: threads polling at once, each as a wait for a deploy does.
HOST = """
import sys, threading
from pathlib import Path
from coolify.budget import RequestBudget
from coolify.client import CoolifyClient

url, token, folder = sys.argv[1:4]
budget = RequestBudget("https://coolify.example.com", limit=15, window=1.0, folder=Path(folder))

def poll():
    with CoolifyClient(url, token, budget=budget) as coolify:
        for _ in range(8):
            coolify.get("/version")

threads = [threading.Thread(target=poll) for _ in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
"""


@pytest.fixture
def fake() -> Iterator[FakeCoolify]:
    with running_fake(TOKEN) as server:
        server.rate_limit, server.rate_window = LIMIT, WINDOW
        yield server


def run_hosts(fake: FakeCoolify, *folders: Path) -> None:
    hosts = [
        subprocess.Popen(
            [sys.executable, "-c", HOST, fake.url, TOKEN, str(folder)], cwd=PROJECT_DIR
        )
        for folder in folders
    ]
    assert [host.wait(timeout=60) for host in hosts] == [0] * len(hosts)


def test_two_hosts_sharing_the_budget_are_never_refused(fake: FakeCoolify, tmp_path: Path) -> None:
    """64 requests at 15 a second: over four seconds, and none past the fake's 20."""
    run_hosts(fake, tmp_path, tmp_path)
    assert len(fake.requests) == 64
    assert fake.throttled == 0
    # 15 sent in any second; the arrivals shift by the network's delays, never past 20.
    assert fake.peak_requests(WINDOW) <= LIMIT


def test_without_a_shared_budget_the_same_polling_is_refused(
    fake: FakeCoolify, tmp_path: Path
) -> None:
    """The control: each host with a budget of its own sends up to 30 a second, and the
    fake refuses the excess (the client then waits out Retry-After)."""
    run_hosts(fake, tmp_path / "one", tmp_path / "two")
    assert fake.throttled > 0


def test_a_budget_waits_for_the_oldest_request_to_leave_the_window(tmp_path: Path) -> None:
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        budget.path.unlink()  # as if the minute had passed

    budget = RequestBudget("https://c.example", limit=2, window=60, folder=tmp_path, sleep=sleep)
    budget.take()
    budget.take()
    budget.take()  # full: waits, then goes
    assert len(waits) == 1
    assert 59 < waits[0] <= 60


def test_the_budget_is_three_quarters_of_coolifys_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(RATE_LIMIT_VARIABLE, raising=False)
    assert requests_per_minute() == 150
    monkeypatch.setenv(RATE_LIMIT_VARIABLE, "600")
    assert requests_per_minute() == 450
    monkeypatch.setenv(RATE_LIMIT_VARIABLE, "lots")
    with pytest.raises(ValueError, match="COOLIFY_API_RATE_LIMIT='lots': set it to the"):
        requests_per_minute()
