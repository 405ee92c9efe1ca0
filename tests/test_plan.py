"""The offline plan: the README's first command, on every stack."""

from __future__ import annotations

import sys

import pytest

import offline.plan
from config import parse_stack_config
from offline.engine import evaluate
from offline.plan import MASK, apps_section, main, masked, plan, render_plan
from offline.stack_files import PROGRAM, PROJECT_DIR, StackFile, stack_names
from tests.support import (
    PROJECT,
    config_strings,
    evaluate_stack,
    minimal_config,
    run,
    tour_crm_config,
    with_value,
)


@pytest.mark.parametrize("stack", stack_names())
def test_the_plan_shows_resources_dns_firewall_server_and_outputs(stack: str) -> None:
    text = plan(stack).text
    for heading in ("Resources (", "DNS records (", "Firewall server-firewall", "Server platform-",
                    "cloud-init user data", "#cloud-config", "Stack outputs", "Apps (",
                    "App environments",
                    "Memory budget (", "Estimated monthly cost",
                    "Policy pack (6 policies): no violation(s)"):  # fmt: skip
        assert heading in text, heading
    assert "hcloud:index/server:Server" in text


def test_the_production_plan_has_the_tables() -> None:
    text = plan("production").text
    outputs = evaluate_stack("production").stack_outputs
    rows = [line.split() for line in text.splitlines()]
    ipv4, ipv6 = outputs["serverIpv4"], outputs["serverIpv6"]
    assert ["crm.example.com", "A", ipv4, "yes", "auto"] in [r[:5] for r in rows]
    assert ["coolify.example.com", "AAAA", ipv6, "no", "300"] in [r[:5] for r in rows]
    assert ["in", "tcp", "22", "203.0.113.0/24"] in [r[:4] for r in rows]
    assert ["in", "tcp", "443", "0.0.0.0/0", "::/0"] in [r[:5] for r in rows]
    assert "protected; ignores changes to userData, sshKeys" in text
    assert "zone settings: always_use_https=on, min_tls_version=1.2, ssl=strict" in text


def test_the_apps_table_shows_limits_health_checks_and_commands() -> None:
    values = with_value(tour_crm_config(), "apps[0].cpus", 1.5)
    values = with_value(values, "apps[0].health", {"path": "/api/health", "method": "HEAD"})
    values = with_value(values, "apps[0].postDeployCommand", "npx prisma migrate deploy")
    rows = apps_section(parse_stack_config(values, PROJECT))
    crm = next(row for row in rows if row.split()[0] == "crm")
    assert "1.5" in crm.split()
    assert "HEAD http /api/health -> 200, every 30s (timeout 5s, 3 tries, 30s to start)" in crm
    assert crm.endswith("npx prisma migrate deploy")
    worker = next(row for row in rows if row.split()[0] == "worker")
    assert "no limit" in worker


def test_the_data_services_table_shows_limits_pools_and_the_eviction_policy() -> None:
    text = plan("production").text
    section = text[text.index("Data services") :].split("\n\n")[0].splitlines()[2:]
    rows = {line.split()[0]: line for line in section}
    assert set(rows) == {"postgres", "pgbouncer", "redis"}
    assert rows["redis"].endswith("maxmemory 512 MB, noeviction")
    assert "database.pooledUrl (libpq drivers)" in rows["pgbouncer"]
    assert rows["postgres"].split()[1:3] == ["4096", "no"]


def test_the_imports_table_shows_what_each_takes_and_its_command() -> None:
    text = plan("production").text
    section = text[text.index("Imports (") :].split("\n\n")[0].splitlines()[2:]
    rows = {line.split()[0]: line for line in section}
    assert set(rows) == {"postgres", "buckets"}
    command = "systemctl start platform-import-postgres"
    assert f"{command}  every schema but Supabase's own" in rows["postgres"]
    assert rows["buckets"].endswith("tour-images -> tour-images, documents -> documents")
    assert "Imports: none" in plan("staging").text


def test_the_plan_is_the_same_every_time() -> None:
    """Resources register from several threads; the plan must not show their order."""
    assert len({plan("production") for _ in range(5)}) == 1  # text and diagram


def test_secret_values_are_masked() -> None:
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": "pw"}
    assert masked({"url": secret, "list": [secret, "plain"]}) == {
        "url": MASK,
        "list": [MASK, "plain"],
    }


def test_secret_stack_outputs_are_masked_in_the_plan() -> None:
    recording = evaluate(
        PROGRAM, project="platform", stack="test", config=config_strings(minimal_config())
    )
    recording.stack_outputs["databaseUrl"] = {
        "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
        "value": "postgres://app:hunter2hunter2@db/app",
    }
    text = render_plan(recording, parse_stack_config(minimal_config(), "platform"))
    assert f"databaseUrl = {MASK}" in text
    assert "hunter2" not in text


def test_an_unknown_stack_fails_with_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nope"]) == 1
    assert (
        "no stack file Pulumi.nope.yaml; the stacks here are: production, staging"
        in capsys.readouterr().err
    )


def test_a_config_error_is_reported_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = StackFile("platform", "broken", config_strings({**minimal_config(), "domian": "x"}), [])
    monkeypatch.setattr(offline.plan, "read_stack_file", lambda _stack: bad)
    assert main(["broken"]) == 1
    error = capsys.readouterr().err
    assert "platform:domian: unknown key" in error
    assert "Traceback" not in error


def test_the_readme_command_runs_on_every_stack_in_seconds() -> None:
    result = run([sys.executable, "-m", "offline.plan"], cwd=PROJECT_DIR, timeout=120)
    assert result.returncode == 0, result.stderr
    for stack in stack_names():
        assert f"Plan of stack platform/{stack}" in result.stdout
