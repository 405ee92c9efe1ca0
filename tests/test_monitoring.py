"""Monitoring as the stack declares it: Uptime Kuma, its admin setup and AutoKuma as one
Coolify service, with one AutoKuma file per monitor and alert channel; the setup script run
with node against a stand-in for Kuma's Socket.IO API (the socket.io versions Kuma ships)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.errors import ConfigError
from offline.engine import Recording, find_leaks, is_secret, reveal
from offline.stack_files import PROJECT_DIR, read_stack_file, stack_config
from render.uptime_kuma import MONITORS_DIR, SETUP_SCRIPT
from tests.support import (
    DELETE,
    evaluate_config,
    evaluate_ok,
    evaluate_stack,
    npm_packages,
    tour_crm_config,
    with_value,
)

KUMA_TESTS = PROJECT_DIR / "tests" / "kuma"

# The fields AutoKuma's models read (kuma-client/src/models, v2.0.0): what a file may use.
COMMON = {"type", "name", "interval", "retryInterval", "maxretries", "notification_name_list"}
KNOWN_FIELDS = {
    "http": COMMON | {"url", "accepted_statuscodes"},
    "port": COMMON | {"hostname", "port"},
    "push": COMMON | {"pushToken"},
    "notification": {"type", "name", "active", "isDefault", "config"},
}


@cache
def production() -> Recording:
    return evaluate_stack("production")


def compose(recording: Recording) -> dict[str, Any]:
    service = recording.named("monitoring-uptime-kuma").inputs
    assert is_secret(service["compose"])
    return yaml.safe_load(reveal(service["compose"]))  # type: ignore[no-any-return]


def files(recording: Recording) -> dict[str, dict[str, Any]]:
    """AutoKuma's files, by id."""
    volumes = compose(recording)["services"]["autokuma"]["volumes"]
    return {
        Path(volume["target"]).stem: json.loads(volume["content"])
        for volume in volumes
        if isinstance(volume, dict) and volume["target"].startswith(MONITORS_DIR)
    }


def test_production_monitors_its_apps_data_services_and_jobs() -> None:
    recording = production()
    found = files(recording)
    assert set(found) == {
        "app-crm", "app-book", "app-worker", "postgresql", "pgbouncer", "redis", "minio",
        "push-backup", "push-drill", "push-mirror", "ops-email",
    }  # fmt: skip
    assert found["app-crm"]["url"] == "https://crm.example.com/api/health"
    assert found["app-worker"]["url"] == "https://jobs.example.com/api/inngest"
    assert found["app-crm"]["accepted_statuscodes"] == ["200-299"]  # a health path: healthy
    postgres = recording.named("data-postgres").id
    assert (found["postgresql"]["hostname"], found["postgresql"]["port"]) == (postgres, 5432)
    pgbouncer = recording.named("data-pgbouncer").id
    assert (found["pgbouncer"]["hostname"], found["pgbouncer"]["port"]) == (
        f"pgbouncer-{pgbouncer}",
        6432,
    )
    assert found["redis"]["hostname"] == recording.named("data-redis").id
    minio = recording.named("data-minio").id
    assert found["minio"]["url"] == f"http://minio-{minio}:9000/minio/health/live"
    for monitor in ("app-crm", "postgresql", "push-drill"):
        assert found[monitor]["notification_name_list"] == ["ops-email"]
        assert found[monitor]["retryInterval"] == 30
    assert (found["app-crm"]["interval"], found["app-crm"]["maxretries"]) == (60, 3)


def test_every_file_uses_fields_autokuma_knows() -> None:
    for monitor_id, body in files(production()).items():
        assert set(body) <= KNOWN_FIELDS[body["type"]], monitor_id


def test_the_jobs_push_to_the_monitors_that_wait_for_them() -> None:
    recording = production()
    found = files(recording)
    push = reveal(recording.stack_outputs["pushUrls"])
    # The longest gap between two runs, and an hour: a day (daily dumps), a week (the drill).
    for monitor, interval in (("backup", 25 * 3600), ("drill", (7 * 24 + 1) * 3600)):
        token = found[f"push-{monitor}"]["pushToken"]
        assert push[monitor] == f"https://status.example.com/api/push/{token}"
        assert len(token) == 32
        assert token.isalnum()
        assert found[f"push-{monitor}"]["interval"] == interval
        assert found[f"push-{monitor}"]["maxretries"] == 0


def test_alerts_go_to_the_configured_channel_with_its_secret() -> None:
    channel = files(production())["ops-email"]
    assert channel["isDefault"] is True
    assert channel["config"] == {
        "name": "ops-email", "type": "smtp", "smtpHost": "smtp.resend.com", "smtpPort": 465,
        "smtpSecure": True, "smtpUsername": "resend",
        "smtpPassword": "offline-placeholder-resendApiKey",
        "smtpFrom": "alerts@example.com", "smtpTo": "ops@example.com",
    }  # fmt: skip


def test_kuma_autokuma_and_the_setup_share_the_generated_password() -> None:
    recording = production()
    services = compose(recording)["services"]
    password = reveal(recording.stack_outputs["uptimeKumaPassword"])
    assert is_secret(recording.stack_outputs["uptimeKumaPassword"])
    assert services["kuma-setup"]["environment"]["KUMA_PASSWORD"] == password
    assert services["autokuma"]["environment"]["AUTOKUMA__KUMA__PASSWORD"] == password
    assert services["autokuma"]["depends_on"] == {
        "kuma-setup": {"condition": "service_completed_successfully"}
    }
    assert services["autokuma"]["environment"]["AUTOKUMA__ON_DELETE"] == "delete"
    assert services["uptime-kuma"]["image"] == "louislam/uptime-kuma:1.23.16"
    assert services["autokuma"]["image"] == "ghcr.io/bigboot/autokuma:uptime-kuma-v1-2.0.0"
    setup = services["kuma-setup"]["volumes"][0]
    assert setup["content"] == SETUP_SCRIPT.read_text()
    assert recording.named("monitoring-uptime-kuma").protect is True
    assert find_leaks(recording) == []


def with_kuma(**kuma: Any) -> dict[str, Any]:
    values = tour_crm_config()
    values["services"]["uptimeKuma"] |= kuma
    return values


BAG = {"platform:secrets": json.dumps({"slackHook": "https://hooks.slack.com/services/T/B/x"})}


def evaluate(values: dict[str, Any], bag: dict[str, str] | None = None) -> Recording:
    secrets = BAG if bag is None else bag
    return evaluate_config(values, extra=secrets, secret_keys=list(secrets))


def test_monitors_follow_the_config() -> None:
    slack = [{"name": "ops-slack", "slack": {"webhookUrl": {"secret": "slackHook"}}}]
    before = files(evaluate(with_kuma(notifications=slack)))
    assert before["ops-slack"]["config"] == {
        "name": "ops-slack", "type": "slack",
        "slackwebhookURL": "https://hooks.slack.com/services/T/B/x",
    }  # fmt: skip
    assert "push-backup" not in before  # no backups configured: no push monitors
    fewer = with_value(with_kuma(notifications=slack), "apps[1]", DELETE)
    after = files(evaluate(fewer))
    assert set(before) - set(after) == {"app-book"}  # AutoKuma deletes its monitor


def test_a_channel_names_one_kind_and_its_secret_must_be_in_the_bag() -> None:
    both = [{"name": "ops", "slack": {"webhookUrl": {"secret": "slackHook"}},
             "discord": {"webhookUrl": {"secret": "slackHook"}}}]  # fmt: skip
    recording = evaluate(with_kuma(notifications=both))
    assert isinstance(recording.error, ConfigError)
    assert (
        "platform:services.uptimeKuma.notifications[0].discord: notification 'ops' needs "
        "exactly one of email, slack or discord, not slack and discord" in str(recording.error)
    )
    missing = [{"name": "ops", "discord": {"webhookUrl": {"secret": "discordHook"}}}]
    recording = evaluate(with_kuma(notifications=missing))
    assert isinstance(recording.error, ConfigError)
    assert (
        "platform:secrets.discordHook: required by "
        "services.uptimeKuma.notifications[0].discord.webhookUrl" in str(recording.error)
    )


def test_autokuma_is_in_the_memory_budget() -> None:
    stack_file = read_stack_file("production")
    budget = stack_config(stack_file.project, stack_file.config).memory_budget()
    assert ("autokuma (its monitors as code)", 64) in budget


# --- the admin setup, against a stand-in for Kuma's Socket.IO API ---------------------------


class FakeKuma:
    def __init__(self, tmp_path: Path, users: dict[str, Any]) -> None:
        self.state = tmp_path / "kuma.json"
        env = {
            **os.environ,
            "NODE_PATH": str(npm_packages(KUMA_TESTS)),
            "FAKE_KUMA_USERS": json.dumps(users),
            "FAKE_KUMA_STATE": str(self.state),
        }
        self.process = subprocess.Popen(
            ["node", str(KUMA_TESTS / "fake-kuma.js")], env=env, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        self.url = f"http://127.0.0.1:{self.process.stdout.readline().strip()}"
        self.process.stdout.close()

    def stop(self) -> dict[str, Any]:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=10)
        return json.loads(self.state.read_text())  # type: ignore[no-any-return]


@pytest.fixture
def start_kuma(tmp_path: Path) -> Iterator[Callable[[dict[str, Any]], FakeKuma]]:
    """Start a stand-in Kuma with these users (none: it needs its setup)."""
    started: list[FakeKuma] = []

    def start(users: dict[str, Any]) -> FakeKuma:
        started.append(FakeKuma(tmp_path, users))
        return started[-1]

    yield start
    for fake in started:
        if fake.process.poll() is None:
            fake.stop()


PASSWORD = "GeneratedPassword0123456789abcdef"


def setup(url: str, password: str = PASSWORD, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", str(SETUP_SCRIPT)],
        env={
            "PATH": os.environ["PATH"],
            "NODE_PATH": str(npm_packages(KUMA_TESTS)),
            "KUMA_URL": url,
            "KUMA_USERNAME": "admin",
            "KUMA_PASSWORD": password,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_first_start_creates_the_admin_and_later_ones_log_in(
    start_kuma: Callable[[dict[str, Any]], FakeKuma],
) -> None:
    kuma = start_kuma({})
    first = setup(kuma.url)
    assert (first.returncode, first.stdout) == (0, "kuma-setup: created the admin user admin\n")
    again = setup(kuma.url)
    assert (again.returncode, again.stdout) == (0, "kuma-setup: the admin user admin logs in\n")
    state = kuma.stop()
    assert state["users"] == {"admin": {"password": PASSWORD, "twoFA": False}}
    assert state["calls"] == ["needSetup", "setup", "needSetup", "login"]
    assert PASSWORD not in first.stdout + first.stderr + again.stdout + again.stderr


def test_a_changed_password_stops_autokuma_with_what_to_do(
    start_kuma: Callable[[dict[str, Any]], FakeKuma],
) -> None:
    kuma = start_kuma({"admin": {"password": "ChangedInTheDashboard1", "twoFA": False}})
    result = setup(kuma.url)
    assert result.returncode == 1
    assert "cannot log in with the stack's password (Incorrect username or password.)" in (
        result.stderr
    )
    assert "uptimeKumaPassword" in result.stderr
    assert PASSWORD not in result.stderr


def test_two_factor_authentication_is_reported(
    start_kuma: Callable[[dict[str, Any]], FakeKuma],
) -> None:
    result = setup(start_kuma({"admin": {"password": PASSWORD, "twoFA": True}}).url)
    assert result.returncode == 1
    assert "the admin user admin has two-factor authentication on" in result.stderr


def test_kuma_refuses_a_weak_password_and_so_does_the_setup(
    start_kuma: Callable[[dict[str, Any]], FakeKuma],
) -> None:
    result = setup(start_kuma({}).url, password="weak")
    assert result.returncode == 1
    assert "setup refused: Password is too weak" in result.stderr


def test_no_kuma_fails_after_the_timeout() -> None:
    result = setup("http://127.0.0.1:9", TIMEOUT_SECONDS="2")
    assert result.returncode == 1
    assert "no answer from http://127.0.0.1:9 in 2 s" in result.stderr


def test_the_scripts_pass_node_check() -> None:
    for script in (SETUP_SCRIPT, KUMA_TESTS / "fake-kuma.js"):
        result = subprocess.run(
            ["node", "--check", str(script)], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr


def test_an_app_without_a_health_path_is_up_while_it_answers() -> None:
    """Its `/` may well be a 404 or a 401: any answer below 500 is up, not only a 2xx."""
    found = files(evaluate_ok(tour_crm_config()))  # its crm has no health check
    assert found["app-crm"]["url"] == "https://crm.example.com/"
    assert found["app-crm"]["accepted_statuscodes"] == ["200-499"]
