"""`pulumi up`, `up` again, a preview of a change, and `destroy`, simulated for each kind of
stack with the Coolify resources really run (tests/simulated_up.py: the program under the
offline engine, every dynamic resource through the SDK's provider host over gRPC, the real SSH
tunnel into a real sshd on port 22, the fake Coolify on the server's 127.0.0.1:8000), in a
network namespace of the test's own."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from offline.stack_files import PROJECT_DIR, read_stack_file
from tests.simulated_up import kind
from tests.support import evaluate_stack

STACKS = ["production", "examples/scale-out.yaml"]


@cache
def report(stack: str) -> dict[str, Any]:
    out = Path(tempfile.mkdtemp(prefix="simulated-up-")) / "report.json"
    command = ["unshare", "--net", sys.executable, "-m", "tests.simulated_up", stack, str(out)]
    result = subprocess.run(
        command, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(out.read_text())  # type: ignore[no-any-return]


def names(steps: dict[str, str], step: str) -> list[str]:
    return sorted(urn.rsplit("::", 1)[1] for urn, done in steps.items() if done == step)


def coolify_resources(stack: str) -> list[str]:
    recording = evaluate_stack(stack)
    return sorted(r.name for r in recording.resources if r.type.startswith("pulumi-python:"))


def test_the_tools_are_here() -> None:
    assert shutil.which("unshare"), "util-linux's unshare (.ci/run installs it)"
    assert shutil.which("ip"), "iproute2's ip (.ci/run installs it)"


@pytest.mark.parametrize("stack", STACKS)
def test_up_creates_every_coolify_resource(stack: str) -> None:
    up = report(stack)["up"]
    assert up["error"] is None
    assert names(up["steps"], "create") == coolify_resources(stack)
    assert up["fake"]["projects"] == 1


@pytest.mark.parametrize("stack", STACKS)
def test_deploys_and_server_validations_wait_in_a_provider_host_of_their_own(stack: str) -> None:
    """The engine starts a host per provider, each serving four operations at a time: the
    waits for builds and validations must not hold the other Coolify operations back."""
    ran = report(stack)["providers"]
    waiting = {"Deploy", "RemoteServer"}
    for urn, provider in ran.items():
        assert provider == ("coolify-long-waits" if kind(urn) in waiting else "default"), urn
    assert sorted(report(stack)["host_pids"]) == ["coolify-long-waits", "default"]
    assert len(set(report(stack)["host_pids"].values())) == 2


@pytest.mark.parametrize("stack", STACKS)
def test_every_service_runs_on_coolifys_network(stack: str) -> None:
    """PgBouncer, MinIO and Uptime Kuma are reached by name from apps and databases: their
    containers must have joined the network when they started."""
    on_network = report(stack)["services_on_network"]
    assert on_network
    assert all(on_network.values()), on_network


@pytest.mark.parametrize("stack", STACKS)
def test_a_second_up_with_the_same_config_changes_nothing(stack: str) -> None:
    again = report(stack)["up_again"]
    assert again["error"] is None
    assert Counter(again["steps"].values()) == {"same": len(coolify_resources(stack))}
    assert again["fake"] == report(stack)["up"]["fake"]


@pytest.mark.parametrize("stack", STACKS)
def test_a_preview_shows_what_up_would_change_and_nothing_else(stack: str) -> None:
    """Only the servers' disk alert changes: no app, and above all no deploy, may show as
    changing (a computed output would be unknown in the preview and drag them along)."""
    preview = report(stack)["preview_disk_alert"]
    assert preview["error"] is None
    changed = names(preview["steps"], "update")
    assert changed == sorted(n for n in coolify_resources(stack) if n.endswith("-server"))
    assert set(preview["steps"].values()) == {"update", "same"}


@pytest.mark.parametrize("stack", STACKS)
def test_a_changed_app_setting_is_deployed_not_only_stored(stack: str) -> None:
    """Coolify stores a PATCH and applies it at the next deploy: the first app's memory
    limit must reach its containers, and no other app may be redeployed."""
    before, after = report(stack)["apps_before_change"], report(stack)["apps_after_change"]
    assert all(app["running"] == app["stored"] for app in before.values())
    config = read_stack_file(stack).config
    first = json.loads(next(v for k, v in config.items() if k.endswith(":apps")))[0]["name"]
    assert report(stack)["up_app_memory"]["error"] is None
    assert before[first]["running"] != "1024m"
    assert after[first] == {"stored": "1024m", "running": "1024m"}
    assert {name: app for name, app in after.items() if name != first} == {
        name: app for name, app in before.items() if name != first
    }
    steps = report(stack)["up_app_memory"]["steps"]
    assert names(steps, "update") == sorted([f"apps-{first}", f"apps-{first}-deploy"])


@pytest.mark.parametrize("stack", STACKS)
def test_a_changed_config_file_reaches_the_running_service(stack: str) -> None:
    """Coolify keeps a mounted file's first content at its path: the new pool size must reach
    the PgBouncer that runs, not only the stored compose."""
    assert "default_pool_size = 20" in report(stack)["pgbouncer_ini_before"]
    assert report(stack)["up_pool_size"]["error"] is None
    assert "default_pool_size = 27" in report(stack)["pgbouncer_ini_after"]
    steps = report(stack)["up_pool_size"]["steps"]
    assert names(steps, "update") == ["data-pgbouncer"]


@pytest.mark.parametrize("stack", STACKS)
def test_destroy_asks_nothing_of_a_coolify_that_goes_with_its_server(stack: str) -> None:
    destroy = report(stack)["destroy"]
    assert Counter(destroy["steps"].values()) == {"skip": len(coolify_resources(stack))}


@pytest.mark.parametrize("stack", STACKS)
def test_deleting_the_coolify_resources_in_reverse_order_leaves_coolify_empty(stack: str) -> None:
    destroy = report(stack)["destroy_coolify_only"]
    assert Counter(destroy["steps"].values()) == {"delete": len(coolify_resources(stack))}
    assert destroy["fake"] == {
        "projects": 0, "environments": 0, "resources": 0, "keys": 0, "servers": 0
    }  # fmt: skip


@pytest.mark.parametrize("stack", STACKS)
def test_the_whole_run_stays_within_coolifys_api_limit(stack: str) -> None:
    """Every up, change, preview and destroy of the run, polling included, on the hosts' fast
    clock (a minute lasts HOST_MINUTE): Coolify never has to refuse a request, and every query
    parameter sent is one its controllers read."""
    requests = report(stack)["requests"]
    assert requests["throttled"] == 0
    assert requests["peak_per_minute"] < 200
    assert requests["ignored_query"] == []


def test_a_signed_push_deploys_every_app_of_the_repository_and_a_forged_one_none() -> None:
    """GitHub's push webhook, to the URL and with the secret the stack outputs: one webhook
    per repository, and Coolify checks each app's secret against the signature."""
    run = report("production")
    assert run["up"]["webhooks"]["your-org/tour-crm"]["apps"] == ["crm", "book", "worker"]
    assert [r["message"] for r in run["push_forged"]] == ["Invalid signature."] * 3
    assert run["push_other_branch"].startswith("Nothing to do. No applications found")
    assert run["deployments_after_refused_pushes"] == run["deployments"]
    assert [r["message"] for r in run["push_signed"]] == ["Deployment queued."] * 3
