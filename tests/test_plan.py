"""The offline plan: the README's first command, on every stack."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import offline.plan
from config import parse_stack_config
from offline.engine import evaluate, reveal
from offline.plan import MASK, apps_section, main, masked, placeholders_section, plan, render_plan
from offline.stack_files import (
    PROGRAM,
    PROJECT_DIR,
    StackFile,
    is_placeholder,
    stack_names,
)
from tests.support import (
    PROJECT,
    config_of,
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
    text = render_plan(recording, parse_stack_config(minimal_config(), "platform"), [], [])
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


def stack_file_at(tmp_path: Path, values: dict[str, Any], name: str = "mine") -> str:
    """A stack file of these settings, as a user writes it."""
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"config": {f"platform:{k}": v for k, v in values.items()}}))
    return str(path)


def test_a_policy_violation_fails_the_plan_and_no_secret_literal_is_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README calls the policies mandatory: the plan fails as `pulumi up` would."""
    values = with_value(
        tour_crm_config(),
        "apps[0].env",
        {"API_TOKEN": "abc123", "UPSTREAM": "https://bob:hunter2@api.internal/x"},
    )
    assert main([stack_file_at(tmp_path, values)]) == 1
    out, err = capsys.readouterr()
    assert "policy violation: env-secrets-secret: apps-crm-env: API_TOKEN looks like" in err
    assert "UPSTREAM is a URL with a password" in err
    assert "abc123" not in out + err
    assert "hunter2" not in out + err
    rows = [" ".join(line.split()) for line in out.splitlines()]
    assert f"API_TOKEN run {MASK} written in the stack file (refused by env-secrets-secret)" in rows
    assert f"UPSTREAM run https://bob:{MASK}@api.internal/x" in rows


def test_a_secret_looking_config_key_is_masked_as_a_variable_is() -> None:
    rows = placeholders_section(
        [("secrets.stripeSecretKey", "sk_live_replace_me"), ("backups.offsite.bucket", "b")]
    )
    assert "sk_live_replace_me" not in "\n".join(rows)
    assert any(row.split()[:2] == ["backups.offsite.bucket", "b"] for row in rows)


def test_the_plan_lists_every_placeholder_and_what_would_stop_a_real_up() -> None:
    text = plan("production").text
    start = text.index("Placeholders still in the stack file (26)")
    assert start < text.index("Resources (")  # at the top, after the secrets
    rows = {" ".join(line.split()) for line in text.splitlines()}
    for row in (
        "domain example.com",
        "ssh.adminCidrs[0] 203.0.113.0/24",
        "services.uptimeKuma.notifications[0].email.to ops@example.com",
        "apps[0].git.repository https://github.com/your-org/tour-crm",
        "apps[0].env.NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY pk_live_replace_me",
        "apps[0].env.NEXT_PUBLIC_SENTRY_DSN https://replace-me@o0.ingest.sentry.io/0",
        "apps[0].env.TWILIO_ACCOUNT_SID ACreplace_me",
        "apps[0].env.TWILIO_PHONE_NUMBER +10000000000",
        "backups.offsite.bucket replace-me-tour-crm-backups",
    ):
        assert row in rows
    blockers = plan("production").blockers
    assert blockers[0] == "15 secret(s) missing: `pulumi preview` stops at the first"
    assert blockers[1].startswith("ssh.adminCidrs admits only documentation networks")
    assert "ssh.authorizedKeys[0].publicKey is a placeholder: nobody holds" in blockers[3]


def test_strict_fails_while_something_would_stop_a_real_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["--strict", "production"]) == 1
    assert "stack production: would stop `pulumi up`: 15 secret(s)" in capsys.readouterr().err
    values = with_value(minimal_config(), "domain", "acme.dev")
    values = with_value(values, "ssh.adminCidrs", ["85.10.20.0/24"])
    path = stack_file_at(tmp_path, values)
    found = plan(path)
    assert "Placeholders: none" in found.text
    # Only the providers' tokens are missing; the quick start exports them (README).
    assert found.blockers == ("2 secret(s) missing: `pulumi preview` stops at the first",)
    monkeypatch.setenv("HCLOUD_TOKEN", "token-from-the-environment")
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "token-from-the-environment")
    found = plan(path)
    assert found.blockers == ()
    assert re.search(r"^  hcloud:token +set in the environment", found.text, re.M)
    assert "token-from-the-environment" not in found.text
    assert main(["--strict", path]) == 0


@pytest.mark.parametrize(
    ("value", "placeholder"),
    [
        ("example.com", True),
        ("ops@example.org", True),
        ("https://api.example.net/x", True),
        ("crm.staging.test", True),
        ("pk_live_replace_me", True),
        ("REPLACE-ME", True),
        ("https://github.com/your-org/app", True),
        ("+10000000000", True),
        ("198.51.100.4/32", True),
        ("2001:db8::/48", True),
        ("examples.com", False),
        ("myexample.com", False),
        ("203.0.114.0/24", False),
        ("+14155550123", False),
        ("pk_live_51Habc", False),
    ],
)
def test_what_counts_as_a_placeholder(value: str, placeholder: bool) -> None:
    assert is_placeholder(value) is placeholder


def test_the_plan_shows_what_it_installs() -> None:
    """Coolify's release, every image the stack deploys with its tag, and the PostgreSQL and
    PgBouncer settings, as the files placed on the server have them."""
    text = plan("production").text
    section = text[text.index("What it installs") : text.index("Resources (")]
    assert "Coolify 4.3.10 (its install.sh checked against sha256" in section
    config = config_of("production")
    for image in (
        config.services.postgres.image,
        config.services.pgbouncer.image,
        config.services.redis.image,
        config.services.minio.image,
        config.services.uptime_kuma.image,
        config.backups.aws_cli_image,
    ):
        assert image in section
    recording = evaluate_stack("production")
    compose = yaml.safe_load(reveal(recording.named("data-pgbouncer").inputs["compose"]))
    ini = next(
        reveal(volume["content"])
        for service in compose["services"].values()
        for volume in service.get("volumes", [])
        if isinstance(volume, dict) and str(volume.get("target", "")).endswith("pgbouncer.ini")
    )
    for line in ini.splitlines():
        if " = " in line and line.split(" = ")[0] in ("max_client_conn", "default_pool_size"):
            key, value = line.split(" = ")
            assert f"{key} {value}" in section
    assert "shared_buffers 1024MB" in section


def test_a_yaml_error_is_one_line_with_file_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("config:\n  platform:domain: [example.com\n  platform:server: {}\n")
    assert main([str(broken)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("stack ")
    assert "broken.yaml, line 3, column 18: expected ',' or ']', but got ':'" in err
    assert "Traceback" not in err
    assert err.count("\n") == 1


def test_a_plain_key_stored_as_secret_is_one_problem_without_stand_ins(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = Path(stack_file_at(tmp_path, minimal_config()))
    text = path.read_text().replace(
        "platform:domain: example.com", "platform:domain:\n    secure: v1:AAAA:BBBB"
    )
    path.write_text(text)
    assert main([str(path)]) == 1
    err = capsys.readouterr().err
    assert "the stack config has 1 problem(s)" in err
    assert "platform:domain: stored as a secret, but it holds no secret" in err
    assert "offline" not in err
