"""The fake Coolify behaves as Coolify 4.3.10's controllers and jobs do (each rule cites its
source in tests/fake_coolify.py): asked over real HTTP, as the providers ask it."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml

from coolify.client import CoolifyClient, CoolifyError, CoolifyNotFound
from coolify.providers import b64
from tests.fake_coolify import FakeCoolify, running_fake

TOKEN = "fake-rules-token-0123456789abcdef"
COMPOSE = "services:\n  minio:\n    image: minio/minio:RELEASE.2025-04-22T22-12-26Z\n"


@pytest.fixture
def fake() -> Iterator[FakeCoolify]:
    with running_fake(TOKEN) as server:
        yield server


@pytest.fixture
def coolify(fake: FakeCoolify) -> Iterator[CoolifyClient]:
    with CoolifyClient(fake.url, TOKEN, attempts=1) as client:
        yield client


@pytest.fixture
def placement(fake: FakeCoolify, coolify: CoolifyClient) -> dict[str, str]:
    project = coolify.post("/projects", {"name": "platform"})["uuid"]
    return {"server_uuid": fake.server_uuid, "project_uuid": project,
            "environment_name": "production"}  # fmt: skip


def image_app(coolify: CoolifyClient, placement: dict[str, str], **fields: Any) -> str:
    body = {**placement, "docker_registry_image_name": "nginx", "ports_exposes": "80", **fields}
    return str(coolify.post("/applications/dockerimage", body)["uuid"])


@pytest.mark.parametrize("path", ["/projects", "/projects/{project}/environments"])
def test_names_shorter_than_three_characters_are_refused(
    coolify: CoolifyClient, placement: dict[str, str], path: str
) -> None:
    with pytest.raises(CoolifyError) as raised:
        coolify.post(path.format(project=placement["project_uuid"]), {"name": "qa"})
    assert raised.value.field_errors == {"name": ["The name field must be at least 3 characters."]}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("dockerfile_location", "apps/web/Dockerfile"),
        ("base_directory", "apps/web"),
        ("docker_registry_image_tag", "sha256:" + "a" * 64),
    ],
)
def test_paths_and_tags_coolify_refuses(
    coolify: CoolifyClient, placement: dict[str, str], field: str, value: str
) -> None:
    app = image_app(coolify, placement)
    with pytest.raises(CoolifyError) as raised:
        coolify.patch(f"/applications/{app}", {field: value})
    assert raised.value.status == 422
    assert list(raised.value.field_errors) == [field]


def test_a_deploy_while_one_is_pending_is_skipped_with_a_uuid_that_names_nothing(
    fake: FakeCoolify, coolify: CoolifyClient, placement: dict[str, str]
) -> None:
    app = image_app(coolify, placement)
    (first,) = coolify.post("/deploy", params={"uuid": app})["deployments"]
    assert first["message"].endswith(" deployment queued.")
    (second,) = coolify.post("/deploy", params={"uuid": app})["deployments"]
    assert second["message"] == "Deployment already queued for this commit."
    assert second["deployment_uuid"] != first["deployment_uuid"]
    with pytest.raises(CoolifyNotFound):
        coolify.get(f"/deployments/{second['deployment_uuid']}")
    (forced,) = coolify.post("/deploy", params={"uuid": app, "force": "true"})["deployments"]
    assert coolify.get(f"/deployments/{forced['deployment_uuid']}")["status"] == "in_progress"


def test_patch_stores_and_only_a_finished_deploy_runs_the_settings(
    fake: FakeCoolify, coolify: CoolifyClient, placement: dict[str, str]
) -> None:
    app = image_app(coolify, placement, limits_memory="512m")
    assert fake.running(app) is None  # created, never deployed
    (queued,) = coolify.post("/deploy", params={"uuid": app})["deployments"]
    while coolify.get(f"/deployments/{queued['deployment_uuid']}")["status"] != "finished":
        pass
    coolify.patch(f"/applications/{app}", {"limits_memory": "768m"})
    assert fake.running(app)["limits_memory"] == "512m"  # type: ignore[index]
    (again,) = coolify.post("/deploy", params={"uuid": app})["deployments"]
    while coolify.get(f"/deployments/{again['deployment_uuid']}")["status"] != "finished":
        pass
    assert fake.running(app)["limits_memory"] == "768m"  # type: ignore[index]


def test_a_service_joins_the_network_only_if_the_flag_is_set_when_it_starts(
    fake: FakeCoolify, coolify: CoolifyClient, placement: dict[str, str]
) -> None:
    body = {**placement, "name": "minio", "docker_compose_raw": b64(COMPOSE)}
    with pytest.raises(CoolifyError) as refused:  # not in the create's allow-list
        coolify.post("/services", {**body, "connect_to_docker_network": True})
    assert refused.value.field_errors == {
        "connect_to_docker_network": ["This field is not allowed."]
    }
    started_at_create = coolify.post("/services", {**body, "instant_deploy": True})["uuid"]
    coolify.patch(f"/services/{started_at_create}", {"connect_to_docker_network": True})
    assert not fake.on_coolify_network(started_at_create)  # stored; nothing restarted
    with pytest.raises(CoolifyError, match="Service is already running"):
        coolify.post(f"/services/{started_at_create}/start")
    coolify.post(f"/services/{started_at_create}/restart")
    assert fake.on_coolify_network(started_at_create)

    started_after = coolify.post("/services", body)["uuid"]
    coolify.patch(f"/services/{started_after}", {"connect_to_docker_network": True})
    coolify.post(f"/services/{started_after}/start")
    assert fake.on_coolify_network(started_after)


def compose_with(target: str, content: str) -> str:
    volume = {"type": "bind", "source": "./conf/app.ini", "target": target, "content": content}
    return b64(yaml.safe_dump({"services": {"app": {"image": "nginx", "volumes": [volume]}}}))


def test_a_mounted_files_content_is_taken_once_per_mount_path(
    fake: FakeCoolify, coolify: CoolifyClient, placement: dict[str, str]
) -> None:
    body = {**placement, "name": "app", "docker_compose_raw": compose_with("/etc/app.ini", "v1")}
    uuid = coolify.post("/services", body)["uuid"]
    coolify.post(f"/services/{uuid}/start")
    assert fake.files_seen(uuid) == {"/etc/app.ini": "v1"}
    coolify.patch(f"/services/{uuid}", {"docker_compose_raw": compose_with("/etc/app.ini", "v2")})
    coolify.post(f"/services/{uuid}/restart")
    assert fake.files_seen(uuid) == {"/etc/app.ini": "v1"}  # the stored content wins
    coolify.patch(
        f"/services/{uuid}", {"docker_compose_raw": compose_with("/etc/v2/app.ini", "v2")}
    )
    coolify.post(f"/services/{uuid}/restart")
    assert fake.files_seen(uuid) == {"/etc/v2/app.ini": "v2"}  # a new path: its content


def test_past_the_api_limit_a_request_is_refused_until_the_window_closes(
    fake: FakeCoolify, coolify: CoolifyClient
) -> None:
    """200 requests a minute per user; the 429 says when the minute ends."""
    for _ in range(200):
        coolify.get("/version")
    with httpx.Client(base_url=fake.url) as raw:
        refused = raw.get("/api/v1/version", headers={"Authorization": f"Bearer {TOKEN}"})
    assert refused.status_code == 429
    assert refused.json() == {"message": "Too Many Attempts."}
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    fake.rate_window = 0.0  # the minute is over
    assert coolify.get("/version") == "4.3.10"


def test_an_unknown_query_parameter_is_ignored(
    fake: FakeCoolify, coolify: CoolifyClient, placement: dict[str, str]
) -> None:
    uuid = image_app(coolify, placement)
    coolify.delete(f"/applications/{uuid}", params={"delete_volumes": "false", "colour": "red"})
    assert fake.ignored_query == [("/applications/{uuid}", "colour")]


def test_one_allow_list_for_every_kind_of_app(
    fake: FakeCoolify, coolify: CoolifyClient, placement: dict[str, str]
) -> None:
    """A git app's flag on an image app passes, and an image app needs no port."""
    body = {**placement, "docker_registry_image_name": "nginx", "is_auto_deploy_enabled": False}
    uuid = coolify.post("/applications/dockerimage", body)["uuid"]
    assert fake.resources[uuid]["docker_registry_image_name"] == "nginx"


def test_a_servers_validation_needs_no_body(fake: FakeCoolify, coolify: CoolifyClient) -> None:
    key = coolify.post("/security/keys", {"name": "automation", "private_key": "stand-in"})
    server = coolify.post("/servers", {"ip": "10.0.1.3", "private_key_uuid": key["uuid"]})
    answer = coolify.post(f"/servers/{server['uuid']}/validate")
    assert answer == {"message": "Validation started."}
    assert fake.servers[server["uuid"]]["is_validating"]


def test_an_app_on_a_server_not_yet_usable_is_taken_and_its_deployment_fails(
    fake: FakeCoolify, coolify: CoolifyClient, placement: dict[str, str]
) -> None:
    key = coolify.post("/security/keys", {"name": "automation", "private_key": "stand-in"})
    server = coolify.post("/servers", {"ip": "10.0.1.3", "private_key_uuid": key["uuid"]})
    app = image_app(coolify, {**placement, "server_uuid": server["uuid"]})
    (queued,) = coolify.post("/deploy", params={"uuid": app})["deployments"]
    path = f"/deployments/{queued['deployment_uuid']}"
    while (deployment := coolify.get(path))["status"] in ("queued", "in_progress"):
        pass
    assert deployment["status"] == "failed"
    assert "Server is not functional." in deployment["logs"]
    assert fake.running(app) is None


def test_a_domain_another_app_holds_is_a_conflict_at_create_and_patch(
    coolify: CoolifyClient, placement: dict[str, str]
) -> None:
    image_app(coolify, placement, domains="https://crm.example.com")
    with pytest.raises(CoolifyError) as raised:
        image_app(coolify, placement, domains="https://crm.example.com/")
    assert raised.value.status == 409
    other = image_app(coolify, placement, domains="https://api.example.com")
    with pytest.raises(CoolifyError) as raised:
        coolify.patch(f"/applications/{other}", {"domains": "https://crm.example.com"})
    assert raised.value.status == 409
    coolify.patch(f"/applications/{other}", {"domains": "https://api.example.com"})  # its own


def test_a_read_only_mounted_file_cannot_be_edited_through_the_storage_api(
    coolify: CoolifyClient, placement: dict[str, str]
) -> None:
    """So a changed file cannot be pushed to a running service that way either: only a new
    mount path brings new content (render/coolify_files.mounted_folder)."""
    volume = {"type": "bind", "source": "./a/pgbouncer.ini", "target": "/etc/a/pgbouncer.ini",
              "read_only": True, "content": "pool = 20"}  # fmt: skip
    compose = {"services": {"pgbouncer": {"image": "edoburu/pgbouncer", "volumes": [volume]}}}
    service = coolify.post(
        "/services", {**placement, "docker_compose_raw": b64(yaml.safe_dump(compose))}
    )["uuid"]
    (storage,) = coolify.get(f"/services/{service}/storages")["file_storages"]
    assert storage["content"] == "pool = 20"
    with pytest.raises(CoolifyError) as raised:
        coolify.patch(
            f"/services/{service}/storages",
            {"uuid": storage["uuid"], "type": "file", "content": "pool = 27"},
        )
    assert raised.value.status == 422
    assert "This storage is read-only" in str(raised.value)


def push(fake: FakeCoolify, secret: str, *, branch: str = "main", sign: bool = True) -> Any:
    """A GitHub push webhook, as GitHub sends one: JSON, signed with HMAC-SHA256 of the body."""
    body = json.dumps({
        "ref": f"refs/heads/{branch}", "after": "0" * 40,
        "repository": {"full_name": "Acme/Tour-CRM"},
        "commits": [{"message": "Fix the invoice total", "added": [], "removed": [],
                     "modified": ["apps/crm/src/invoice.ts"]}],
    }).encode()  # fmt: skip
    signature = hmac.new(secret.encode(), body if sign else b"forged", hashlib.sha256)
    headers = {"X-GitHub-Event": "push", "Content-Type": "application/json",
               "X-Hub-Signature-256": f"sha256={signature.hexdigest()}"}  # fmt: skip
    with httpx.Client(base_url=fake.url) as raw:
        answer = raw.post("/webhooks/source/github/events/manual", content=body, headers=headers)
    assert answer.status_code == 200
    # Coolify answers a list of results as JSON, "Nothing to do..." as text.
    return answer.json() if "json" in answer.headers["Content-Type"] else answer.text


def test_a_signed_push_to_the_apps_branch_deploys_it_and_nothing_else_does(
    fake: FakeCoolify, coolify: CoolifyClient, placement: dict[str, str]
) -> None:
    """Coolify's manual GitHub webhook: the app of that repository and branch, and only with
    the signature its secret makes (Github.php:97-120)."""
    body = {**placement, "git_repository": "https://github.com/acme/tour-crm", "git_branch": "main",
            "build_pack": "nixpacks", "ports_exposes": "3000",
            "manual_webhook_secret_github": "webhook-secret-0123"}  # fmt: skip
    app = coolify.post("/applications/public", body)["uuid"]
    assert push(fake, "webhook-secret-0123", sign=False) == [
        {"status": "failed", "message": "Invalid signature."}
    ]
    assert push(fake, "another-secret") == [{"status": "failed", "message": "Invalid signature."}]
    assert push(fake, "webhook-secret-0123", branch="develop").startswith(
        "Nothing to do. No applications found"
    )
    assert fake.deployments == {}
    (queued,) = push(fake, "webhook-secret-0123")
    assert queued["status"] == "success"
    assert fake.deployments[queued["deployment_uuid"]]["application_id"] == app
