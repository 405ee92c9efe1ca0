"""Each dynamic provider's whole lifecycle against the fake Coolify, as the Pulumi engine runs
it: through the SDK's provider host over gRPC (tests/engine_wire.py: numbers as doubles,
secrets unwrapped by the engine, Check before every Create, Diff and Update) and the real SSH
tunnel into a real sshd; create, no-op diff, update in place, replace, out-of-band delete ->
gone, delete; and the failures: 422 surfaced, 429/5xx retried then reported, no answer."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from pulumi.dynamic import ResourceProvider

from config.fields import image_name_and_tag
from coolify.providers import (
    ENV_FLAGS,
    ApplicationProvider,
    DatabaseProvider,
    DeployProvider,
    EnvironmentProvider,
    EnvVarsProvider,
    PrivateKeyProvider,
    ProjectProvider,
    RemoteServerProvider,
    ServerProvider,
    ServiceProvider,
)
from tests.engine_wire import (
    HOST_MINUTE,
    ProviderError,
    ProviderHost,
    WireProvider,
    provider_host,
)
from tests.fake_coolify import FakeCoolify, running_fake
from tests.sshd import RunningSshd, tunnel_to

TOKEN = "api-token-for-the-provider-tests-0123"
PASSWORD = "Postgres0Password0That0Stays0Secret"
Wire = Callable[[type[ResourceProvider]], WireProvider]


@pytest.fixture(scope="module")
def host() -> Iterator[ProviderHost]:
    with provider_host() as running:
        yield running


@pytest.fixture
def wire(host: ProviderHost) -> Wire:
    """A provider class as the engine reaches it."""
    return lambda provider: host.provider(provider(), provider.__name__.removesuffix("Provider"))


@pytest.fixture
def fake() -> Iterator[FakeCoolify]:
    with running_fake(TOKEN) as server:
        server.rate_window = HOST_MINUTE  # Coolify's minute, on the hosts' fast clock
        yield server


@pytest.fixture
def connection(fake: FakeCoolify, shared_sshd: RunningSshd) -> dict[str, Any]:
    """As the program builds it: the dashboard URL and the SSH tunnel that replaces it."""
    return {
        "url": "https://coolify.example.com",
        "token": TOKEN,
        "ssh": tunnel_to(fake.url, shared_sshd),
    }


@pytest.fixture
def placement(wire: Wire, fake: FakeCoolify, connection: dict[str, str]) -> dict[str, str]:
    project = wire(ProjectProvider).create({"connection": connection, "name": "tour-crm"}).id
    environment = (
        wire(EnvironmentProvider)
        .create({"connection": connection, "project_uuid": project, "name": "production"})
        .id
    )
    return {
        "server_uuid": fake.server_uuid,
        "project_uuid": project,
        "environment_uuid": environment,
    }


def requests_to(fake: FakeCoolify, method: str, path: str) -> list[Any]:
    return [body for m, p, _, body in fake.requests if (m, p) == (method, path)]


def decoded(value: str) -> str:
    return base64.b64decode(value).decode()


# --- projects and environments ------------------------------------------------------------


def test_project_lifecycle(wire: Wire, fake: FakeCoolify, connection: dict[str, str]) -> None:
    provider = wire(ProjectProvider)
    props = {"connection": connection, "name": "tour-crm", "description": "Tour CRM"}
    created = provider.create(props)
    assert fake.projects[created.id]["name"] == "tour-crm"
    assert provider.diff(created.id, created.outs, props).changes is False  # type: ignore[arg-type]

    renamed = {**props, "name": "tour-crm-prod"}
    diff = provider.diff(created.id, created.outs, renamed)  # type: ignore[arg-type]
    assert (diff.changes, diff.replaces) == (True, [])
    provider.update(created.id, created.outs, renamed)  # type: ignore[arg-type]
    assert requests_to(fake, "PATCH", f"/projects/{created.id}") == [{"name": "tour-crm-prod"}]
    assert provider.read(created.id, renamed).id == created.id

    del fake.projects[created.id]  # deleted behind Pulumi's back
    assert provider.read(created.id, renamed).id is None
    provider.delete(created.id, renamed)  # already gone: not an error


def test_a_project_with_resources_is_not_deleted(
    wire: Wire, fake: FakeCoolify, connection: dict[str, str], placement: dict[str, str]
) -> None:
    wire(DatabaseProvider).create(postgres(connection, placement))
    with pytest.raises(ProviderError, match="Project has resources"):
        wire(ProjectProvider).delete(placement["project_uuid"], {"connection": connection})


def test_environment_lifecycle_adopts_production_and_replaces_on_rename(
    wire: Wire, fake: FakeCoolify, connection: dict[str, str]
) -> None:
    project = wire(ProjectProvider).create({"connection": connection, "name": "tour-crm"}).id
    provider = wire(EnvironmentProvider)
    production = {"connection": connection, "project_uuid": project, "name": "production"}
    adopted = provider.create(production)  # Coolify made it with the project: 409, adopted
    assert adopted.id == fake.projects[project]["environments"]["production"]["uuid"]

    staging = provider.create({**production, "name": "staging"})
    assert "staging" in fake.projects[project]["environments"]
    assert (
        provider.diff(staging.id, staging.outs, {**production, "name": "staging"}).changes is False
    )  # type: ignore[arg-type]
    assert provider.diff(staging.id, staging.outs, {**production, "name": "preview"}).replaces == [
        "name"
    ]  # type: ignore[arg-type]
    assert provider.diff(
        staging.id, staging.outs, {**production, "name": "staging", "project_uuid": "other"}
    ).replaces == ["project_uuid"]  # type: ignore[arg-type]

    provider.delete(staging.id, staging.outs)  # type: ignore[arg-type]
    assert "staging" not in fake.projects[project]["environments"]
    assert provider.read(staging.id, staging.outs).id is None  # type: ignore[arg-type]


# --- databases ------------------------------------------------------------------------------


def postgres(connection: dict[str, str], placement: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {
        "connection": connection,
        **placement,
        "engine": "postgresql",
        "name": "postgres",
        "description": "",
        "image": "postgres:16.4-alpine",
        "limits_memory": "4096m",
        "credentials": {
            "postgres_user": "tour_crm",
            "postgres_password": PASSWORD,
            "postgres_db": "tour_crm",
        },
        "conf": "shared_buffers = 1GB\n",
        "delete_volumes": False,
        **extra,
    }


def test_database_lifecycle(
    wire: Wire, fake: FakeCoolify, connection: dict[str, str], placement: dict[str, str]
) -> None:
    provider = wire(DatabaseProvider)
    props = postgres(connection, placement)
    created = provider.create(props)
    stored = fake.resources[created.id]
    assert stored["postgres_user"] == "tour_crm"
    assert decoded(stored["postgres_conf"]) == "shared_buffers = 1GB\n"
    assert stored["status"] == "running:healthy"  # instant deploy
    assert created.outs["internal_db_url"] == f"postgres://tour_crm:{PASSWORD}@{created.id}:5432"  # type: ignore[index]
    outs = created.outs
    assert provider.diff(created.id, outs, props).changes is False  # type: ignore[arg-type]

    bigger = {
        **props,
        "limits_memory": "6144m",
        "limits_cpus": "2",
        "conf": "shared_buffers = 2GB\n",
    }
    diff = provider.diff(created.id, outs, bigger)  # type: ignore[arg-type]
    assert (diff.changes, diff.replaces) == (True, [])
    updated = provider.update(created.id, outs, bigger)  # type: ignore[arg-type]
    (patch,) = requests_to(fake, "PATCH", f"/databases/{created.id}")
    assert (patch["limits_memory"], patch["limits_cpus"]) == ("6144m", "2")
    assert decoded(patch["postgres_conf"]) == "shared_buffers = 2GB\n"
    assert requests_to(fake, "POST", f"/databases/{created.id}/restart") == [None]
    assert updated.outs["internal_db_url"] == outs["internal_db_url"]  # type: ignore[index]

    for key, value in [
        ("credentials", {**props["credentials"], "postgres_password": "other"}),
        ("engine", "mariadb"),
        ("project_uuid", "another-project"),
    ]:
        assert provider.diff(created.id, outs, {**props, key: value}).replaces == [key]  # type: ignore[arg-type]

    del fake.resources[created.id]
    assert provider.read(created.id, props).id is None


def test_deleting_a_database_keeps_its_volume_unless_asked(
    wire: Wire, fake: FakeCoolify, connection: dict[str, str], placement: dict[str, str]
) -> None:
    provider = wire(DatabaseProvider)
    kept = provider.create(postgres(connection, placement))
    provider.delete(kept.id, postgres(connection, placement))
    assert fake.deleted[kept.id]["delete_volumes"] == "false"
    dropped = provider.create(postgres(connection, placement))
    provider.delete(dropped.id, postgres(connection, placement, delete_volumes=True))
    assert fake.deleted[dropped.id]["delete_volumes"] == "true"


VOLUME_DATA = "/mnt/volumes/postgres/data"


def test_a_database_with_a_data_folder_starts_only_once_its_volume_points_there(
    wire: Wire, fake: FakeCoolify, connection: dict[str, str], placement: dict[str, str]
) -> None:
    provider = wire(DatabaseProvider)
    created = provider.create(postgres(connection, placement, data_host_path=VOLUME_DATA))
    (create,) = requests_to(fake, "POST", "/databases/postgresql")
    assert create["instant_deploy"] is False
    (patch,) = requests_to(fake, "PATCH", f"/databases/{created.id}/storages")
    assert patch["type"] == "persistent"
    assert patch["host_path"] == VOLUME_DATA
    assert requests_to(fake, "POST", f"/databases/{created.id}/start") == [None]
    # The container Coolify starts mounts the folder, not a Docker volume.
    assert fake.resources[created.id]["_mounted"] == [f"{VOLUME_DATA}:/var/lib/postgresql/data"]


def test_a_live_database_is_not_moved_onto_a_volume_while_it_runs(
    wire: Wire, fake: FakeCoolify, connection: dict[str, str], placement: dict[str, str]
) -> None:
    provider = wire(DatabaseProvider)
    props = postgres(connection, placement)
    created = provider.create(props)
    assert fake.resources[created.id]["_mounted"] == [
        f"postgres-data-{created.id}:/var/lib/postgresql/data"
    ]
    moved = {**props, "data_host_path": VOLUME_DATA}
    with pytest.raises(ProviderError) as refused:
        provider.update(created.id, created.outs, moved)  # type: ignore[arg-type]
    assert (
        f"sudo cp -a /var/lib/docker/volumes/postgres-data-{created.id}/_data/. {VOLUME_DATA}/"
        in (str(refused.value))
    )
    assert requests_to(fake, "PATCH", f"/databases/{created.id}/storages") == []
    # A container in a restart loop still writes its data: not stopped either.
    fake.resources[created.id]["status"] = "restarting:unhealthy"
    with pytest.raises(ProviderError):
        provider.update(created.id, created.outs, moved)  # type: ignore[arg-type]
    assert requests_to(fake, "PATCH", f"/databases/{created.id}/storages") == []
    # Stopped in Coolify and copied, as the message says: now it moves, and starts there.
    fake.resources[created.id]["status"] = "exited"
    provider.update(created.id, created.outs, moved)  # type: ignore[arg-type]
    assert fake.resources[created.id]["_mounted"] == [f"{VOLUME_DATA}:/var/lib/postgresql/data"]
    assert fake.resources[created.id]["status"] == "running:healthy"


def test_a_422_is_surfaced_with_the_field_and_without_the_password(
    wire: Wire, connection: dict[str, str], placement: dict[str, str]
) -> None:
    redis = {**postgres(connection, placement), "engine": "redis", "conf": ""}
    with pytest.raises(ProviderError) as raised:
        wire(DatabaseProvider).create(redis)
    assert raised.value.kind == "CoolifyError"
    assert raised.value.message.startswith("POST /databases/redis was rejected by Coolify")
    assert "postgres_password: This field is not allowed." in raised.value.message
    assert PASSWORD not in str(raised.value)


def test_5xx_and_429_are_retried(
    wire: Wire, fake: FakeCoolify, connection: dict[str, str], placement: dict[str, str]
) -> None:
    fake.fail_next("POST", "/databases/postgresql", 503, 429, retry_after=3)
    created = wire(DatabaseProvider).create(postgres(connection, placement))
    assert created.id in fake.resources


def test_persistent_failure_is_a_clear_error_without_secrets(
    wire: Wire, fake: FakeCoolify, connection: dict[str, str], placement: dict[str, str]
) -> None:
    fake.fail_next(
        "POST", "/databases/postgresql", *[500] * 5, message=f"disk full while writing {PASSWORD}"
    )
    with pytest.raises(ProviderError) as raised:
        wire(DatabaseProvider).create(postgres(connection, placement))
    assert raised.value.message.startswith(
        "POST /databases/postgresql failed after 5 attempts: HTTP 500"
    )
    assert PASSWORD not in str(raised.value)
    assert TOKEN not in str(raised.value)


def test_a_create_without_answer_fails_and_is_not_repeated(
    wire: Wire,
    fake: FakeCoolify,
    connection: dict[str, str],
    placement: dict[str, str],
) -> None:
    fake.drop_next("POST", "/databases/postgresql")
    with pytest.raises(ProviderError, match="not sent again"):
        wire(DatabaseProvider).create(postgres(connection, placement))
    assert len(requests_to(fake, "POST", "/databases/postgresql")) == 1


# --- services ------------------------------------------------------------------------------

COMPOSE = "services:\n  pgbouncer:\n    image: edoburu/pgbouncer:v1.24.1-p1\n"


def test_service_lifecycle(
    wire: Wire, fake: FakeCoolify, connection: dict[str, str], placement: dict[str, str]
) -> None:
    provider = wire(ServiceProvider)
    props = {
        "connection": connection,
        **placement,
        "name": "pgbouncer",
        "description": "",
        "compose": COMPOSE,
        "urls": [],
        "delete_volumes": False,
    }
    created = provider.create(props)
    (post,) = requests_to(fake, "POST", "/services")
    assert "connect_to_docker_network" not in post  # Coolify 4.3 refuses it on create...
    assert fake.resources[created.id]["connect_to_docker_network"] is True  # ...so it is patched
    # ...before the service starts: the containers joined the network apps resolve it on.
    assert post["instant_deploy"] is False
    assert fake.on_coolify_network(created.id)
    assert fake.resources[created.id]["status"] == "running:healthy"
    assert decoded(fake.resources[created.id]["docker_compose_raw"]) == COMPOSE
    assert provider.diff(created.id, created.outs, props).changes is False  # type: ignore[arg-type]

    changed = {**props, "compose": COMPOSE.replace("v1.24.1-p1", "v1.24.2")}
    assert provider.diff(created.id, created.outs, changed).replaces == []  # type: ignore[arg-type]
    provider.update(created.id, created.outs, changed)  # type: ignore[arg-type]
    assert "v1.24.2" in decoded(fake.resources[created.id]["docker_compose_raw"])
    assert requests_to(fake, "POST", f"/services/{created.id}/restart") == [None]
    assert provider.diff(created.id, created.outs, {**props, "environment_uuid": "x"}).replaces == [
        "environment_uuid"
    ]  # type: ignore[arg-type]

    provider.delete(created.id, props)
    assert fake.deleted[created.id]["delete_volumes"] == "false"
    assert provider.read(created.id, props).id is None


# --- private keys and applications ----------------------------------------------------------

DEPLOY_KEY = "\n".join(
    [
        "-----BEGIN OPENSSH PRIVATE KEY-----",
        "b3BlbnNzaC1rZXktdjEAAAAA",
        "-----END OPENSSH PRIVATE KEY-----",
    ]
)


def test_private_key_lifecycle(wire: Wire, fake: FakeCoolify, connection: dict[str, str]) -> None:
    provider = wire(PrivateKeyProvider)
    props = {"connection": connection, "name": "crm-deploy-key", "private_key": DEPLOY_KEY}
    created = provider.create(props)
    assert fake.keys[created.id]["name"] == "crm-deploy-key"
    assert provider.diff(created.id, created.outs, props).changes is False  # type: ignore[arg-type]
    assert provider.diff(created.id, created.outs, {**props, "private_key": "other"}).replaces == [
        "private_key"
    ]  # type: ignore[arg-type]
    renamed = {**props, "name": "crm deploy key"}
    assert provider.diff(created.id, created.outs, renamed).replaces == []  # type: ignore[arg-type]
    provider.update(created.id, created.outs, renamed)  # type: ignore[arg-type]
    assert fake.keys[created.id]["name"] == "crm deploy key"  # in place: the same key
    provider.delete(created.id, props)
    assert provider.read(created.id, props).id is None


def application(
    connection: dict[str, str], placement: dict[str, str], source: dict[str, Any], **settings: Any
) -> dict[str, Any]:
    return {
        "connection": connection,
        **placement,
        "source": source,
        "name": "crm",
        "domains": "https://crm.example.com",
        "ports_exposes": "3000",
        "health_check_enabled": True,
        "health_check_path": "/api/health",
        **settings,
    }


PUBLIC = {
    "kind": "public",
    "git_repository": "https://github.com/acme/tour-crm",
    "git_branch": "main",
    "build_pack": "dockerfile",
    "dockerfile_location": "/apps/crm/Dockerfile",
}


@pytest.mark.parametrize(
    ("image", "pulled"),
    [
        ("ghcr.io/acme/api:1.2.0", "ghcr.io/acme/api:1.2.0"),
        (f"ghcr.io/acme/api:1.2@sha256:{'a' * 64}", f"ghcr.io/acme/api@sha256:{'a' * 64}"),
        (f"registry.example.com:5000/api@sha256:{'b' * 64}",
         f"registry.example.com:5000/api@sha256:{'b' * 64}"),
    ],
)  # fmt: skip
def test_an_image_app_is_accepted_pinned_by_tag_or_digest(
    wire: Wire,
    fake: FakeCoolify,
    connection: dict[str, str],
    placement: dict[str, str],
    *,
    image: str,
    pulled: str,
) -> None:
    """Coolify refuses a tag holding `@` or `:`; a digest goes as its parser stores it, and
    Coolify pulls `name:tag`, which is then the digest's reference."""
    name, tag = image_name_and_tag(image)
    source = {"kind": "image", "docker_registry_image_name": name, "docker_registry_image_tag": tag}
    created = wire(ApplicationProvider).create(application(connection, placement, source))
    stored = fake.resources[created.id]
    assert f"{stored['docker_registry_image_name']}:{stored['docker_registry_image_tag']}" == pulled


def test_application_from_a_public_repository(
    wire: Wire, fake: FakeCoolify, connection: dict[str, str], placement: dict[str, str]
) -> None:
    provider = wire(ApplicationProvider)
    props = application(connection, placement, PUBLIC)
    created = provider.create(props)
    (post,) = requests_to(fake, "POST", "/applications/public")
    assert post["autogenerate_domain"] is False
    assert post["instant_deploy"] is False
    stored = fake.resources[created.id]
    assert (stored["git_repository"], stored["domains"], stored["ports_exposes"]) == (
        "acme/tour-crm",
        "https://crm.example.com",
        "3000",
    )
    assert provider.diff(created.id, created.outs, props).changes is False  # type: ignore[arg-type]

    moved = application(
        connection,
        placement,
        {**PUBLIC, "git_branch": "release"},
        domains="https://app.example.com",
    )
    diff = provider.diff(created.id, created.outs, moved)  # type: ignore[arg-type]
    assert (diff.changes, diff.replaces) == (True, [])
    provider.update(created.id, created.outs, moved)  # type: ignore[arg-type]
    assert (stored["git_branch"], stored["domains"]) == ("release", "https://app.example.com")

    image = application(
        connection, placement, {"kind": "image", "docker_registry_image_name": "ghcr.io/acme/crm"}
    )
    assert provider.diff(created.id, created.outs, image).replaces == ["source"]  # type: ignore[arg-type]
    del fake.resources[created.id]
    assert provider.read(created.id, props).id is None


def test_application_from_a_private_repository_with_a_deploy_key(
    wire: Wire, fake: FakeCoolify, connection: dict[str, str], placement: dict[str, str]
) -> None:
    key = (
        wire(PrivateKeyProvider)
        .create({"connection": connection, "name": "k", "private_key": DEPLOY_KEY})
        .id
    )
    source = {
        **PUBLIC,
        "kind": "deploy-key",
        "git_repository": "git@github.com:acme/crm.git",
        "private_key_uuid": key,
    }
    provider = wire(ApplicationProvider)
    created = provider.create(application(connection, placement, source))
    assert fake.resources[created.id]["private_key_uuid"] == key
    rotated = application(connection, placement, {**source, "private_key_uuid": "new-key"})
    assert provider.diff(created.id, created.outs, rotated).replaces == ["source"]  # type: ignore[arg-type]


def test_application_from_an_inline_dockerfile_keeps_its_port(
    wire: Wire, fake: FakeCoolify, connection: dict[str, str], placement: dict[str, str]
) -> None:
    dockerfile = "FROM nginx:1.27-alpine\nEXPOSE 8080\n"
    created = wire(ApplicationProvider).create(
        application(
            connection,
            placement,
            {"kind": "dockerfile", "dockerfile": dockerfile},
            ports_exposes="8080",
        )
    )
    stored = fake.resources[created.id]
    assert decoded(stored["dockerfile"]) == dockerfile
    assert stored["ports_exposes"] == "8080"  # patched after Coolify's create set 80


def test_a_worker_gets_no_domain(
    wire: Wire, fake: FakeCoolify, connection: dict[str, str], placement: dict[str, str]
) -> None:
    worker = application(
        connection,
        placement,
        {
            "kind": "image",
            "docker_registry_image_name": "ghcr.io/acme/worker",
            "docker_registry_image_tag": "1.4.2",
        },
        domains=None,
        name="worker",
    )
    created = wire(ApplicationProvider).create(worker)
    assert "domains" not in fake.resources[created.id]  # no sslip.io name either


# --- environment variables --------------------------------------------------------------------


def variables(**values: str) -> dict[str, dict[str, Any]]:
    return {
        key: {
            "value": value,
            "is_buildtime": key.startswith("VITE_"),
            "is_runtime": True,
            "is_literal": True,
            "is_multiline": False,
            "is_shown_once": False,
            "is_preview": False,
        }
        for key, value in values.items()
    }


def test_env_vars_lifecycle(
    wire: Wire, fake: FakeCoolify, connection: dict[str, str], placement: dict[str, str]
) -> None:
    app = wire(ApplicationProvider).create(application(connection, placement, PUBLIC)).id
    provider = wire(EnvVarsProvider)
    props = {
        "connection": connection,
        "resource": "applications",
        "resource_uuid": app,
        "variables": variables(
            DATABASE_URL=f"postgres://u:{PASSWORD}@db/app",
            NODE_ENV="production",
            VITE_API_URL="https://api.example.com",
        ),
    }
    created = provider.create(props)
    (bulk,) = requests_to(fake, "PATCH", f"/applications/{app}/envs/bulk")
    assert all(set(ENV_FLAGS) <= set(item) for item in bulk["data"])  # every flag explicit
    envs = fake.resources[app]["envs"]
    assert envs["VITE_API_URL"]["is_buildtime"] is True
    assert envs["NODE_ENV"]["is_buildtime"] is False
    assert provider.diff(created.id, created.outs, props).changes is False  # type: ignore[arg-type]
    # Coolify made a preview copy of each; a refresh must not take them for drift.
    assert set(fake.resources[app]["preview_envs"]) == set(props["variables"])  # type: ignore[arg-type]
    assert provider.read(created.id, props).outs["variables"] == props["variables"]  # type: ignore[index]

    changed = {
        **props,
        "variables": variables(DATABASE_URL=f"postgres://u:{PASSWORD}@db/app", NODE_ENV="staging"),
    }
    provider.update(created.id, created.outs, changed)  # type: ignore[arg-type]
    assert [
        item["key"]
        for item in requests_to(fake, "PATCH", f"/applications/{app}/envs/bulk")[1]["data"]
    ] == ["NODE_ENV"]
    assert set(envs) == {
        "DATABASE_URL",
        "NODE_ENV",
    }  # VITE_API_URL removed from the config: deleted
    assert envs["NODE_ENV"]["value"] == "staging"

    assert provider.diff(
        created.id, created.outs, {**props, "resource_uuid": "other"}
    ).replaces == ["resource_uuid"]  # type: ignore[arg-type]
    provider.delete(created.id, changed)
    assert envs == {}
    assert fake.resources[app]["preview_envs"] == {}  # the copies went with them


def test_env_vars_of_a_deleted_app_are_gone(
    wire: Wire, fake: FakeCoolify, connection: dict[str, str], placement: dict[str, str]
) -> None:
    app = wire(ApplicationProvider).create(application(connection, placement, PUBLIC)).id
    props = {
        "connection": connection,
        "resource": "applications",
        "resource_uuid": app,
        "variables": variables(A="1"),
    }
    created = wire(EnvVarsProvider).create(props)
    del fake.resources[app]
    assert wire(EnvVarsProvider).read(created.id, props).id is None
    wire(EnvVarsProvider).delete(created.id, props)  # nothing left to delete: not an error


# --- deployments -----------------------------------------------------------------------------


def deploy_props(connection: dict[str, str], resource_uuid: str, **extra: Any) -> dict[str, Any]:
    return {
        "connection": connection,
        "resource_uuid": resource_uuid,
        "triggers": ["v1"],
        "force": False,
        "timeout_seconds": 5,
        "poll_seconds": 0.01,
        **extra,
    }


def test_deploy_waits_for_finished_and_runs_again_on_new_triggers(
    wire: Wire, fake: FakeCoolify, connection: dict[str, str], placement: dict[str, str]
) -> None:
    app = wire(ApplicationProvider).create(application(connection, placement, PUBLIC)).id
    provider = wire(DeployProvider)
    props = deploy_props(connection, app)
    created = provider.create(props)
    assert fake.deployments[created.id]["status"] == "finished"
    assert [q for m, p, q, _ in fake.requests if (m, p) == ("POST", "/deploy")] == [
        {"uuid": app, "force": "false"}
    ]

    provider.update(
        created.id, created.outs, {**props, "connection": {**connection, "url": fake.url + "/"}}
    )  # type: ignore[arg-type]
    assert len(fake.deployments) == 1  # a new connection alone deploys nothing
    second = provider.update(created.id, created.outs, {**props, "triggers": ["v2"]})  # type: ignore[arg-type]
    assert len(fake.deployments) == 2
    assert second.outs["deployment_uuid"] != created.id


def test_a_deploy_skipped_for_a_queued_one_follows_that_one(
    wire: Wire, fake: FakeCoolify, connection: dict[str, str], placement: dict[str, str]
) -> None:
    """Coolify skips a deploy while one of the same commit is queued, and answers with a uuid
    that names nothing; the queued one reads the settings when it starts."""
    app = wire(ApplicationProvider).create(application(connection, placement, PUBLIC)).id
    queued = fake.deploy_from_elsewhere(app, started=False)
    created = wire(DeployProvider).create(deploy_props(connection, app))
    assert created.id == queued
    assert list(fake.deployments) == [queued]
    assert fake.deployments[queued]["status"] == "finished"


def test_a_deploy_skipped_for_a_running_one_deploys_again_after_it(
    wire: Wire, fake: FakeCoolify, connection: dict[str, str], placement: dict[str, str]
) -> None:
    """A running deployment may have read the app's settings before Pulumi changed them: it
    ends, then ours runs with them."""
    apps = wire(ApplicationProvider)
    props = application(connection, placement, PUBLIC)
    created_app = apps.create(props)
    running = fake.deploy_from_elsewhere(created_app.id, started=True)
    apps.update(created_app.id, created_app.outs, {**props, "limits_memory": "768m"})  # type: ignore[arg-type]
    created = wire(DeployProvider).create(deploy_props(connection, created_app.id))
    assert created.id != running
    assert fake.deployments[running]["status"] == "finished"
    assert fake.deployments[created.id]["status"] == "finished"
    assert fake.running(created_app.id)["limits_memory"] == "768m"  # type: ignore[index]


def test_a_failed_deploy_fails_with_the_tail_of_its_log(
    wire: Wire, fake: FakeCoolify, connection: dict[str, str], placement: dict[str, str]
) -> None:
    app = wire(ApplicationProvider).create(application(connection, placement, PUBLIC)).id
    fake.deploy_outcome[app] = (
        "failed",
        [f"step {n}" for n in range(1, 31)] + ["npm ERR! missing script: build"],
    )
    with pytest.raises(ProviderError) as raised:
        wire(DeployProvider).create(deploy_props(connection, app))
    message = raised.value.message
    assert "failed; the log ends:" in message
    assert message.endswith("step 30\nnpm ERR! missing script: build")
    assert "step 11\n" not in message  # only the last 20 lines


def test_a_deploy_that_never_ends_times_out(
    wire: Wire, fake: FakeCoolify, connection: dict[str, str], placement: dict[str, str]
) -> None:
    app = wire(ApplicationProvider).create(application(connection, placement, PUBLIC)).id
    fake.deploy_outcome[app] = ("in_progress", [])
    with pytest.raises(ProviderError, match=r"still in_progress after 0\.2s"):
        wire(DeployProvider).create(deploy_props(connection, app, timeout_seconds=0.2))


def test_deployment_logs_are_json_entries(
    wire: Wire, fake: FakeCoolify, connection: dict[str, str], placement: dict[str, str]
) -> None:
    """The fake stores logs as Coolify does: a JSON text of entries, some hidden."""
    app = wire(ApplicationProvider).create(application(connection, placement, PUBLIC)).id
    created = wire(DeployProvider).create(deploy_props(connection, app))
    assert json.loads(fake.deployments[created.id]["logs"])[0]["output"] == "Deployed."


def test_the_server_is_looked_up_by_name_and_never_deleted(
    wire: Wire, fake: FakeCoolify, connection: dict[str, str]
) -> None:
    provider = wire(ServerProvider)
    props = {"connection": connection, "name": "localhost"}
    found = provider.create(props)
    assert found.id == fake.server_uuid
    assert provider.read(found.id, props).id == found.id
    provider.delete(found.id, props)
    assert [m for m, *_ in fake.requests if m == "DELETE"] == []
    with pytest.raises(ProviderError, match="no server named 'build-box'"):
        provider.create({**props, "name": "build-box"})


def test_the_servers_disk_alert_threshold_is_set_and_follows_the_config(
    wire: Wire, fake: FakeCoolify, connection: dict[str, str]
) -> None:
    provider = wire(ServerProvider)
    props = {"connection": connection, "name": "localhost",
             "settings": {"server_disk_usage_notification_threshold": 85}}  # fmt: skip
    found = provider.create(props)
    assert fake.server_settings == {"server_disk_usage_notification_threshold": 85}
    patches = lambda: [r for r in fake.requests if r[0] == "PATCH"]  # noqa: E731
    provider.update(found.id, props, props)  # unchanged: nothing sent
    assert len(patches()) == 1
    changed = {**props, "settings": {"server_disk_usage_notification_threshold": 70}}
    provider.update(found.id, props, changed)
    assert fake.server_settings == {"server_disk_usage_notification_threshold": 70}
    assert len(patches()) == 2
    with pytest.raises(ProviderError, match="between 1 and 100"):
        provider.update(
            found.id, props, {**props, "settings": {"server_disk_usage_notification_threshold": 0}}
        )


# --- another server for Coolify: created, validated with the install of Docker, removed -----

KEY_PEM = "-----BEGIN OPENSSH PRIVATE KEY-----\nstand-in\n-----END OPENSSH PRIVATE KEY-----\n"


def remote_server(wire: Wire, connection: dict[str, str], **extra: Any) -> dict[str, Any]:
    key = wire(PrivateKeyProvider).create(
        {"connection": connection, "name": "automation", "private_key": KEY_PEM}
    )
    return {
        "connection": connection, "machine_id": 7001, "name": "tour-crm-db",
        "description": "database server", "ip": "10.0.1.3", "port": 22, "user": "root",
        "private_key_uuid": key.id,
        "proxy_type": "none", "timeout_seconds": 5, "poll_seconds": 0.01, **extra,
    }  # fmt: skip


def test_a_remote_server_is_added_and_validated_with_dockers_install(
    wire: Wire, fake: FakeCoolify, connection: dict[str, str]
) -> None:
    provider = wire(RemoteServerProvider)
    props = remote_server(wire, connection)
    created = provider.create(props)
    assert fake.servers[created.id]["ip"] == "10.0.1.3"
    assert fake.servers[created.id]["settings"]["is_usable"] is True
    posted = [(path, body) for method, path, _, body in fake.requests if method == "POST"]
    assert (f"/servers/{created.id}/validate", {"install": True}) in posted
    (create_body,) = [body for path, body in posted if path == "/servers"]
    assert create_body["instant_validate"] is False
    assert create_body["proxy_type"] == "none"
    another_machine = provider.diff(created.id, props, {**props, "machine_id": 7002})  # type: ignore[arg-type]
    assert another_machine.replaces == ["machine_id"]
    assert another_machine.delete_before_replace  # Coolify refuses a second server on its IP
    provider.update(created.id, created.outs, {**props, "name": "tour-crm-database"})  # type: ignore[arg-type]
    assert fake.servers[created.id]["name"] == "tour-crm-database"
    alert = {"server_disk_usage_notification_threshold": 80}
    provider.update(created.id, created.outs, {**props, "settings": alert})  # type: ignore[arg-type]
    assert fake.servers[created.id]["server_disk_usage_notification_threshold"] == 80
    method, _, _, body = fake.requests[-1]
    assert (method, body) == ("PATCH", alert)  # the changed setting only
    provider.delete(created.id, props)
    assert provider.read(created.id, props).id is None


def test_how_coolify_reaches_a_server_changes_in_place_and_is_validated_again(
    wire: Wire, fake: FakeCoolify, connection: dict[str, str]
) -> None:
    """Address, port, user, key and proxy: the same machine, its containers kept. The new
    settings are stored, then validated; the wait is for that validation's end, since the
    server was usable before it."""
    provider = wire(RemoteServerProvider)
    props = remote_server(wire, connection)
    created = provider.create(props)
    new_key = wire(PrivateKeyProvider).create(
        {"connection": connection, "name": "automation-2", "private_key": KEY_PEM + "\n"}
    )
    fake.validation_seconds = 0.3
    moved = {
        **props, "ip": "10.0.1.9", "port": 2222, "user": "coolify",
        "private_key_uuid": new_key.id, "proxy_type": "traefik", "timeout_seconds": 5,
    }  # fmt: skip
    diff = provider.diff(created.id, created.outs, moved)  # type: ignore[arg-type]
    assert diff.changes
    assert diff.replaces == []
    provider.update(created.id, created.outs, moved)  # type: ignore[arg-type]
    patched = requests_to(fake, "PATCH", f"/servers/{created.id}")
    assert patched == [
        {"ip": "10.0.1.9", "port": 2222, "user": "coolify",
         "private_key_uuid": new_key.id, "proxy_type": "traefik"},
    ]  # fmt: skip
    validations = requests_to(fake, "POST", f"/servers/{created.id}/validate")
    assert len(validations) == 2  # at its creation, and after the change
    server = fake.servers[created.id]
    assert not server["is_validating"]
    assert server["ip"] == "10.0.1.9"
    # The old key is no longer in use: Coolify lets it go.
    wire(PrivateKeyProvider).delete(created.outs["private_key_uuid"], {"connection": connection})


def test_a_change_coolify_cannot_use_fails_with_the_validation_log_at_its_end(
    wire: Wire, fake: FakeCoolify, connection: dict[str, str]
) -> None:
    provider = wire(RemoteServerProvider)
    props = remote_server(wire, connection)
    created = provider.create(props)
    fake.unreachable.add("10.0.1.3")
    fake.validation_seconds = 0.3
    started = time.monotonic()
    with pytest.raises(ProviderError) as raised:
        provider.update(created.id, created.outs, {**props, "port": 2222, "timeout_seconds": 60})  # type: ignore[arg-type]
    assert time.monotonic() - started < 30  # at the job's end, not at the timeout
    assert raised.value.message.endswith(
        "Coolify cannot use the server tour-crm-db (10.0.1.3): Server is not reachable. "
        "Please validate your configuration and connection. Error: timeout"
    )


def test_a_remote_servers_disk_alert_is_set_when_it_is_added(
    wire: Wire, fake: FakeCoolify, connection: dict[str, str]
) -> None:
    settings = {"server_disk_usage_notification_threshold": 85}
    created = wire(RemoteServerProvider).create(remote_server(wire, connection, settings=settings))
    assert fake.servers[created.id]["server_disk_usage_notification_threshold"] == 85


def test_a_server_coolify_cannot_reach_fails_with_its_validation_log(
    wire: Wire, fake: FakeCoolify, connection: dict[str, str]
) -> None:
    fake.unreachable.add("10.0.1.3")
    with pytest.raises(ProviderError) as raised:
        wire(RemoteServerProvider).create(remote_server(wire, connection))
    message = raised.value.message
    assert "Coolify cannot use the server tour-crm-db (10.0.1.3): " in message
    assert "Server is not reachable." in message
    assert message.endswith("Error: timeout")


def test_a_server_with_resources_is_not_deleted(
    wire: Wire, fake: FakeCoolify, connection: dict[str, str], placement: dict[str, str]
) -> None:
    provider = wire(RemoteServerProvider)
    props = remote_server(wire, connection)
    uuid = provider.create(props).id
    wire(DatabaseProvider).create(postgres(connection, {**placement, "server_uuid": uuid}))
    with pytest.raises(ProviderError, match="Server has resources"):
        provider.delete(uuid, props)
    assert uuid in fake.servers


# --- apps on several servers (behind a load balancer) ----------------------------------------


def app_servers(wire: Wire, fake: FakeCoolify, connection: dict[str, str], count: int) -> list[Any]:
    provider = wire(RemoteServerProvider)
    props = remote_server(wire, connection, proxy_type="traefik")
    return [
        provider.create({**props, "name": f"tour-crm-app-{n}", "ip": f"10.0.1.{4 + n}"})
        for n in range(count)
    ]


def test_an_app_runs_on_its_servers_and_follows_their_list(
    wire: Wire, fake: FakeCoolify, connection: dict[str, str], placement: dict[str, str]
) -> None:
    """It names the other servers by uuid; the provider attaches it to each one's Docker
    network (its standalone destination, which Coolify made with the server)."""
    first, second, third = app_servers(wire, fake, connection, 3)
    network = {s.id: fake.servers[s.id]["_destinations"][0]["uuid"] for s in (second, third)}
    provider = wire(ApplicationProvider)
    on_two = application(
        connection, {**placement, "server_uuid": first.id}, PUBLIC, other_servers=[second.id]
    )
    created = provider.create(on_two)
    stored = fake.resources[created.id]
    assert stored["server_uuid"] == first.id
    assert stored["_additional"] == [network[second.id]]
    assert "other_servers" not in requests_to(fake, "POST", "/applications/public")[0]

    on_three = {**on_two, "other_servers": [second.id, third.id]}
    diff = provider.diff(created.id, created.outs, on_three)
    assert (diff.changes, diff.replaces) == (True, [])
    provider.update(created.id, created.outs, on_three)
    assert stored["_additional"] == [network[second.id], network[third.id]]
    provider.update(created.id, on_three, {**on_three, "other_servers": [third.id]})
    assert stored["_additional"] == [network[third.id]]


def test_an_app_moved_to_another_server_is_deleted_before_its_replacement(
    wire: Wire, fake: FakeCoolify, connection: dict[str, str], placement: dict[str, str]
) -> None:
    """Coolify refuses a second app with the same domain: the replacement must come second."""
    (server,) = app_servers(wire, fake, connection, 1)
    provider = wire(ApplicationProvider)
    props = application(connection, placement, PUBLIC)
    created = provider.create(props)
    moved = {**props, "server_uuid": server.id}
    diff = provider.diff(created.id, created.outs, moved)  # type: ignore[arg-type]
    assert (diff.replaces, diff.delete_before_replace) == (["server_uuid"], True)
    with pytest.raises(ProviderError, match="Domain conflicts detected"):
        provider.create(moved)
    provider.delete(created.id, props)
    assert fake.resources[provider.create(moved).id]["server_uuid"] == server.id
    assert provider.diff(created.id, created.outs, props).delete_before_replace is False  # type: ignore[arg-type]


def test_a_deploy_waits_for_every_server_of_the_app(
    wire: Wire, fake: FakeCoolify, connection: dict[str, str], placement: dict[str, str]
) -> None:
    first, second, third = app_servers(wire, fake, connection, 3)
    app = wire(ApplicationProvider).create(
        application(connection, {**placement, "server_uuid": first.id}, PUBLIC,
                    other_servers=[second.id, third.id])
    ).id  # fmt: skip
    created = wire(DeployProvider).create(deploy_props(connection, app, servers=3))
    assert sorted(d["server_name"] for d in fake.deployments.values()) == [
        "tour-crm-app-0", "tour-crm-app-1", "tour-crm-app-2"
    ]  # fmt: skip
    assert all(d["status"] == "finished" for d in fake.deployments.values())
    assert fake.deployments[created.id]["server_name"] == "tour-crm-app-0"

    fake.server_outcome["tour-crm-app-2"] = ("failed", ["docker build", "out of memory"])
    with pytest.raises(ProviderError) as raised:
        wire(DeployProvider).create(deploy_props(connection, app, servers=3))
    assert "on tour-crm-app-2 failed; the log ends:\ndocker build\nout of memory" in str(
        raised.value
    )


def test_a_deploy_fails_when_coolify_never_deploys_to_the_other_servers(
    wire: Wire, fake: FakeCoolify, connection: dict[str, str], placement: dict[str, str]
) -> None:
    """Told the app runs on two servers while Coolify knows of one: a clear timeout."""
    app = wire(ApplicationProvider).create(application(connection, placement, PUBLIC)).id
    with pytest.raises(ProviderError, match=r"queued 0 of the 1 deployments to the other servers"):
        wire(DeployProvider).create(deploy_props(connection, app, servers=2, timeout_seconds=2))


# --- what the engine's wire format does to inputs ---------------------------------------------


def test_numbers_reach_coolify_as_integers_although_the_engine_sends_doubles(
    wire: Wire, fake: FakeCoolify, connection: dict[str, Any], placement: dict[str, str]
) -> None:
    """The engine hands the provider 22.0 for 22: the ssh port (`ssh -p 22.0` fails: every
    test here goes through the tunnel) and every number of a request body must be ints."""
    alert = {"server_disk_usage_notification_threshold": 85}
    server = wire(RemoteServerProvider).create(remote_server(wire, connection, settings=alert))
    wire(DatabaseProvider).create(postgres(connection, placement, public_port=5432))
    app = application(connection, placement, PUBLIC, health_check_interval=30)
    created = wire(ApplicationProvider).create(app)
    wire(ApplicationProvider).update(created.id, created.outs, {**app, "health_check_interval": 60})
    numbers = [
        requests_to(fake, "POST", "/servers")[0]["port"],
        requests_to(fake, "PATCH", f"/servers/{server.id}")[0][
            "server_disk_usage_notification_threshold"
        ],
        requests_to(fake, "POST", "/databases/postgresql")[0]["public_port"],
        requests_to(fake, "POST", "/applications/public")[0]["health_check_interval"],
        requests_to(fake, "PATCH", f"/applications/{created.id}")[0]["health_check_interval"],
    ]
    assert numbers == [22, 85, 5432, 30, 60]
    assert all(type(number) is int for number in numbers)  # JSON 22, not 22.0


HEALTH_AND_COMMANDS = {
    "health_check_port": 3001, "health_check_method": "HEAD", "health_check_scheme": "http",
    "health_check_return_code": 204, "health_check_interval": 15, "health_check_timeout": 3,
    "health_check_retries": 4, "health_check_start_period": 45, "limits_cpus": "1.5",
    "pre_deployment_command": "php artisan down",
    "post_deployment_command": "npx prisma migrate deploy && php artisan up",
}  # fmt: skip


def test_health_check_cpu_limit_and_deployment_commands_reach_coolify_and_come_back(
    wire: Wire, fake: FakeCoolify, connection: dict[str, Any], placement: dict[str, str]
) -> None:
    """Sent at create as the engine hands them (numbers as doubles), stored as sent, and a
    change of one of them is a PATCH of that one only."""
    app = application(connection, placement, PUBLIC, **HEALTH_AND_COMMANDS)
    created = wire(ApplicationProvider).create(app)
    stored = fake.resources[created.id]
    assert {key: stored[key] for key in HEALTH_AND_COMMANDS} == HEALTH_AND_COMMANDS
    assert type(stored["health_check_return_code"]) is int
    later = {**app, "post_deployment_command": "npx drizzle-kit migrate", "limits_cpus": "2"}
    wire(ApplicationProvider).update(created.id, created.outs, later)
    assert requests_to(fake, "PATCH", f"/applications/{created.id}") == [
        {"limits_cpus": "2", "post_deployment_command": "npx drizzle-kit migrate"}
    ]
    removed = {k: v for k, v in later.items() if k not in HEALTH_AND_COMMANDS}
    wire(ApplicationProvider).update(created.id, created.outs | later, removed)
    assert requests_to(fake, "PATCH", f"/applications/{created.id}")[-1] == {
        "health_check_port": None, "health_check_method": "GET", "health_check_scheme": "http",
        "health_check_return_code": 200, "health_check_interval": 5, "health_check_timeout": 5,
        "health_check_retries": 10, "health_check_start_period": 5, "limits_cpus": "0",
        "pre_deployment_command": "", "post_deployment_command": "",
    }  # fmt: skip


NIXPACKS = {
    "kind": "public", "git_repository": "https://github.com/acme/masstock", "git_branch": "main",
    "build_pack": "nixpacks", "base_directory": "/", "install_command": "npm install",
    "start_command": "npm run worker",
}  # fmt: skip


def test_an_app_built_by_nixpacks_keeps_its_commands_and_drops_one_the_config_drops(
    wire: Wire, fake: FakeCoolify, connection: dict[str, Any], placement: dict[str, str]
) -> None:
    app = application(connection, placement, NIXPACKS)
    created = wire(ApplicationProvider).create(app)
    stored = fake.resources[created.id]
    assert (stored["build_pack"], stored["install_command"], stored["start_command"]) == (
        "nixpacks", "npm install", "npm run worker",
    )  # fmt: skip
    static = {k: v for k, v in NIXPACKS.items() if k != "start_command"} | {
        "build_command": "npm run build", "publish_directory": "/dist", "is_static": True,
    }  # fmt: skip
    wire(ApplicationProvider).update(created.id, created.outs, {**app, "source": static})
    (patch,) = requests_to(fake, "PATCH", f"/applications/{created.id}")
    assert patch["start_command"] is None  # Coolify would keep the old one otherwise
    assert (patch["build_command"], patch["publish_directory"], patch["is_static"]) == (
        "npm run build", "/dist", True,
    )  # fmt: skip
    assert fake.resources[created.id]["start_command"] is None


def test_a_setting_the_config_no_longer_gives_goes_back_to_coolifys_default(
    wire: Wire, fake: FakeCoolify, connection: dict[str, Any], placement: dict[str, str]
) -> None:
    """Removing `health:` drops health_check_path and _interval from the inputs (the engine
    never sends a None): the diff sees it, and the update sends Coolify's defaults."""
    with_health = application(connection, placement, PUBLIC, health_check_interval=30)
    created = wire(ApplicationProvider).create(with_health)
    without = {
        key: value
        for key, value in with_health.items()
        if key not in ("health_check_path", "health_check_interval")
    } | {"health_check_enabled": False}
    diff = wire(ApplicationProvider).diff(created.id, created.outs, without)
    assert (diff.changes, diff.replaces) == (True, [])
    wire(ApplicationProvider).update(created.id, created.outs, without)
    assert requests_to(fake, "PATCH", f"/applications/{created.id}")[-1] == {
        "health_check_enabled": False, "health_check_path": "/", "health_check_interval": 5,
    }  # fmt: skip
    undescribed = {k: v for k, v in created.outs.items() if k != "description"}
    project = wire(ProjectProvider).create(
        {"connection": connection, "name": "project-two", "description": "old"}
    )
    assert (
        wire(ProjectProvider)
        .diff(project.id, project.outs, undescribed | {"name": "project-two"})
        .changes
    )


def test_replacing_an_app_with_a_domain_waits_for_coolify_to_delete_the_old_one(
    wire: Wire, fake: FakeCoolify, connection: dict[str, Any], placement: dict[str, str]
) -> None:
    """Coolify deletes in a queued job and the old row keeps its domain until the job ends:
    the replacement (delete first, then create) must wait, or Coolify answers 409."""
    fake.delete_seconds = 0.5
    apps = wire(ApplicationProvider)
    props = application(connection, placement, PUBLIC, domains="https://crm.example.com")
    old = apps.create(props)
    replacement = {**props, "source": {**props["source"], "kind": "image",
                                       "docker_registry_image_name": "nginx"}}  # fmt: skip
    diff = apps.diff(old.id, old.outs, replacement)
    assert diff.replaces
    assert diff.delete_before_replace
    apps.delete(old.id, old.outs)
    assert old.id not in fake.resources  # gone when the delete returned
    new = apps.create(replacement)
    assert fake.resources[new.id]["domains"] == "https://crm.example.com"


def test_a_project_is_deleted_after_what_was_in_it_is_gone(
    wire: Wire, fake: FakeCoolify, connection: dict[str, Any], placement: dict[str, str]
) -> None:
    """`destroy` deletes the app, then its project: Coolify refuses the project while the
    app's row lives."""
    fake.delete_seconds = 0.5
    app = wire(ApplicationProvider).create(application(connection, placement, PUBLIC))
    wire(ApplicationProvider).delete(app.id, app.outs)
    environment = placement["environment_uuid"]
    project = {"connection": connection, "project_uuid": placement["project_uuid"]}
    wire(EnvironmentProvider).delete(environment, {**project, "name": "production"})
    wire(ProjectProvider).delete(placement["project_uuid"], {**project, "name": "tour-crm"})
    assert fake.projects == {}


def test_an_app_scaled_down_to_one_server_is_detached_from_the_others(
    wire: Wire, fake: FakeCoolify, connection: dict[str, Any], placement: dict[str, str]
) -> None:
    """With one app server left, the app's inputs have no `other_servers` at all."""
    first, second = app_servers(wire, fake, connection, 2)
    on_two = application(
        connection, {**placement, "server_uuid": first.id}, PUBLIC,
        other_servers=[second.id],
    )  # fmt: skip
    created = wire(ApplicationProvider).create(on_two)
    on_one = {key: value for key, value in on_two.items() if key != "other_servers"}
    diff = wire(ApplicationProvider).diff(created.id, created.outs, on_one)
    assert (diff.changes, diff.replaces) == (True, [])
    wire(ApplicationProvider).update(created.id, created.outs, on_one)
    assert fake.resources[created.id]["_additional"] == []


def test_concurrent_operations_each_get_their_own_tunnel(
    wire: Wire, fake: FakeCoolify, connection: dict[str, Any]
) -> None:
    """The engine runs several operations at once in one provider host (its thread pool has
    four workers); each opens its own tunnel, and no two may race for a local port."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        created = list(
            pool.map(
                lambda n: wire(ProjectProvider).create(
                    {"connection": connection, "name": f"project-{n}"}
                ),
                range(12),
            )
        )
    assert sorted(fake.projects[c.id]["name"] for c in created) == sorted(
        f"project-{n}" for n in range(12)
    )
