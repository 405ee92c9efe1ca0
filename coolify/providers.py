"""Pulumi dynamic providers for the Coolify resources the platform needs.

Every resource takes `connection` ({url, token}); the engine hands it to the provider in plain
text (dynamic providers do not accept secrets) and marks the stored copy secret again because
the input was secret. Each provider implements create/read/diff/update/delete:

- a change Coolify cannot apply in place (project, environment, server, source kind, engine,
  credentials) forces a replacement (`replace_on`);
- `read` reports a resource deleted behind Pulumi's back as gone, so the next `up` recreates it;
- deleting a data-holding resource keeps its volumes unless `delete_volumes` is true.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any, ClassVar

from pulumi.dynamic import CreateResult, DiffResult, ReadResult, ResourceProvider, UpdateResult

from coolify.client import CoolifyClient, CoolifyError, CoolifyNotFound
from coolify.connection import connect

PROVIDER_KEY = "__provider"
# How long a deleted database, service or application may take to be gone (its containers
# stopped), and how often to look.
DELETE_TIMEOUT_SECONDS = 300
DELETE_POLL_SECONDS = 2
PLACEMENT = ("server_uuid", "project_uuid", "environment_uuid")
# The forges whose push webhooks Coolify checks with a secret of the app's (its
# manual_webhook_secret_* fields).
FORGES = ("github", "gitlab", "gitea", "bitbucket")
WEBHOOK_SECRET_FIELDS = tuple(f"manual_webhook_secret_{forge}" for forge in FORGES)
SECRET_FIELDS = frozenset(
    {"token", "postgres_password", "redis_password", "mariadb_password", "mariadb_root_password",
     "private_key", "value", *WEBHOOK_SECRET_FIELDS}
)  # fmt: skip


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _secret_values(value: Any, key: str = "") -> Iterable[str]:
    """Values of the inputs that hold secrets, to mask them in error messages."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _secret_values(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from _secret_values(item, key)
    elif isinstance(value, str) and key in SECRET_FIELDS:
        yield value


def from_engine(value: Any) -> Any:
    """A value as the program meant it. The engine passes a dynamic provider every number as
    a double (protobuf's Struct has no integers): the ssh port 22 arrives as 22.0, which ssh
    refuses, and Coolify would store 85.0 for a threshold. Integral doubles are ints again."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: from_engine(item) for key, item in value.items()}
    if isinstance(value, list):
        return [from_engine(item) for item in value]
    return value


def _with_engine_values(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(self: ResourceProvider, *args: Any) -> Any:
        return method(self, *(from_engine(arg) for arg in args))

    return call


def delete_query(props: dict[str, Any]) -> dict[str, str]:
    """Coolify deletes volumes by default; keep them unless the config asks otherwise."""
    volumes = "true" if props.get("delete_volumes") else "false"
    return {"delete_volumes": volumes, "delete_configurations": "true", "docker_cleanup": "true"}


class CoolifyProvider(ResourceProvider):
    """What every Coolify provider shares: a client per operation, diff by input, and the
    engine's numbers made ints again (`from_engine`) in every call it makes."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in ("create", "read", "diff", "update", "delete"):
            if name in cls.__dict__:
                setattr(cls, name, _with_engine_values(cls.__dict__[name]))

    replace_on: ClassVar[frozenset[str]] = frozenset()
    delete_before_replace: ClassVar[bool] = False
    computed: ClassVar[tuple[str, ...]] = ()  # outputs the provider adds to the inputs

    def client(self, props: dict[str, Any]) -> AbstractContextManager[CoolifyClient]:
        return connect(props["connection"], redact=_secret_values(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # Over both: an input the config no longer gives is absent from `news` (the engine
        # drops None), and that is a change too.
        changed = [
            key for key in sorted(olds.keys() | news.keys())
            if key != PROVIDER_KEY and key not in self.computed and olds.get(key) != news.get(key)
        ]  # fmt: skip
        replaces = [key for key in changed if key in self.replace_on]
        return DiffResult(
            changes=bool(changed),
            replaces=replaces,
            delete_before_replace=bool(replaces) and self.delete_before_replace,
        )

    @staticmethod
    def changed(olds: dict[str, Any], news: dict[str, Any], fields: Iterable[str]) -> list[str]:
        return [field for field in fields if olds.get(field) != news.get(field)]

    def outputs(self, props: dict[str, Any], **computed: Any) -> dict[str, Any]:
        return {**props, **computed}


class ProjectProvider(CoolifyProvider):
    """A Coolify project. Inputs: connection, name, description."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        with self.client(props) as coolify:
            body = {"name": props["name"], "description": props.get("description") or ""}
            uuid = coolify.post("/projects", body)["uuid"]
        return CreateResult(uuid, self.outputs(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with self.client(props) as coolify:
            try:
                live = coolify.get(f"/projects/{id_}")
            except CoolifyNotFound:
                return ReadResult(None, {})
        return ReadResult(id_, {**props, "name": live["name"], "description": live["description"]})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        fields = self.changed(olds, news, ("name", "description"))
        if fields:
            with self.client(news) as coolify:
                body = {field: news.get(field) or "" for field in fields}
                coolify.patch(f"/projects/{id_}", body)
        return UpdateResult(self.outputs(news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with self.client(props) as coolify:
            try:
                coolify.delete(f"/projects/{id_}")
            except CoolifyNotFound:
                return


class EnvironmentProvider(CoolifyProvider):
    """An environment of a project. Inputs: connection, project_uuid, name. Coolify creates
    `production` with every project; declaring it adopts that one."""

    replace_on = frozenset({"project_uuid", "name"})

    def create(self, props: dict[str, Any]) -> CreateResult:
        project, name = props["project_uuid"], props["name"]
        with self.client(props) as coolify:
            try:
                uuid = coolify.post(f"/projects/{project}/environments", {"name": name})["uuid"]
            except CoolifyError as error:
                if error.status != 409:
                    raise
                existing = coolify.get(f"/projects/{project}/environments")
                (uuid,) = [e["uuid"] for e in existing if e["name"] == name]
        return CreateResult(uuid, self.outputs(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with self.client(props) as coolify:
            try:
                live = coolify.get(f"/projects/{props['project_uuid']}/{id_}")
            except CoolifyNotFound:
                return ReadResult(None, {})
        return ReadResult(id_, {**props, "name": live["name"]})

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self.outputs(news))  # only the connection can change in place

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with self.client(props) as coolify:
            try:
                coolify.delete(f"/projects/{props['project_uuid']}/environments/{id_}")
            except CoolifyNotFound:
                return


class ServerProvider(CoolifyProvider):
    """The server Coolify itself runs on ("localhost"): looked up, never created or deleted.
    Inputs: connection, name, settings (server fields a PATCH sets, e.g. the disk-usage
    notification threshold). Its uuid is random per install, so it is found by name."""

    replace_on = frozenset({"name"})

    def _find(self, props: dict[str, Any]) -> str | None:
        with self.client(props) as coolify:
            servers = coolify.get("/servers")
        return next((s["uuid"] for s in servers if s["name"] == props["name"]), None)

    def _apply(self, uuid: str, props: dict[str, Any], fields: Iterable[str]) -> None:
        body = {field: props["settings"][field] for field in fields}
        if body:
            with self.client(props) as coolify:
                coolify.patch(f"/servers/{uuid}", body)

    def create(self, props: dict[str, Any]) -> CreateResult:
        uuid = self._find(props)
        if uuid is None:
            raise CoolifyError(f"Coolify has no server named {props['name']!r}")
        self._apply(uuid, props, props.get("settings") or {})
        return CreateResult(uuid, self.outputs(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_ if self._find(props) == id_ else None, props)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        settings = news.get("settings") or {}
        self._apply(id_, news, self.changed(olds.get("settings") or {}, settings, settings))
        return UpdateResult(self.outputs(news))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Coolify's own server stays (and keeps its settings)."""


class RemoteServerProvider(CoolifyProvider):
    """Another server for Coolify to deploy to (a database or app server), reached over SSH at
    its private address with a key stored in Coolify. Inputs: connection, machine_id (the
    cloud server's id), name, description, ip, port, user, private_key_uuid, proxy_type
    (traefik for app servers, none for a database server), settings (server fields a PATCH
    sets, e.g. the disk-usage notification threshold), timeout_seconds, poll_seconds.

    Created, then validated with `install`: Coolify installs Docker on it; waits until Coolify
    calls it usable, or fails with why not. A change of how Coolify reaches it (address, port,
    user, key, proxy) is made in place and validated again: the machine and the containers on
    it stay. Only another machine replaces it, the old one deleted first: Coolify refuses to
    delete a server that has resources, and the engine deletes those (replaced with it, since
    they name its uuid) before it; protected databases stop that replacement."""

    replace_on = frozenset({"machine_id"})
    delete_before_replace = True
    settings = ("name", "description")

    def _validate(self, coolify: CoolifyClient, uuid: str, props: dict[str, Any]) -> None:
        """Ask Coolify to validate the server (installing Docker if it lacks it) and wait for
        that validation's end. It is a queued job (ServersController.php:985-987) that marks
        the server `is_validating` while it runs, Docker's install included
        (ValidateAndInstallServerJob.php:50,194), and writes `validation_logs` when it fails
        (:63-66 and each failure after). A server validated before is usable already, so the
        end of this run is what is waited for: `is_validating` seen, or the server or its log
        changed since the request (a run too short to be seen between two looks)."""
        before = coolify.get(f"/servers/{uuid}")
        coolify.post(f"/servers/{uuid}/validate", {"install": True})
        timeout = float(props.get("timeout_seconds") or 900)
        deadline = time.monotonic() + timeout
        ran = False
        while True:
            server = coolify.get(f"/servers/{uuid}")
            ran = (
                ran
                or bool(server.get("is_validating"))
                or any(
                    server.get(field) != before.get(field)
                    for field in ("updated_at", "validation_logs")
                )
            )
            settings = server.get("settings") or {}
            usable = bool(settings.get("is_reachable") and settings.get("is_usable"))
            if ran and not server.get("is_validating"):
                if usable:
                    return
                raise self._unusable(props, server, "")
            if time.monotonic() > deadline:
                waited = f" after {timeout:g}s of validation"
                if not ran:  # Coolify's queue never ran the job
                    waited += " (Coolify never started it: is its queue worker, Horizon, up?)"
                raise self._unusable(props, server, waited)
            time.sleep(float(props.get("poll_seconds") or 2))

    @staticmethod
    def _unusable(props: dict[str, Any], server: dict[str, Any], waited: str) -> CoolifyError:
        logs = " ".join(re.sub(r"<[^>]+>", " ", str(server.get("validation_logs") or "")).split())
        return CoolifyError(
            f"Coolify cannot use the server {props['name']} ({props['ip']}){waited}: "
            f"{logs[-1000:] or 'no validation log'}"
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        body = {
            "name": props["name"],
            "description": props.get("description") or "",
            **self._reach(props),
            "instant_validate": False,  # validated below, with the install of Docker
        }
        with self.client(props) as coolify:
            uuid = coolify.post("/servers", body)["uuid"]
            if props.get("settings"):
                coolify.patch(f"/servers/{uuid}", props["settings"])
            self._validate(coolify, uuid, props)
        return CreateResult(uuid, self.outputs(props))

    @staticmethod
    def _reach(props: dict[str, Any]) -> dict[str, Any]:
        return {
            "ip": props["ip"],
            "port": int(props.get("port") or 22),
            "user": props.get("user") or "root",
            "private_key_uuid": props["private_key_uuid"],
            "proxy_type": props.get("proxy_type") or "none",
        }

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with self.client(props) as coolify:
            try:
                live = coolify.get(f"/servers/{id_}")
            except CoolifyNotFound:
                return ReadResult(None, {})
        return ReadResult(id_, {**props, "name": live.get("name", props["name"])})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        body = {f: news.get(f) or "" for f in self.changed(olds, news, self.settings)}
        settings = news.get("settings") or {}
        body |= {
            f: settings[f] for f in self.changed(olds.get("settings") or {}, settings, settings)
        }
        reach = self._reach(news)
        body |= {f: reach[f] for f in self.changed(self._reach(olds), reach, reach)}
        if body:
            with self.client(news) as coolify:
                coolify.patch(f"/servers/{id_}", body)
                if body.keys() & reach.keys():
                    self._validate(coolify, id_, news)
        return UpdateResult(self.outputs(news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Refused by Coolify while resources are on it: they go first (Pulumi deletes them
        before the server, since they depend on it)."""
        with self.client(props) as coolify:
            try:
                coolify.delete(f"/servers/{id_}")
            except CoolifyNotFound:
                return


class PlacedResourceProvider(CoolifyProvider):
    """A database, service or application: placed on a server in a project's environment."""

    kind: ClassVar[str]  # the API collection: databases, services, applications
    settings: ClassVar[tuple[str, ...]]  # inputs a PATCH can change
    # What a setting goes back to when the config stops giving it: Coolify's own default.
    unset: ClassVar[dict[str, Any]] = {"description": "", "limits_memory": "0", "limits_cpus": "0"}

    def setting(self, props: dict[str, Any], field: str) -> Any:
        value = props.get(field)
        return self.unset.get(field) if value is None else value

    def patch_body(self, fields: list[str], props: dict[str, Any]) -> dict[str, Any]:
        return {field: self.setting(props, field) for field in fields}

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with self.client(props) as coolify:
            try:
                live = coolify.get(f"/{self.kind}/{id_}")
            except CoolifyNotFound:
                return ReadResult(None, {})
        drift = {field: live[field] for field in ("name", "description") if field in live}
        return ReadResult(id_, {**props, **drift})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        fields = self.changed(olds, news, self.settings)
        if fields:
            with self.client(news) as coolify:
                coolify.patch(f"/{self.kind}/{id_}", self.patch_body(fields, news))
                self.after_patch(coolify, id_)
        return UpdateResult(self.outputs(news, **{k: olds.get(k) for k in self.computed}))

    def after_patch(self, coolify: CoolifyClient, id_: str) -> None:
        """Coolify stores a change without applying it: restart to apply."""
        coolify.post(f"/{self.kind}/{id_}/restart")

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with self.client(props) as coolify:
            try:
                coolify.delete(f"/{self.kind}/{id_}", params=delete_query(props))
            except CoolifyNotFound:
                return
            self._wait_gone(coolify, id_)

    def _wait_gone(self, coolify: CoolifyClient, id_: str) -> None:
        """A DELETE only queues Coolify's DeleteResourceJob, which stops the containers before
        it removes the row (app/Jobs/DeleteResourceJob.php:60-73, :130 at v4.3.10). Until then
        the row holds its domains (a replacement with the same domain gets 409), its deploy
        key and its project: wait for it to be gone."""
        deadline = time.monotonic() + DELETE_TIMEOUT_SECONDS
        while True:
            try:
                coolify.get(f"/{self.kind}/{id_}")
            except CoolifyNotFound:
                return
            if time.monotonic() > deadline:
                raise CoolifyError(
                    f"Coolify has not finished deleting {self.kind[:-1]} {id_} after "
                    f"{DELETE_TIMEOUT_SECONDS}s; see its containers on the server, then run "
                    "`pulumi up` again"
                )
            time.sleep(DELETE_POLL_SECONDS)


ENGINE_CONF = {"postgresql": "postgres_conf", "redis": "redis_conf", "mariadb": "mariadb_conf"}


class DatabaseProvider(PlacedResourceProvider):
    """A Coolify database. Inputs: connection, server/project/environment uuids, engine
    (postgresql, redis, mariadb), name, description, image, limits_memory, limits_cpus,
    credentials (the engine's user/password/database fields), conf (the engine's config file,
    plain text), public_port (published on its server, or none), delete_volumes, data_host_path
    (a folder on its server for its data, e.g. on a Hetzner Volume; else a Docker volume).
    Outputs add internal_db_url."""

    kind = "databases"
    replace_on = frozenset({*PLACEMENT, "engine", "credentials"})
    settings = (
        "name", "description", "image", "limits_memory", "limits_cpus", "conf", "public_port",
    )  # fmt: skip
    computed = ("internal_db_url",)

    def patch_body(self, fields: list[str], props: dict[str, Any]) -> dict[str, Any]:
        body = {
            field: self.setting(props, field)
            for field in fields
            if field not in ("conf", "public_port")
        }
        if "conf" in fields:
            body[ENGINE_CONF[props["engine"]]] = b64(props["conf"] or "")
        if "public_port" in fields:
            port = props.get("public_port")
            body |= {"is_public": bool(port), **({"public_port": int(port)} if port else {})}
        return body

    def create(self, props: dict[str, Any]) -> CreateResult:
        body = {
            **{field: props[field] for field in PLACEMENT},
            "name": props["name"],
            "description": props.get("description") or "",
            "image": props["image"],
            "limits_memory": props.get("limits_memory") or "0",
            "limits_cpus": props.get("limits_cpus") or "0",
            # With a host path, started only once its data volume points there.
            "instant_deploy": not props.get("data_host_path"),
            **props.get("credentials", {}),
        }
        if props.get("public_port"):
            # Published on the server (for a database server: reached at its private address;
            # its firewall keeps the port off the internet).
            body |= {"is_public": True, "public_port": int(props["public_port"])}
        if props.get("conf"):
            body[ENGINE_CONF[props["engine"]]] = b64(props["conf"])
        with self.client(props) as coolify:
            created = coolify.post(f"/databases/{props['engine']}", body)
            if props.get("data_host_path"):
                self._set_data_host_path(coolify, created["uuid"], props["data_host_path"])
                coolify.post(f"/databases/{created['uuid']}/start")
        return CreateResult(
            created["uuid"], self.outputs(props, internal_db_url=created["internal_db_url"])
        )

    @staticmethod
    def _data_storage(coolify: CoolifyClient, id_: str) -> dict[str, Any]:
        """The data volume Coolify gave the database as it created it, named
        <engine>-data-<uuid> (StandalonePostgresql.php:107 at v4.3.10, and the others')."""
        storages = coolify.get(f"/databases/{id_}/storages")["persistent_storages"]
        found = [s for s in storages if str(s.get("name", "")).endswith(f"-data-{id_}")]
        if len(found) != 1:
            raise CoolifyError(f"database {id_} has no data volume named *-data-{id_} in Coolify")
        return found[0]  # type: ignore[no-any-return]

    def _set_data_host_path(self, coolify: CoolifyClient, id_: str, host_path: str | None) -> None:
        """Stored by Coolify, used from the database's next start: StartPostgresql.php:233-246
        mounts a storage with a host path as a bind mount."""
        storage = self._data_storage(coolify, id_)
        coolify.patch(
            f"/databases/{id_}/storages",
            {"uuid": storage["uuid"], "type": "persistent", "host_path": host_path},
        )

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """A data folder given or changed on a live database: its data is elsewhere. While it
        runs, refuse, saying how to move the data; once stopped (the data copied), point its
        volume there and start it."""
        host_path = news.get("data_host_path")
        if host_path != olds.get("data_host_path"):
            with self.client(news) as coolify:
                storage = self._data_storage(coolify, id_)
                if storage.get("host_path") != host_path:
                    # Stopped is "exited" (app/Actions/Database/StopDatabase.php:33); a
                    # container restarting in a loop ("restarting:unhealthy",
                    # GetContainersStatus.php:110-112) or starting still writes its data.
                    status = str(coolify.get(f"/databases/{id_}").get("status"))
                    if not status.startswith("exited"):
                        held = storage.get("host_path") or (
                            f"/var/lib/docker/volumes/{storage['name']}/_data"
                        )
                        raise CoolifyError(
                            f"database {news['name']} keeps its data in {held}, not in "
                            f"{host_path or 'a Docker volume'}: stop it in Coolify, copy its "
                            f"data (sudo cp -a {held}/. {host_path or '<the Docker volume>'}/), "
                            "then run pulumi up again "
                            '(docs/operations.md, "Volumes and the disk budget")'
                        )
                    self._set_data_host_path(coolify, id_, host_path or None)
                    coolify.post(f"/databases/{id_}/start")
        return super().update(id_, olds, news)


class ServiceProvider(PlacedResourceProvider):
    """A Coolify service from a docker compose file. Inputs: connection, server/project/
    environment uuids, name, description, compose (plain text), urls ([{name, url}]),
    delete_volumes. Always on Coolify's shared network, so apps and databases resolve it."""

    kind = "services"
    replace_on = frozenset(PLACEMENT)
    settings = ("name", "description", "compose", "urls")
    unset: ClassVar[dict[str, Any]] = {"description": "", "urls": []}

    def patch_body(self, fields: list[str], props: dict[str, Any]) -> dict[str, Any]:
        body = {field: self.setting(props, field) for field in fields if field != "compose"}
        if "compose" in fields:
            body["docker_compose_raw"] = b64(props["compose"])
        return body

    def create(self, props: dict[str, Any]) -> CreateResult:
        body = {
            **{field: props[field] for field in PLACEMENT},
            "name": props["name"],
            "description": props.get("description") or "",
            "docker_compose_raw": b64(props["compose"]),
            "urls": props.get("urls") or [],
            # Started below: StartService reads connect_to_docker_network when it runs, and a
            # start queued by the create would run before the PATCH below sets it.
            "instant_deploy": False,
        }
        with self.client(props) as coolify:
            uuid = coolify.post("/services", body)["uuid"]
            # The create's allow-list has no connect_to_docker_network (ServicesController.php
            # :362 at v4.3.10); a PATCH stores it (:1253-1254) and starts nothing.
            coolify.patch(f"/services/{uuid}", {"connect_to_docker_network": True})
            coolify.post(f"/services/{uuid}/start")
        return CreateResult(uuid, self.outputs(props))


class PrivateKeyProvider(CoolifyProvider):
    """A private key stored in Coolify (a deploy key for a private repository). Inputs:
    connection, name, private_key. A new key replaces it; a new name is set in place (a
    PATCH takes the key along: SecurityController.php:321-324 at v4.3.10 requires it)."""

    replace_on = frozenset({"private_key"})

    def create(self, props: dict[str, Any]) -> CreateResult:
        body = {"name": props["name"], "private_key": props["private_key"]}
        with self.client(props) as coolify:
            uuid = coolify.post("/security/keys", body)["uuid"]
        return CreateResult(uuid, self.outputs(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with self.client(props) as coolify:
            try:
                coolify.get(f"/security/keys/{id_}")
            except CoolifyNotFound:
                return ReadResult(None, {})
        return ReadResult(id_, props)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if olds.get("name") != news["name"]:
            with self.client(news) as coolify:
                body = {"name": news["name"], "private_key": news["private_key"]}
                coolify.patch(f"/security/keys/{id_}", body)
        return UpdateResult(self.outputs(news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with self.client(props) as coolify:
            try:
                coolify.delete(f"/security/keys/{id_}")
            except CoolifyNotFound:
                return


# What a Nixpacks, Railpack or static build is made with, and what it is when the config
# stops giving it (the columns are nullable; false: not served as static files).
BUILD_SETTINGS: dict[str, Any] = {
    "install_command": None, "build_command": None, "start_command": None,
    "publish_directory": None, "is_static": False, "is_spa": False,
}  # fmt: skip
GIT_SOURCE = ("git_repository", "git_branch", "build_pack", "base_directory",
              "dockerfile_location", *BUILD_SETTINGS)  # fmt: skip
# Application sources: the create endpoint and the source fields it takes.
APP_SOURCES = {
    "public": ("/applications/public", GIT_SOURCE),
    "deploy-key": ("/applications/private-deploy-key", (*GIT_SOURCE, "private_key_uuid")),
    "dockerfile": ("/applications/dockerfile", ("dockerfile",)),
    "image": ("/applications/dockerimage", ("docker_registry_image_name",
                                            "docker_registry_image_tag")),
}  # fmt: skip
APP_SETTINGS = (
    "name", "description", "domains", "ports_exposes", "is_auto_deploy_enabled",
    "health_check_enabled", "health_check_path", "health_check_port", "health_check_method",
    "health_check_scheme", "health_check_return_code", "health_check_interval",
    "health_check_timeout", "health_check_retries", "health_check_start_period",
    "limits_memory", "limits_cpus", "pre_deployment_command", "post_deployment_command",
    *WEBHOOK_SECRET_FIELDS,
)  # fmt: skip
# Source fields a PATCH can change (not the kind, the deploy key or an inline Dockerfile).
GIT_PATCHABLE = (*GIT_SOURCE, "docker_registry_image_name", "docker_registry_image_tag")


class ApplicationProvider(PlacedResourceProvider):
    """A Coolify application. Inputs: connection, server/project/environment uuids, source
    ({kind: public|deploy-key|dockerfile|image, and that kind's fields}), the settings in
    APP_SETTINGS (domains as a comma-separated list of URLs; none for a worker),
    other_servers (the uuids of more servers it runs on, behind a load balancer: it is
    attached to each one's Docker network; uuids, not those networks' uuids, which a preview
    would not know when a server changes)
    and delete_volumes. It is created without deploying: environment variables come first,
    and a Deploy resource builds it."""

    kind = "applications"
    replace_on = frozenset(PLACEMENT)
    settings = (*APP_SETTINGS, "source")
    # The applications table's defaults at 4.3.10: database/migrations/
    # 2023_03_27_081716_create_applications_table.php:45-55 (health check; no port: the app's),
    # :57 (memory), :62 (CPUs); the deployment commands are nullable (2024_02_08_075523);
    # 2024_07_19_132617_disable_healtcheck_by_default.php:15 (health checks off). No domain
    # is "" (Laravel's ConvertEmptyStringsToNull makes it null: no fqdn).
    unset: ClassVar[dict[str, Any]] = {
        "description": "", "domains": "", "limits_memory": "0", "limits_cpus": "0",
        "is_auto_deploy_enabled": True, "health_check_enabled": False, "health_check_path": "/",
        "health_check_method": "GET", "health_check_scheme": "http",
        "health_check_return_code": 200, "health_check_interval": 5, "health_check_timeout": 5,
        "health_check_retries": 10, "health_check_start_period": 5,
        "pre_deployment_command": "", "post_deployment_command": "",
    }  # fmt: skip

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        result = super().diff(id_, olds, news)
        old, new = olds.get("source") or {}, news.get("source") or {}
        # What Coolify cannot change in place: the kind of source, the deploy key, an inline
        # Dockerfile.
        if any(old.get(f) != new.get(f) for f in ("kind", "private_key_uuid", "dockerfile")):
            result.replaces = [*(result.replaces or []), "source"]
        # Coolify refuses a second app with the same domain (409): the old one goes first.
        result.delete_before_replace = bool(result.replaces)
        return result

    @staticmethod
    def _destination(coolify: CoolifyClient, server_uuid: str) -> str | None:
        """A server's Docker network in Coolify: Server::created gives every new server one
        standalone destination. None when the server is gone."""
        try:
            destinations = coolify.get(f"/servers/{server_uuid}/destinations")
        except CoolifyNotFound:
            return None
        return str(next(d["uuid"] for d in destinations if d["type"] == "standalone"))

    @classmethod
    def _attach(cls, coolify: CoolifyClient, uuid: str, olds: list[str], news: list[str]) -> None:
        for server in news:
            if server not in olds:
                body = {"destination_uuid": cls._destination(coolify, server)}
                coolify.post(f"/applications/{uuid}/destinations", body)
        for server in olds:
            destination = cls._destination(coolify, server) if server not in news else None
            if destination is not None:
                try:
                    coolify.delete(f"/applications/{uuid}/destinations/{destination}")
                except CoolifyNotFound:
                    continue

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        result = super().update(id_, olds, news)
        old, new = olds.get("other_servers") or [], news.get("other_servers") or []
        if old != new:
            with self.client(news) as coolify:
                self._attach(coolify, id_, old, new)
        return result

    def patch_body(self, fields: list[str], props: dict[str, Any]) -> dict[str, Any]:
        body = {field: self.setting(props, field) for field in fields if field != "source"}
        if "source" in fields:
            source = props["source"]
            if source["kind"] in ("public", "deploy-key"):
                body |= {f: source.get(f, unset) for f, unset in BUILD_SETTINGS.items()}
            body |= {f: v for f, v in source.items() if f in GIT_PATCHABLE}
        return body

    def after_patch(self, coolify: CoolifyClient, id_: str) -> None:
        """Nothing to restart: the next Deploy applies the change."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        source = props["source"]
        path, fields = APP_SOURCES[source["kind"]]
        body = {
            **{field: props[field] for field in PLACEMENT},
            **{field: source[field] for field in fields if source.get(field) is not None},
            **{field: props[field] for field in APP_SETTINGS if props.get(field) is not None},
            "autogenerate_domain": False,  # no sslip.io name for workers or internal apps
            "instant_deploy": False,
        }
        if source["kind"] == "dockerfile":
            body["dockerfile"] = b64(source["dockerfile"])
            body.pop("ports_exposes", None)
        with self.client(props) as coolify:
            uuid = coolify.post(path, body)["uuid"]
            if source["kind"] == "dockerfile" and props.get("ports_exposes"):
                # Coolify derives the port from the still-encoded Dockerfile; set it after.
                coolify.patch(f"/applications/{uuid}", {"ports_exposes": props["ports_exposes"]})
            self._attach(coolify, uuid, [], props.get("other_servers") or [])
        return CreateResult(uuid, self.outputs(props))


ENV_FLAGS = ("is_buildtime", "is_runtime", "is_literal", "is_multiline", "is_shown_once",
             "is_preview")  # fmt: skip


class EnvVarsProvider(CoolifyProvider):
    """The environment variables of an application or service, as one resource. Inputs:
    connection, resource (applications|services), resource_uuid, variables ({KEY: {value and
    every flag in ENV_FLAGS}}). A bulk upsert sends every flag explicitly (Coolify compares
    omitted flags as null); keys removed from the config are deleted."""

    replace_on = frozenset({"resource", "resource_uuid"})

    @staticmethod
    def _path(props: dict[str, Any]) -> str:
        return f"/{props['resource']}/{props['resource_uuid']}/envs"

    @staticmethod
    def _upsert(coolify: CoolifyClient, props: dict[str, Any], keys: Iterable[str]) -> None:
        variables = props["variables"]
        data = [{"key": key, "value": variables[key]["value"],
                 **{flag: bool(variables[key].get(flag, False)) for flag in ENV_FLAGS}}
                for key in sorted(keys)]  # fmt: skip
        if data:
            coolify.patch(f"{EnvVarsProvider._path(props)}/bulk", {"data": data})

    @staticmethod
    def _remove(coolify: CoolifyClient, props: dict[str, Any], keys: Iterable[str]) -> None:
        """Each key, and its preview copy with it."""
        wanted = set(keys)
        for env in coolify.get(EnvVarsProvider._path(props)):
            if env["key"] in wanted:
                coolify.delete(f"{EnvVarsProvider._path(props)}/{env['uuid']}")

    def create(self, props: dict[str, Any]) -> CreateResult:
        with self.client(props) as coolify:
            self._upsert(coolify, props, props["variables"])
        return CreateResult(f"{props['resource_uuid']}-envs", self.outputs(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with self.client(props) as coolify:
            try:
                listed = coolify.get(self._path(props))
            except CoolifyNotFound:
                return ReadResult(None, {})
        # An application's variable gets a preview copy (is_preview) when it is created
        # (app/Models/EnvironmentVariable.php:95-120 at v4.3.10), listed after the variables
        # (ApplicationsController.php:3218): the copies are Coolify's, not drift.
        live = {env["key"]: env for env in listed if not env.get("is_preview")}
        variables = {
            key: {"value": live[key].get("value"), **{f: bool(live[key].get(f)) for f in ENV_FLAGS}}
            for key in props["variables"] if key in live
        }  # fmt: skip
        return ReadResult(id_, {**props, "variables": variables})

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        old, new = olds.get("variables") or {}, news["variables"]
        with self.client(news) as coolify:
            self._upsert(coolify, news, [key for key in new if old.get(key) != new[key]])
            self._remove(coolify, news, [key for key in old if key not in new])
        return UpdateResult(self.outputs(news))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        with self.client(props) as coolify:
            try:
                self._remove(coolify, props, props["variables"])
            except CoolifyNotFound:
                return


LOG_TAIL = 20
SKIPPED = "Deployment already queued for this commit."  # bootstrap/helpers/applications.php:60


class DeployProvider(CoolifyProvider):
    """A deployment of an application or service, run again when `triggers` change. Inputs:
    connection, resource_uuid, triggers (any values), force (rebuild without cache), servers
    (how many servers the app runs on: Coolify deploys to the others once the first has
    finished), timeout_seconds, poll_seconds. Waits for `finished` on every server; `failed`
    fails with the log's tail."""

    computed = ("deployment_uuid",)

    def _deploy(self, props: dict[str, Any]) -> str:
        deadline = time.monotonic() + float(props.get("timeout_seconds") or 1800)
        with self.client(props) as coolify:
            deployment_uuid = self._start(coolify, props, deadline)
            self._wait(coolify, props, deployment_uuid, deadline)
            others = int(props.get("servers") or 1) - 1
            if others > 0:
                for other in self._additional(coolify, props, deployment_uuid, others, deadline):
                    self._wait(coolify, props, other, deadline)
        return deployment_uuid

    def _start(self, coolify: CoolifyClient, props: dict[str, Any], deadline: float) -> str:
        """Queue a deployment, and the uuid of the one that will carry the app's settings.

        When one of the same commit is already queued or running, Coolify skips ours and still
        answers with a fresh uuid that names no deployment (bootstrap/helpers/applications.php
        :47-63, app/Http/Controllers/Api/DeployController.php:539-551 at v4.3.10). A queued
        one reads the app's settings when it starts, after our PATCH: it is ours to follow. A
        running one may have read them before: let it end, then deploy again."""
        query = {"uuid": props["resource_uuid"], "force": "true" if props.get("force") else "false"}
        while True:
            (started,) = coolify.post("/deploy", params=query)["deployments"]
            if started.get("message") != SKIPPED:
                return str(started["deployment_uuid"])
            listed = coolify.get(
                f"/deployments/applications/{props['resource_uuid']}",
                params={"skip": "0", "take": "10"},
            )["deployments"]
            pending = [d for d in listed if d["status"] in ("queued", "in_progress")]
            if not pending:  # it ended in between: deploying again is no longer skipped
                self._pause(props, deadline, "Coolify skipped the deployment of a finished one")
                continue
            existing = pending[-1]  # the oldest: the newest first
            if existing["status"] == "queued":
                return str(existing["deployment_uuid"])
            self._settle(coolify, props, str(existing["deployment_uuid"]), deadline)

    def _settle(
        self, coolify: CoolifyClient, props: dict[str, Any], deployment_uuid: str, deadline: float
    ) -> None:
        """Wait for someone else's deployment to end, however it ends."""
        while coolify.get(f"/deployments/{deployment_uuid}")["status"] in ("queued", "in_progress"):
            self._pause(
                props, deadline, f"deployment {deployment_uuid} (not ours) is still running"
            )

    def _wait(
        self, coolify: CoolifyClient, props: dict[str, Any], deployment_uuid: str, deadline: float
    ) -> None:
        while True:
            deployment = coolify.get(f"/deployments/{deployment_uuid}")
            status = deployment["status"]
            where = f" on {deployment['server_name']}" if deployment.get("server_name") else ""
            if status == "finished":
                return
            if status in ("failed", "cancelled-by-user"):
                raise CoolifyError(
                    f"deployment {deployment_uuid} of {props['resource_uuid']}{where} {status}; "
                    f"the log ends:\n{self._log_tail(deployment.get('logs'))}"
                )
            self._pause(props, deadline, f"deployment {deployment_uuid}{where} is still {status}")

    def _additional(
        self,
        coolify: CoolifyClient,
        props: dict[str, Any],
        primary: str,
        count: int,
        deadline: float,
    ) -> list[str]:
        """The deployments Coolify queued on the other servers after the primary one: the ones
        listed before it (the list is newest first)."""
        while True:
            listed = coolify.get(
                f"/deployments/applications/{props['resource_uuid']}",
                params={"skip": "0", "take": str(count + 10)},
            )["deployments"]
            uuids = [str(d["deployment_uuid"]) for d in listed]
            newer = uuids[: uuids.index(primary)] if primary in uuids else uuids
            if len(newer) >= count:
                return newer[-count:]
            self._pause(
                props, deadline, f"Coolify queued {len(newer)} of the {count} deployments to the "
                "other servers"
            )  # fmt: skip

    @staticmethod
    def _pause(props: dict[str, Any], deadline: float, state: str) -> None:
        if time.monotonic() > deadline:
            raise CoolifyError(
                f"{state} after {props.get('timeout_seconds')}s of deploying "
                f"{props['resource_uuid']}; see it in Coolify"
            )
        time.sleep(float(props.get("poll_seconds") or 5))

    @staticmethod
    def _log_tail(logs: Any) -> str:
        try:
            entries = json.loads(logs or "[]")
        except ValueError:
            return str(logs)[-2000:]
        lines = [str(e.get("output", "")) for e in entries if not e.get("hidden")]
        return "\n".join(lines[-LOG_TAIL:])

    def create(self, props: dict[str, Any]) -> CreateResult:
        deployment_uuid = self._deploy(props)
        return CreateResult(deployment_uuid, self.outputs(props, deployment_uuid=deployment_uuid))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)  # a past deployment does not drift

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if not self.changed(olds, news, ("resource_uuid", "triggers")):
            return UpdateResult(self.outputs(news, deployment_uuid=olds.get("deployment_uuid")))
        return UpdateResult(self.outputs(news, deployment_uuid=self._deploy(news)))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Forgetting a deployment changes nothing on the server."""
