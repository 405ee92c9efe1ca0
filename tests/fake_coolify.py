"""A fake Coolify 4.3 API on loopback (real HTTP) for the client and provider tests.

It accepts exactly the request bodies its route table declares, the way Coolify's controllers
do with their allow-lists: a missing required field or an unknown field is a 422 naming the
field, a multi-line field that is not base64 is a 422, an empty body is a 400. The table's
fields are checked against Coolify's OpenAPI file by tests/test_fake_coolify.py. State is kept
in memory, so a provider can run its whole lifecycle; `fail_next` and `stall_next` inject
the failures the client must survive or report.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
import threading
import time
import uuid as uuid_module
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

VERSION = "4.3.10"
SKIPPED = "Deployment already queued for this commit."  # bootstrap/helpers/applications.php:60
ENVIRONMENT = frozenset({"environment_name", "environment_uuid"})
PLACEMENT = frozenset({"server_uuid", "project_uuid", "destination_uuid"}) | ENVIRONMENT
LIMITS = frozenset({
    "limits_memory", "limits_memory_swap", "limits_memory_swappiness",
    "limits_memory_reservation", "limits_cpus", "limits_cpuset", "limits_cpu_shares",
})  # fmt: skip
DATABASE_COMMON = PLACEMENT | LIMITS | {
    "name", "description", "image", "is_public", "public_port", "public_port_timeout",
    "instant_deploy",
}  # fmt: skip
ENGINE_FIELDS = {
    "postgresql": frozenset({"postgres_user", "postgres_password", "postgres_db",
                             "postgres_initdb_args", "postgres_host_auth_method", "postgres_conf"}),
    "redis": frozenset({"redis_password", "redis_conf"}),
    "mariadb": frozenset({"mariadb_conf", "mariadb_root_password", "mariadb_user",
                          "mariadb_password", "mariadb_database"}),
}  # fmt: skip
DATABASE_HEALTH = frozenset({
    "health_check_enabled", "health_check_interval", "health_check_timeout",
    "health_check_retries", "health_check_start_period",
})  # fmt: skip
APP_SETTINGS = LIMITS | {
    "name", "description", "domains", "is_force_https_enabled", "instant_deploy",
    "ports_exposes", "health_check_enabled", "health_check_path", "health_check_port",
    "health_check_interval", "health_check_timeout", "health_check_retries",
    "health_check_start_period", "health_check_return_code", "health_check_scheme",
    "health_check_method", "is_consistent_container_name_enabled", "max_restart_count",
    "pre_deployment_command", "pre_deployment_command_container", "post_deployment_command",
    "post_deployment_command_container", "manual_webhook_secret_github",
    "manual_webhook_secret_gitlab", "manual_webhook_secret_gitea",
    "manual_webhook_secret_bitbucket",
}  # fmt: skip
# app/Support/ValidationPatterns.php at v4.3.10: FILE_PATH_PATTERN (:24) for
# dockerfile_location and DIRECTORY_PATH_PATTERN (:30) for base_directory (bootstrap/helpers/
# api.php:162, :197); DOCKER_IMAGE_NAME_PATTERN (:138) and DOCKER_IMAGE_TAG_PATTERN (:146);
# nameRules (:417-433): 3 characters.
PATH_PATTERNS = (
    ("dockerfile_location", r"/[a-zA-Z0-9._\-/~@+]+"),
    ("base_directory", r"/([a-zA-Z0-9._\-/~@+]*)?"),
    (
        "docker_registry_image_name",
        r"(?=.{1,255}$)(?:(?:[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?"
        r"(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)"
        r"[a-z0-9]+)*)*)(?:@sha256)?",
    ),
    ("docker_registry_image_tag", r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"),
)
# The build's, health check's and deployment commands' rules in sharedDataApplications
# (bootstrap/helpers/api.php:167, :170, :172, :190-192; ValidationPatterns.php:87).
APP_PATTERNS = (
    *PATH_PATTERNS,
    ("health_check_path", r"[a-zA-Z0-9/\-_.~%,;]+"),
    # :118 (app/Enums/BuildPackTypes.php), :156-158 (SHELL_SAFE_COMMAND_PATTERN,
    # ValidationPatterns.php:74), :163 (DIRECTORY_PATH_PATTERN).
    ("build_pack", r"nixpacks|static|dockerfile|dockercompose|railpack"),
    *(
        (
            command,
            r"""(?:[ \t]+|&&|\|\||"[^"$`\\\n\r]*"|'[^'\n\r]*'|[a-zA-Z0-9._\-/=:@,+\[\]{}#%^~*?!]+)+""",
        )
        for command in ("install_command", "build_command", "start_command")
    ),
    ("publish_directory", r"/([a-zA-Z0-9._\-/~@+]*)?"),
    ("health_check_method", r"GET|HEAD|POST|OPTIONS"),
    ("health_check_scheme", r"http|https"),
    ("pre_deployment_command_container", r"[a-zA-Z0-9][a-zA-Z0-9._-]*"),
    ("post_deployment_command_container", r"[a-zA-Z0-9][a-zA-Z0-9._-]*"),
)
NAME_MIN = (("name", 3),)
# Only for apps built from a git repository.
GIT = frozenset({
    "git_repository", "git_branch", "git_commit_sha", "build_pack", "base_directory",
    "dockerfile_location", "is_auto_deploy_enabled", "install_command", "build_command",
    "start_command", "publish_directory", "is_static", "is_spa",
})  # fmt: skip
# One allow-list for every kind of app (ApplicationsController.php:1194): a field of another
# kind (is_auto_deploy_enabled on an image) passes it, and the kind's rules ignore it.
APP_CREATE = PLACEMENT | APP_SETTINGS | GIT | {
    "autogenerate_domain", "private_key_uuid", "docker_registry_image_name",
    "docker_registry_image_tag", "dockerfile",
}  # fmt: skip
ENV_VAR = frozenset({
    "key", "value", "is_preview", "is_literal", "is_multiline", "is_shown_once",
    "is_runtime", "is_buildtime", "comment",
})  # fmt: skip


@dataclass(frozen=True)
class Body:
    """A JSON request body as Coolify validates it."""

    allowed: frozenset[str]
    required: frozenset[str] = frozenset()
    one_of: frozenset[str] = frozenset()  # at least one of these must be present
    base64: frozenset[str] = frozenset()
    items: Body | None = None  # the schema of each element of the `data` array (bulk)
    patterns: tuple[tuple[str, str], ...] = ()  # (field, regex) Laravel's `regex:` rules
    drops_unknown: bool = False  # unknown fields are dropped, not refused
    min_length: tuple[tuple[str, int], ...] = ()  # (field, characters) Laravel's `min:` rules
    # Whether the controller calls validateIncomingRequest (bootstrap/helpers/api.php:341-364),
    # which refuses a request without a non-empty JSON object; the others take none too.
    json_required: bool = True


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # the OpenAPI path template
    handler: str
    body: Body | None = None
    query: frozenset[str] = frozenset()

    @property
    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.path)
        return re.compile(f"^{regex}$")


def _database_create(engine: str) -> Route:
    allowed = DATABASE_COMMON | ENGINE_FIELDS[engine]
    return Route(
        "POST",
        f"/databases/{engine}",
        "create_database",
        Body(
            allowed,
            required=frozenset({"server_uuid", "project_uuid"}),
            one_of=ENVIRONMENT,
            base64=frozenset(f for f in allowed if f.endswith("_conf")),
        ),
    )


def _app_create(path: str, required: set[str], base64: set[str] = set()) -> Route:  # noqa: B006 -- read only
    return Route(
        "POST",
        path,
        "create_application",
        Body(
            APP_CREATE,
            required=frozenset({"server_uuid", "project_uuid", *required}),
            one_of=ENVIRONMENT,
            base64=frozenset(base64),
            patterns=APP_PATTERNS,
        ),
    )


# The allow-lists of ServersController::create_server and ::update_server
# (app/Http/Controllers/Api/ServersController.php:484, :662 at v4.3.10).
SERVER_CREATE = frozenset({
    "name", "description", "ip", "port", "user", "private_key_uuid", "is_build_server",
    "instant_validate", "proxy_type",
})  # fmt: skip
SERVER_SETTINGS = frozenset({
    "name", "description", "ip", "port", "user", "private_key_uuid", "is_build_server",
    "instant_validate", "proxy_type", "concurrent_builds", "dynamic_timeout",
    "deployment_queue_limit", "server_disk_usage_notification_threshold",
    "server_disk_usage_check_frequency", "connection_timeout", "is_terminal_enabled",
})  # fmt: skip
DELETE_FLAGS = frozenset(
    {"delete_configurations", "delete_volumes", "docker_cleanup", "delete_connected_networks"}
)
ROUTES = [
    Route("GET", "/version", "version"),
    Route("GET", "/servers", "list_servers"),
    Route("POST", "/servers", "create_server", Body(SERVER_CREATE, required=frozenset({"ip", "private_key_uuid"}))),
    Route("GET", "/servers/{uuid}", "get_server"),
    Route("PATCH", "/servers/{uuid}", "update_server", Body(SERVER_SETTINGS)),
    # ServersController.php:952-983: no validateIncomingRequest and no allow-list, only the
    # `install` boolean; the body may be left out.
    Route("POST", "/servers/{uuid}/validate", "validate_server",
          Body(frozenset({"install"}), drops_unknown=True, json_required=False)),
    Route("DELETE", "/servers/{uuid}", "delete_server"),
    Route("GET", "/servers/{server_uuid}/destinations", "list_server_destinations"),
    Route("GET", "/projects", "list_projects"),
    Route("POST", "/projects", "create_project", Body(frozenset({"name", "description"}), frozenset({"name"}), min_length=NAME_MIN)),
    Route("GET", "/projects/{uuid}", "get_project"),
    Route("PATCH", "/projects/{uuid}", "update_project", Body(frozenset({"name", "description"}))),
    Route("DELETE", "/projects/{uuid}", "delete_project"),
    Route("GET", "/projects/{uuid}/environments", "list_environments"),
    Route("POST", "/projects/{uuid}/environments", "create_environment", Body(frozenset({"name"}), frozenset({"name"}), min_length=NAME_MIN)),
    Route("DELETE", "/projects/{uuid}/environments/{environment_name_or_uuid}", "delete_environment"),
    Route("GET", "/projects/{uuid}/{environment_name_or_uuid}", "get_environment"),
    *(_database_create(engine) for engine in ENGINE_FIELDS),
    Route("GET", "/databases/{uuid}", "get_resource"),
    Route("PATCH", "/databases/{uuid}", "update_resource", Body(
        LIMITS | DATABASE_HEALTH | {"name", "description", "image", "is_public", "public_port",
                                    "public_port_timeout"} | frozenset().union(*ENGINE_FIELDS.values()),
        base64=frozenset(f for f in frozenset().union(*ENGINE_FIELDS.values()) if f.endswith("_conf")),
    )),
    Route("DELETE", "/databases/{uuid}", "delete_resource", query=DELETE_FLAGS),
    Route("GET", "/databases/{uuid}/storages", "list_database_storages"),
    # DatabasesController.php:4354-4378 (update_storage): the allow-list; `type` required;
    # host_path must match ValidationPatterns::DIRECTORY_PATH_PATTERN
    # (app/Support/ValidationPatterns.php:30).
    Route("PATCH", "/databases/{uuid}/storages", "update_database_storage", Body(
        frozenset({"uuid", "id", "type", "is_preview_suffix_enabled", "name", "mount_path",
                   "host_path", "content"}),
        required=frozenset({"type"}),
        patterns=(("host_path", r"^/([a-zA-Z0-9._\-/~@+]*)?$"),),
    )),
    Route("POST", "/databases/{uuid}/start", "start_database"),
    Route("POST", "/databases/{uuid}/restart", "restart_database"),
    Route("POST", "/services", "create_service", Body(
        PLACEMENT | {"name", "description", "docker_compose_raw", "urls", "instant_deploy",
                     "force_domain_override", "is_container_label_escape_enabled"},
        required=frozenset({"server_uuid", "project_uuid", "docker_compose_raw"}),
        one_of=ENVIRONMENT,
        base64=frozenset({"docker_compose_raw"}),
    )),
    Route("GET", "/services/{uuid}", "get_resource"),
    Route("PATCH", "/services/{uuid}", "update_resource", Body(
        frozenset({"name", "description", "docker_compose_raw", "urls", "instant_deploy",
                   "connect_to_docker_network", "force_domain_override",
                   "is_container_label_escape_enabled"}),
        base64=frozenset({"docker_compose_raw"}),
    )),
    Route("DELETE", "/services/{uuid}", "delete_resource", query=DELETE_FLAGS),
    Route("POST", "/services/{uuid}/start", "start_service"),
    Route("POST", "/services/{uuid}/restart", "restart_service", query=frozenset({"latest"})),
    Route("GET", "/services/{uuid}/storages", "service_storages"),
    # ServicesController.php:2727-2738: the rules and allow-list of a storage update.
    Route("PATCH", "/services/{uuid}/storages", "update_service_storage", Body(
        frozenset({"uuid", "id", "type", "is_preview_suffix_enabled", "name", "mount_path",
                   "host_path", "content"}),
        required=frozenset({"type"}),
    )),
    # The rules of each kind: ApplicationsController.php:1336-1341 (public), :1817-1824
    # (private key), :2044-2046 (Dockerfile), :2172-2176 (image); ports_exposes is nullable.
    _app_create("/applications/public", {"git_repository", "git_branch", "build_pack"}),
    _app_create("/applications/private-deploy-key",
                {"git_repository", "git_branch", "build_pack", "private_key_uuid"}),
    _app_create("/applications/dockerfile", {"dockerfile"}, {"dockerfile"}),
    _app_create("/applications/dockerimage", {"docker_registry_image_name"}),
    Route("GET", "/applications/{uuid}", "get_resource"),
    Route("PATCH", "/applications/{uuid}", "update_resource", Body(
        APP_SETTINGS | GIT | {"docker_registry_image_name", "docker_registry_image_tag"},
        patterns=APP_PATTERNS,
    )),
    Route("DELETE", "/applications/{uuid}", "delete_resource", query=DELETE_FLAGS),
    Route("GET", "/applications/{uuid}/destinations", "list_app_destinations"),
    Route("POST", "/applications/{uuid}/destinations", "add_app_destination",
          Body(frozenset({"destination_uuid"}), frozenset({"destination_uuid"}))),
    Route("DELETE", "/applications/{uuid}/destinations/{destination_uuid}", "remove_app_destination"),
    *(
        route
        for kind in ("applications", "services")
        for route in (
            Route("GET", f"/{kind}/{{uuid}}/envs", "list_envs"),
            Route("PATCH", f"/{kind}/{{uuid}}/envs/bulk", "bulk_envs", Body(
                frozenset({"data"}), frozenset({"data"}),
                items=Body(ENV_VAR, required=frozenset({"key", "value"}), drops_unknown=True),
            )),
            Route("DELETE", f"/{kind}/{{uuid}}/envs/{{env_uuid}}", "delete_env"),
        )
    ),
    Route("POST", "/security/keys", "create_key", Body(
        frozenset({"name", "description", "private_key"}), frozenset({"private_key"})
    )),
    Route("GET", "/security/keys/{uuid}", "get_key"),
    # SecurityController.php:311-324: private_key is required on a PATCH too.
    Route("PATCH", "/security/keys/{uuid}", "update_key", Body(
        frozenset({"name", "description", "private_key"}), frozenset({"private_key"})
    )),
    Route("DELETE", "/security/keys/{uuid}", "delete_key"),
    Route("POST", "/deploy", "deploy", query=frozenset({"uuid", "force"})),
    Route("GET", "/deployments/{uuid}", "get_deployment"),
    Route("GET", "/deployments/applications/{uuid}", "list_app_deployments",
          query=frozenset({"skip", "take"})),
]  # fmt: skip


class Reply(Exception):
    """Raised by a handler to answer with an error status."""

    def __init__(self, status: int, payload: Any) -> None:
        super().__init__(status)
        self.status = status
        self.payload = payload


DROP = 0  # an injected "status": the connection is closed without an answer


def _new_uuid() -> str:
    return uuid_module.uuid4().hex[:24]


@dataclass
class Injected:
    method: str
    path: str
    status: int | None  # None: no answer until the client gives up; DROP: the connection closes
    retry_after: int | None = None
    message: str = "Injected failure."
    errors: Any = None  # a 422's `errors`, as the controller that answers builds it


@dataclass
class FakeCoolify:
    token: str
    requests: list[tuple[str, str, dict[str, Any], Any]] = field(default_factory=list)
    projects: dict[str, dict[str, Any]] = field(default_factory=dict)
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)  # apps, dbs, services
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    deployments: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted: dict[str, dict[str, str]] = field(default_factory=dict)  # uuid -> delete query flags
    deploy_outcome: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    # How long a build runs, in wall-clock seconds (bench/provider_host.py); 0: one step per look.
    build_seconds: float = 0.0
    # How long a server's validation (and Docker's install) runs, in wall-clock seconds
    # (bench/long_waits.py): a queued job of several SSH round trips, never done when the
    # request is answered nor within the second it was made in (updated_at keeps seconds).
    validation_seconds: float = 1.1
    # How long DeleteResourceJob runs (stopping the containers) before the row is gone.
    delete_seconds: float = 0.3
    # The outcome of every deployment on a server, by the server's name (additional servers).
    server_outcome: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    server_uuid: str = field(default_factory=_new_uuid)
    server_settings: dict[str, Any] = field(default_factory=dict)
    servers: dict[str, dict[str, Any]] = field(default_factory=dict)  # remote servers
    unreachable: set[str] = field(default_factory=set)  # IPs whose validation never succeeds
    # Coolify's API limit: API_RATE_LIMIT requests a minute per user (config/api.php:4,
    # app/Providers/RouteServiceProvider.php:47-52), on every /api route (the `api` group's
    # ThrottleRequests, app/Http/Kernel.php:83-85); tests shorten the window.
    rate_limit: int = 200
    rate_window: float = 60.0
    throttled: int = 0  # requests answered 429 by the limit
    api_enabled: bool = True  # Settings > Advanced > API Access
    request_times: list[float] = field(default_factory=list)
    ignored_query: list[tuple[str, str]] = field(default_factory=list)  # (path, parameter)
    url: str = ""
    _windows: dict[str, tuple[float, int]] = field(default_factory=dict)
    _injected: list[Injected] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- failure injection -------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        path: str,
        *statuses: int,
        retry_after: int | None = None,
        message: str = "Injected failure.",
        errors: Any = None,
    ) -> None:
        """Answer the next requests to `path` with these statuses, in order."""
        self._injected += [
            Injected(method, path, status, retry_after, message, errors) for status in statuses
        ]

    def drop_next(self, method: str, path: str) -> None:
        """Close the connection of the next request to `path` without an answer."""
        self._injected.append(Injected(method, path, DROP))

    def stall_next(self, method: str, path: str) -> None:
        """Send no answer to the next request to `path` (the client times out)."""
        self._injected.append(Injected(method, path, None))

    def _take_injected(self, method: str, path: str) -> Injected | None:
        with self._lock:
            for index, injected in enumerate(self._injected):
                if injected.method == method and injected.path == path:
                    return self._injected.pop(index)
        return None

    # --- dispatch ----------------------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        parts = urlsplit(target)
        path = parts.path.removeprefix("/api/v1")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if path == "/health" or path.startswith("/webhooks/"):
            return self._outside_api(method, path, headers, raw)
        body = json.loads(raw) if raw else None
        self.requests.append((method, path, query, body))
        self.request_times.append(time.monotonic())
        retry_after = self._throttle(headers.get("authorization", ""))
        if retry_after is not None:
            return 429, {"message": "Too Many Attempts."}, {
                "Retry-After": str(retry_after), "X-RateLimit-Limit": str(self.rate_limit),
                "X-RateLimit-Remaining": "0",
            }  # fmt: skip
        self._finish_deletes()
        injected = self._take_injected(method, path)
        if injected is not None:
            if injected.status == DROP:
                return DROP, None, {}
            if injected.status is None:
                # Longer than the tests' 0.5 s client timeout; not time.sleep, which tests patch.
                threading.Event().wait(0.8)
                return 504, {"message": "stalled"}, {}
            extra = {"Retry-After": str(injected.retry_after)} if injected.retry_after else {}
            payload = {"message": injected.message}
            if injected.errors is not None:
                payload["errors"] = injected.errors
            return injected.status, payload, extra
        if headers.get("authorization") != f"Bearer {self.token}":
            return 401, {"message": "Unauthenticated."}, {}
        if not self.api_enabled:  # app/Http/Middleware/ApiAllowed.php:17-19, after auth:sanctum
            return 403, {"success": True, "message": "API is disabled."}, {}  # (routes/api.php:62)
        for route in ROUTES:
            match = route.pattern.match(path)
            if route.method == method and match:
                try:
                    self._check(route, query, body, raw)
                    status, payload = getattr(self, route.handler)(
                        route, body or {}, query, **match.groupdict()
                    )
                except Reply as reply:
                    return reply.status, reply.payload, {}
                return status, payload, {}
        allowed = [r.method for r in ROUTES if r.pattern.match(path)]
        if allowed:
            return 405, {"message": "Method not allowed."}, {}
        return 404, {"message": "Not found."}, {}

    def _outside_api(
        self, method: str, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        if path == "/health":
            return 200, "OK", {}
        if (method, path) == ("POST", "/webhooks/source/github/events/manual"):
            return self._github_push(headers, raw)
        return 404, {"message": "Not found."}, {}

    def _github_push(self, headers: dict[str, str], raw: bytes) -> tuple[int, Any, dict[str, str]]:
        """A GitHub push webhook as Coolify's Webhook\\Github::manual takes it
        (app/Http/Controllers/Webhook/Github.php:26-239 at v4.3.10; routes/webhooks.php:16,
        outside the API: no token, no API limit). Only the JSON push event is modelled."""
        event = headers.get("x-github-event", "").lower()
        if event == "ping":
            return 200, "pong", {}  # :35-38
        if event != "push":
            return 200, f"Nothing to do. Event '{event}' is not supported.", {}  # :68-70
        payload = json.loads(raw or b"{}")
        branch = str(payload.get("ref") or "").removeprefix("refs/heads/")  # :44-48
        full_name = _repository_path(payload.get("repository", {}).get("full_name"))
        if not branch:
            return 200, "Nothing to do. No branch found in the request.", {}
        if full_name is None:
            return 200, "Nothing to do. Invalid repository.", {}
        # :80 and Concerns/MatchesManualWebhookApplications.php:34-53: the branch, and the
        # repository compared case-insensitively.
        apps = [
            app for app in self.resources.values()
            if app["_kind"] == "applications" and app.get("git_branch") == branch
            and (_repository_path(app.get("git_repository")) or "").lower() == full_name.lower()
        ]  # fmt: skip
        if not apps:
            return 200, (
                "Nothing to do. No applications found with deploy key set, branch is "
                f"'{branch}' and Git Repository name has {full_name}."
            ), {}  # fmt: skip
        signature = headers.get("x-hub-signature-256", "").removeprefix("sha256=")
        results = []
        for app in apps:
            secret = app.get("manual_webhook_secret_github")
            expected = secret and hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
            if not expected or not hmac.compare_digest(signature, expected):  # :97-120
                results.append({"status": "failed", "message": "Invalid signature."})
                continue
            if not app.get("is_auto_deploy_enabled", True):  # :132, Application.php:1230-1237
                results.append({"status": "failed", "message": "Deployments disabled.",
                                "application_uuid": app["uuid"]})  # fmt: skip
                continue
            deployment_uuid = _new_uuid()  # :146-153
            if not self._queue_deployment(app["uuid"], False, deployment_uuid):  # :156-161
                results.append({"application": app.get("name"), "status": "skipped",
                                "message": SKIPPED})  # fmt: skip
                continue
            results.append({"status": "success", "message": "Deployment queued.",
                            "application_uuid": app["uuid"],
                            "deployment_uuid": deployment_uuid})  # fmt: skip
        return 200, results, {}

    def _throttle(self, user: str) -> int | None:
        """Laravel's fixed window (Illuminate\\Cache\\RateLimiter): the first request opens a
        window of `rate_window` seconds; past `rate_limit` requests in it, 429 and the seconds
        until it closes."""
        with self._lock:
            now = time.monotonic()
            opened, count = self._windows.get(user, (now, 0))
            if now >= opened + self.rate_window:
                opened, count = now, 0
            self._windows[user] = (opened, count + 1)
            if count < self.rate_limit:
                return None
            self.throttled += 1
            return max(1, math.ceil(opened + self.rate_window - now))

    def peak_requests(self, seconds: float) -> int:
        """The most requests the fake was sent in any `seconds` long stretch."""
        times, peak, first = self.request_times, 0, 0
        for last, at in enumerate(times):
            while times[first] <= at - seconds:
                first += 1
            peak = max(peak, last - first + 1)
        return peak

    def _check(self, route: Route, query: dict[str, str], body: Any, raw: bytes) -> None:
        # The controllers read the query parameters they know ($request->query(...)) and never
        # validate the query: an unknown one is ignored, and recorded here for the tests.
        self.ignored_query += [(route.path, q) for q in sorted(set(query) - route.query)]
        if route.body is None:
            return
        if not route.body.json_required and not raw:
            body = {}
        elif not raw or not isinstance(body, dict):
            raise Reply(400, {"message": "Invalid request.", "error": "Empty JSON."})
        errors = _validate(route.body, body)
        if errors:
            raise Reply(422, {"message": "Validation failed.", "errors": errors})

    # --- projects and environments ---------------------------------------------------------

    def version(self, *_: Any) -> tuple[int, Any]:
        return 200, VERSION

    def list_servers(self, *_: Any) -> tuple[int, Any]:
        return 200, [{"uuid": self.server_uuid, "name": "localhost", "ip": "host.docker.internal",
                      "is_reachable": True, "is_usable": True}]  # fmt: skip

    def create_server(self, _: Route, body: dict[str, Any], *__: Any) -> tuple[int, Any]:
        if body["private_key_uuid"] not in self.keys:
            raise Reply(404, {"message": "Private key not found."})
        # ServersController.php:551-554: any server with the IP, of any team (deleted ones are
        # soft-deleted, app/Models/Server.php:30, and not found).
        if any(server["ip"] == body["ip"] for server in self.servers.values()):
            raise Reply(400, {"message": "A server with this IP/Domain is already in use."})
        uuid = _new_uuid()
        self.servers[uuid] = {
            "uuid": uuid, "name": body.get("name") or "random-name", "ip": body["ip"],
            "port": body.get("port", 22), "user": body.get("user", "root"),
            "description": body.get("description"), "validation_logs": None,
            "private_key_uuid": body["private_key_uuid"], "proxy_type": body.get("proxy_type"),
            "is_validating": False, "updated_at": _timestamp(),
            "settings": {"is_reachable": False, "is_usable": False},
            # Server::created gives every new server its standalone destination.
            "_destinations": [{"uuid": _new_uuid(), "name": f"{uuid}-coolify", "network": "coolify",
                               "type": "standalone", "server_uuid": uuid}],
        }  # fmt: skip
        return 201, {"uuid": uuid}

    def _server(self, uuid: str) -> dict[str, Any]:
        if uuid not in self.servers:
            raise Reply(404, {"message": "Server not found."})
        return self.servers[uuid]

    def get_server(self, _: Route, __: Any, ___: Any, uuid: str) -> tuple[int, Any]:
        return 200, self._public(self._server(uuid))

    def list_server_destinations(
        self, _: Route, __: Any, ___: Any, server_uuid: str
    ) -> tuple[int, Any]:
        return 200, self._server(server_uuid)["_destinations"]

    def _destination(self, uuid: str) -> dict[str, Any]:
        for server in self.servers.values():
            for destination in server["_destinations"]:
                if destination["uuid"] == uuid:
                    return destination  # type: ignore[no-any-return]
        raise Reply(404, {"message": "Destination not found."})

    def validate_server(
        self, _: Route, body: dict[str, Any], __: Any, uuid: str
    ) -> tuple[int, Any]:
        # ServersController.php:985-987 queues the job and answers at once (:997). The job
        # marks the server validating (ValidateAndInstallServerJob.php:50) and, at its end,
        # not (:194); unreachable, it writes why (:59-66), and Server::validateConnection turns
        # is_reachable off but leaves is_usable as it was (app/Models/Server.php:1575-1582);
        # Docker found, the server is usable (:1631). `install` false is the plain
        # ValidateServer job, which installs nothing.
        server = self._server(uuid)
        self._touch(server, is_validating=True)

        def finish() -> None:
            settings = dict(server["settings"])
            if server["ip"] in self.unreachable:
                settings["is_reachable"] = False
                server["validation_logs"] = (
                    "Server is not reachable. Please validate your configuration and "
                    "connection.<br><br>Error: timeout"
                )
            else:
                settings["is_reachable"] = True
                settings["is_usable"] = settings["is_usable"] or bool(body.get("install"))
            self._touch(server, settings=settings, is_validating=False)

        threading.Timer(self.validation_seconds, finish).start()
        install = bool(body.get("install"))
        return 201, {"message": f"Validation{' and installation' if install else ''} started."}

    @staticmethod
    def _touch(server: dict[str, Any], **changes: Any) -> None:
        # Eloquent's update() sets updated_at when a column changes; Coolify's columns keep
        # whole seconds (timestamp(0)).
        server.update(changes, updated_at=_timestamp())

    def delete_server(self, _: Route, __: Any, ___: Any, uuid: str) -> tuple[int, Any]:
        self._server(uuid)
        # ServersController.php:854-855 (without ?force, which the providers never send).
        if any(r.get("server_uuid") == uuid for r in self.resources.values()):
            raise Reply(400, {"message": "Server has resources. Use ?force=true to delete all "
                                         "resources and the server, or delete resources manually first."})  # fmt: skip
        del self.servers[uuid]
        return 200, {"message": "Server deleted."}

    def update_server(self, _: Route, body: dict[str, Any], __: Any, uuid: str) -> tuple[int, Any]:
        if uuid != self.server_uuid:
            server = self._server(uuid)
            # ServersController.php:713-720: an unknown proxy type is refused; :722-728: so is
            # a key the team does not have.
            proxy = str(body.get("proxy_type") or "").lower()
            if proxy and proxy not in {"traefik", "caddy", "none"}:
                raise Reply(422, {"message": "Invalid proxy type."})
            if body.get("private_key_uuid") and body["private_key_uuid"] not in self.keys:
                raise Reply(404, {"message": "Private key not found."})
            self._touch(server, **body)
            return 201, {"uuid": uuid}
        threshold = body.get("server_disk_usage_notification_threshold")
        if threshold is not None and not (isinstance(threshold, int) and 1 <= threshold <= 100):
            raise Reply(
                422,
                {
                    "message": "Validation failed.",
                    "errors": {
                        "server_disk_usage_notification_threshold": ["must be between 1 and 100."]
                    },
                },
            )
        self.server_settings.update(body)
        return 201, {"uuid": uuid}

    def list_projects(self, *_: Any) -> tuple[int, Any]:
        return 200, [self._project_view(p, with_envs=False) for p in self.projects.values()]

    def _project(self, uuid: str) -> dict[str, Any]:
        if uuid not in self.projects:
            raise Reply(404, {"message": "Project not found."})
        return self.projects[uuid]

    def _project_view(self, project: dict[str, Any], *, with_envs: bool = True) -> dict[str, Any]:
        view = {k: project[k] for k in ("uuid", "name", "description")}
        if with_envs:
            view["environments"] = [dict(e) for e in project["environments"].values()]
        return view

    def create_project(self, _: Route, body: dict[str, Any], *__: Any) -> tuple[int, Any]:
        uuid = _new_uuid()
        production = {"uuid": _new_uuid(), "name": "production", "description": None}
        self.projects[uuid] = {"uuid": uuid, "name": body["name"], "description": body.get("description"),
                               "environments": {"production": production}}  # fmt: skip
        return 201, {"uuid": uuid}

    def get_project(self, _: Route, __: Any, ___: Any, uuid: str) -> tuple[int, Any]:
        return 200, self._project_view(self._project(uuid))

    def update_project(self, _: Route, body: dict[str, Any], __: Any, uuid: str) -> tuple[int, Any]:
        project = self._project(uuid)
        project.update(body)
        return 201, {k: project[k] for k in ("uuid", "name", "description")}

    def delete_project(self, _: Route, __: Any, ___: Any, uuid: str) -> tuple[int, Any]:
        self._project(uuid)
        # ProjectController.php:481-482; Project::isEmpty counts apps, databases and services
        # (app/Models/Project.php:145-157), among them those whose DeleteResourceJob still runs.
        if any(r["project_uuid"] == uuid for r in self.resources.values()):
            raise Reply(400, {"message": "Project has resources, so it cannot be deleted."})
        del self.projects[uuid]
        return 200, {"message": "Project deleted."}

    def list_environments(self, _: Route, __: Any, ___: Any, uuid: str) -> tuple[int, Any]:
        return 200, list(self._project(uuid)["environments"].values())

    def create_environment(
        self, _: Route, body: dict[str, Any], __: Any, uuid: str
    ) -> tuple[int, Any]:
        environments = self._project(uuid)["environments"]
        if body["name"] in environments:
            raise Reply(409, {"message": "Environment with this name already exists."})
        environment = {"uuid": _new_uuid(), "name": body["name"], "description": None}
        environments[body["name"]] = environment
        return 201, {"uuid": environment["uuid"]}

    def _environment(self, project_uuid: str, name_or_uuid: str) -> dict[str, Any]:
        for environment in self._project(project_uuid)["environments"].values():
            if name_or_uuid in (environment["name"], environment["uuid"]):
                return environment  # type: ignore[no-any-return]
        raise Reply(404, {"message": "Environment not found."})

    def get_environment(
        self, _: Route, __: Any, ___: Any, uuid: str, environment_name_or_uuid: str
    ) -> tuple[int, Any]:
        environment = self._environment(uuid, environment_name_or_uuid)
        kinds = {"applications": [], "postgresqls": [], "redis": [], "mariadbs": [], "services": []}
        for resource in self.resources.values():
            if resource["environment_uuid"] == environment["uuid"]:
                kinds[resource["_list"]].append(self._public(resource))
        return 200, {**environment, **kinds}

    def delete_environment(
        self, _: Route, __: Any, ___: Any, uuid: str, environment_name_or_uuid: str
    ) -> tuple[int, Any]:
        environment = self._environment(uuid, environment_name_or_uuid)
        # ProjectController.php:910-911 (Environment::isEmpty, app/Models/Environment.php:55-67).
        if any(r["environment_uuid"] == environment["uuid"] for r in self.resources.values()):
            raise Reply(400, {"message": "Environment has resources, so it cannot be deleted."})
        del self._project(uuid)["environments"][environment["name"]]
        return 200, {"message": "Environment deleted."}

    # --- databases, services, applications ---------------------------------------------------

    def _place(self, body: dict[str, Any]) -> dict[str, Any]:
        server = body["server_uuid"]
        if server != self.server_uuid and server not in self.servers:
            raise Reply(404, {"message": "Server not found."})
        # ApplicationsController.php:1307-1316 (and the same in the databases' and services'
        # controllers): a server that is not usable yet is accepted; its deployments fail.
        environment = self._environment(
            body["project_uuid"], body.get("environment_uuid") or body["environment_name"]
        )
        return {
            "project_uuid": body["project_uuid"],
            "environment_uuid": environment["uuid"],
            "server_uuid": server,
        }

    def _store(self, kind: str, listed_as: str, body: dict[str, Any]) -> dict[str, Any]:
        uuid = _new_uuid()
        fields = {k: v for k, v in body.items() if k not in PLACEMENT}
        resource = {
            "uuid": uuid,
            "_kind": kind,
            "_list": listed_as,
            "envs": {},
            "preview_envs": {},
            **self._place(body),
            **fields,
        }
        self.resources[uuid] = resource
        return resource

    @staticmethod
    def _public(resource: dict[str, Any]) -> dict[str, Any]:
        return {
            k: v
            for k, v in resource.items()
            if not k.startswith("_") and k not in ("envs", "preview_envs")
        }

    def create_database(self, route: Route, body: dict[str, Any], *_: Any) -> tuple[int, Any]:
        engine = route.path.rsplit("/", 1)[1]
        listed_as = {"postgresql": "postgresqls", "redis": "redis", "mariadb": "mariadbs"}[engine]
        resource = self._store("databases", listed_as, body)
        resource["database_type"] = f"standalone-{engine}"
        # DatabasesController.php:1943-1945: instant_deploy queues StartDatabase.
        resource["status"] = "running:healthy" if body.get("instant_deploy") else "exited"
        user, password = {
            "postgresql": (body.get("postgres_user", "postgres"), body.get("postgres_password", "generated")),
            "redis": ("default", body.get("redis_password", "generated")),
            "mariadb": (body.get("mariadb_user", "mariadb"), body.get("mariadb_password", "generated")),
        }[engine]  # fmt: skip
        scheme, port = {
            "postgresql": ("postgres", 5432),
            "redis": ("redis", 6379),
            "mariadb": ("mysql", 3306),
        }[engine]
        resource["internal_db_url"] = f"{scheme}://{user}:{password}@{resource['uuid']}:{port}"
        # Each engine's model creates its data volume as the database is created, a named
        # volume (host_path null): StandalonePostgresql.php:91-113 (mounted at
        # /var/lib/postgresql/data below PostgreSQL 18), StandaloneRedis.php:81-84,
        # StandaloneMariadb.php:87-90.
        mount_path = {"postgresql": "/var/lib/postgresql/data", "redis": "/data",
                      "mariadb": "/var/lib/mysql"}[engine]  # fmt: skip
        short = {"postgresql": "postgres", "redis": "redis", "mariadb": "mariadb"}[engine]
        resource["_persistent_storages"] = [
            {"id": len(self.resources), "uuid": _new_uuid(), "name": f"{short}-data-{resource['uuid']}",
             "mount_path": mount_path, "host_path": None}
        ]  # fmt: skip
        if resource["status"].startswith("running"):
            self._start_containers(resource)
        return 201, {"uuid": resource["uuid"], "internal_db_url": resource["internal_db_url"]}

    def _start_containers(self, database: dict[str, Any]) -> None:
        """What StartDatabase mounts into the container: a storage with a host path as a bind
        mount, else its named volume (StartPostgresql.php:233-246; the other engines' Start
        actions alike)."""
        database["_mounted"] = [
            f"{storage['host_path'] or storage['name']}:{storage['mount_path']}"
            for storage in database["_persistent_storages"]
        ]

    def list_database_storages(self, _: Route, __: Any, ___: Any, uuid: str) -> tuple[int, Any]:
        # DatabasesController.php:4008-4030: both kinds, sorted by id.
        database = self._resource("databases", uuid)
        return 200, {"persistent_storages": database["_persistent_storages"], "file_storages": []}

    def update_database_storage(
        self, _: Route, body: dict[str, Any], ___: Any, uuid: str
    ) -> tuple[int, Any]:
        database = self._resource("databases", uuid)
        if not body.get("uuid") and not body.get("id"):  # :4381-4389
            raise Reply(422, {"message": "Validation failed.",
                              "errors": {"uuid": "Either uuid or id is required."}})  # fmt: skip
        field = "uuid" if body.get("uuid") else "id"
        storages = database["_persistent_storages"] if body["type"] == "persistent" else []
        storage = next((s for s in storages if s[field] == body[field]), None)
        if storage is None:  # :4394-4404
            raise Reply(404, {"message": "Storage not found."})
        # :4406-4459: a database's own volumes are editable (LocalPersistentVolume.php:124-138
        # makes only services' and compose apps' read-only); the change is stored and reaches
        # the container at its next start.
        for key in ("name", "mount_path", "host_path"):
            if key in body:
                storage[key] = body[key]
        return 200, storage

    def create_service(self, _: Route, body: dict[str, Any], *__: Any) -> tuple[int, Any]:
        resource = self._store("services", "services", body)
        # The first allow-list (ServicesController.php:362, checked at :400-413) has no
        # connect_to_docker_network, so a create never sets it (the model's default: false).
        resource |= {"connect_to_docker_network": False, "status": "exited"}
        self._parse_files(resource)  # ServicesController.php:727
        if body.get("instant_deploy"):
            # ServicesController.php:753-755: StartService is queued before the answer, and
            # reads the flag when it runs, before any PATCH can set it.
            self._start_service(resource)
        return 201, {"uuid": resource["uuid"], "domains": [u["url"] for u in body.get("urls", [])]}

    @staticmethod
    def _parse_files(service: dict[str, Any]) -> None:
        # bootstrap/helpers/parsers.php:2187-2190, :2216-2230: a file volume's `content` is
        # stored for a mount path met for the first time; for a known one the stored content
        # wins and the compose's is ignored. It is written to the server on `created` only
        # (app/Models/LocalFileVolume.php:54-61).
        stored = service.setdefault("_files", {})
        storages = service.setdefault("_file_storages", {})
        for target, content in _file_volumes(service["docker_compose_raw"]).items():
            stored.setdefault(target, content)
            storages.setdefault(target, _new_uuid())

    @staticmethod
    def _start_service(service: dict[str, Any]) -> None:
        # app/Actions/Service/StartService.php:45-50: the containers join the destination's
        # network (`coolify`) only if connect_to_docker_network is set when the job runs.
        service["status"] = "running:healthy"
        service["_on_network"] = bool(service.get("connect_to_docker_network"))
        # The containers mount what is stored at the mount paths the compose names now.
        mounted = _file_volumes(service["docker_compose_raw"])
        service["_seen"] = {target: service["_files"][target] for target in mounted}

    def service_storages(self, _: Route, __: Any, ___: Any, uuid: str) -> tuple[int, Any]:
        # ServicesController.php:2348-2389: the file storages with their stored content.
        service = self._resource("services", uuid)
        files = [
            {"uuid": storage, "mount_path": target, "content": service["_files"][target]}
            for target, storage in service.get("_file_storages", {}).items()
        ]
        return 200, {"persistent_storages": [], "file_storages": files}

    def update_service_storage(
        self, _: Route, body: dict[str, Any], __: Any, uuid: str
    ) -> tuple[int, Any]:
        service = self._resource("services", uuid)
        targets = {s: t for t, s in service.get("_file_storages", {}).items()}
        if body["type"] != "file" or body.get("uuid") not in targets:
            raise Reply(404, {"message": "Storage not found."})  # :2800-2804
        target = targets[body["uuid"]]
        edited = sorted({"name", "mount_path", "host_path", "content"} & set(body))
        # :2806-2815: a file the compose mounts read-only (LocalFileVolume::isReadOnlyVolume,
        # app/Models/LocalFileVolume.php:344-413) cannot be edited through the API.
        if edited and target in _read_only_targets(service["docker_compose_raw"]):
            raise Reply(422, {
                "message": "This storage is read-only (managed by docker-compose or service "
                           "definition). Only is_preview_suffix_enabled can be updated.",
                "read_only_fields": edited,
            })  # fmt: skip
        if "content" in body:
            service["_files"][target] = body["content"]
        return 200, {"uuid": body["uuid"]}

    def files_seen(self, uuid: str) -> dict[str, str]:
        """The mounted files a service's containers saw when they last started, by path."""
        return dict(self.resources[uuid].get("_seen", {}))

    def on_coolify_network(self, uuid: str) -> bool:
        """Whether a service's running containers joined the `coolify` network."""
        return bool(self.resources[uuid].get("_on_network"))

    def start_service(self, route: Route, _: Any, __: Any, uuid: str) -> tuple[int, Any]:
        service = self._resource("services", uuid)
        if "running" in str(service.get("status")):  # ServicesController.php:2092-2094
            raise Reply(400, {"message": "Service is already running."})
        self._start_service(service)  # :2095
        return 200, {"message": "Service starting request queued."}

    def restart_service(self, route: Route, _: Any, __: Any, uuid: str) -> tuple[int, Any]:
        # ServicesController.php:2285-2299; app/Actions/Service/RestartService.php:16-20
        # runs StartService again, stopping first.
        self._start_service(self._resource("services", uuid))
        return 200, {"message": "Service restarting request queued."}

    def _check_domains(self, server: str, domains: Any, uuid: str | None = None) -> None:
        """ApplicationsController.php:4464-4493 (create) and :2920-2951 (PATCH): on a server
        whose proxy runs, a domain another app of the team has (its row still there while
        DeleteResourceJob runs) is a 409; trailing slashes do not count
        (bootstrap/helpers/domains.php:206-245)."""
        if server in self.servers and self.servers[server].get("proxy_type") == "none":
            return

        def naked(value: Any) -> set[str]:
            return {d.removesuffix("/") for d in str(value or "").split(",") if d}

        taken = {
            domain
            for other, resource in self.resources.items()
            if resource["_kind"] == "applications" and other != uuid
            for domain in naked(resource.get("domains"))
        }
        if taken & naked(domains):
            raise Reply(409, {"message": "Domain conflicts detected. Use force_domain_override=true to proceed."})  # fmt: skip

    def create_application(self, route: Route, body: dict[str, Any], *_: Any) -> tuple[int, Any]:
        if body.get("domains"):
            self._check_domains(body["server_uuid"], body["domains"])
        resource = self._store("applications", "applications", body)
        resource["_additional"] = []  # destination uuids of its additional servers
        resource["source"] = route.path.rsplit("/", 1)[1]
        if "git_repository" in body:  # stored as org/repo: ApplicationsController.php:1464
            resource["git_repository"] = re.sub(r"^https://[^/]+/", "", body["git_repository"])
        if resource["source"] == "dockerfile":
            # :2085-2088 reads EXPOSE from the still-encoded Dockerfile, finds none: port 80.
            resource["ports_exposes"] = "80"
        # :1245, :1514-1515: no domains and autogenerate_domain (default true): an sslip.io URL.
        if not body.get("domains") and body.get("autogenerate_domain", True):
            resource["domains"] = f"http://{resource['uuid']}.203.0.113.10.sslip.io"
        return 201, {"uuid": resource["uuid"], "domains": [resource.get("domains", "")]}

    def _resource(self, kind: str, uuid: str) -> dict[str, Any]:
        resource = self.resources.get(uuid)
        if resource is None or resource["_kind"] != kind:
            raise Reply(404, {"message": f"{kind[:-1].capitalize()} not found."})
        return resource

    @staticmethod
    def _kind(route: Route) -> str:
        return route.path.split("/")[1]

    def get_resource(self, route: Route, _: Any, __: Any, uuid: str) -> tuple[int, Any]:
        return 200, self._public(self._resource(self._kind(route), uuid))

    def update_resource(
        self, route: Route, body: dict[str, Any], _: Any, uuid: str
    ) -> tuple[int, Any]:
        resource = self._resource(self._kind(route), uuid)
        if resource["_kind"] == "applications" and "domains" in body:
            self._check_domains(resource["server_uuid"], body["domains"], uuid)
        resource.update({k: v for k, v in body.items() if k != "instant_deploy"})
        if resource["_kind"] == "services":
            self._parse_files(resource)  # ServicesController.php:1261
            if body.get("instant_deploy"):
                self._start_service(resource)  # :1282-1284
        return 200, {"uuid": uuid}

    def delete_resource(
        self, route: Route, _: Any, query: dict[str, str], uuid: str
    ) -> tuple[int, Any]:
        resource = self._resource(self._kind(route), uuid)
        # ApplicationsController.php:2558-2564 (and the databases' and services'): DELETE only
        # queues DeleteResourceJob, which stops the containers and only then removes the row
        # (app/Jobs/DeleteResourceJob.php:60-73, :130). Until then the row is there for
        # everyone: its domains, its key, its project.
        resource.setdefault("_gone_at", time.monotonic() + self.delete_seconds)
        self.deleted[uuid] = {flag: query.get(flag, "true") for flag in sorted(DELETE_FLAGS)}
        return 200, {"message": "Deletion request queued."}

    def _finish_deletes(self) -> None:
        now = time.monotonic()
        with self._lock:
            for uuid, resource in list(self.resources.items()):
                if resource.get("_gone_at", now + 1) <= now:
                    del self.resources[uuid]

    def start_database(self, _: Route, __: Any, ___: Any, uuid: str) -> tuple[int, Any]:
        database = self._resource("databases", uuid)
        if "running" in str(database.get("status")):  # DatabasesController.php:3172-3174
            raise Reply(400, {"message": "Database is already running."})
        database["status"] = "running:healthy"  # :3175 queues StartDatabase
        self._start_containers(database)
        return 200, {"message": "Database starting request queued."}

    def restart_database(self, _: Route, __: Any, ___: Any, uuid: str) -> tuple[int, Any]:
        database = self._resource("databases", uuid)
        database["status"] = "running:healthy"  # :3358 RestartDatabase
        self._start_containers(database)
        return 200, {"message": "Database restarting request queued."}

    # --- environment variables ----------------------------------------------------------------

    def list_envs(self, route: Route, _: Any, __: Any, uuid: str) -> tuple[int, Any]:
        return 200, self._envs(self._resource(self._kind(route), uuid))

    def list_app_destinations(self, _: Route, __: Any, ___: Any, uuid: str) -> tuple[int, Any]:
        app = self._resource("applications", uuid)
        additional = [self._destination(d) | {"is_primary": False} for d in app["_additional"]]
        primary = {"uuid": f"primary-{uuid}", "server_uuid": app["server_uuid"], "is_primary": True}
        return 200, [primary, *additional]

    def add_app_destination(
        self, _: Route, body: dict[str, Any], __: Any, uuid: str
    ) -> tuple[int, Any]:
        app = self._resource("applications", uuid)
        # ApplicationsController.php:5766-5768: an unknown destination is 404; whether its
        # server is usable is not asked.
        destination = self._destination(body["destination_uuid"])
        if destination["server_uuid"] == app["server_uuid"]:
            raise Reply(422, {"message": "Cannot attach a destination on the same server as the primary destination."})  # fmt: skip
        if destination["uuid"] in app["_additional"]:
            raise Reply(422, {"message": "Destination is already attached."})
        app["_additional"].append(destination["uuid"])
        return 201, {"message": "Destination attached.", "uuid": destination["uuid"]}

    def remove_app_destination(
        self, _: Route, __: Any, ___: Any, uuid: str, destination_uuid: str
    ) -> tuple[int, Any]:
        app = self._resource("applications", uuid)
        if destination_uuid not in app["_additional"]:  # ApplicationsController.php:5842-5845
            raise Reply(404, {"message": "Destination not found."})
        app["_additional"].remove(destination_uuid)
        return 200, {"message": "Destination detached."}

    def bulk_envs(self, route: Route, body: dict[str, Any], _: Any, uuid: str) -> tuple[int, Any]:
        resource = self._resource(self._kind(route), uuid)
        for given in body["data"]:
            # ApplicationsController.php:3558: each item keeps only the known fields.
            item = {k: v for k, v in given.items() if k in ENV_VAR}
            key = item["key"].strip().replace(" ", "_")  # :3589
            envs = resource["preview_envs" if item.get("is_preview") else "envs"]
            existing = envs.get(key, {"uuid": _new_uuid(), "is_preview": False})
            envs[key] = {**existing, **item, "key": key}
            twins = resource["preview_envs"]
            if (
                resource["_kind"] == "applications"
                and not item.get("is_preview")
                and key not in twins
            ):
                # app/Models/EnvironmentVariable.php:95-120: a new variable of an application
                # gets its preview copy, with the same value and flags.
                twins[key] = {**envs[key], "uuid": _new_uuid(), "is_preview": True}
        return 201, self._envs(resource)

    @staticmethod
    def _envs(resource: dict[str, Any]) -> list[dict[str, Any]]:
        # ApplicationsController.php:3218: the variables, then their preview copies.
        return [*resource["envs"].values(), *resource["preview_envs"].values()]

    def delete_env(
        self, route: Route, _: Any, __: Any, uuid: str, env_uuid: str
    ) -> tuple[int, Any]:
        resource = self._resource(self._kind(route), uuid)
        # ApplicationsController.php:3943-3953: any variable of the app by uuid, its preview
        # copies too, deleted at once.
        for envs in (resource["envs"], resource["preview_envs"]):
            for key, env in list(envs.items()):
                if env["uuid"] == env_uuid:
                    del envs[key]
                    return 200, {"message": "Environment variable deleted."}
        raise Reply(404, {"message": "Environment variable not found."})

    # --- keys and deployments -----------------------------------------------------------------

    def create_key(self, _: Route, body: dict[str, Any], *__: Any) -> tuple[int, Any]:
        # SecurityController.php:226-232: a key whose fingerprint Coolify holds already.
        if any(k["private_key"] == body["private_key"] for k in self.keys.values()):
            raise Reply(422, {"message": "Private key already exists."})
        uuid = _new_uuid()
        self.keys[uuid] = {"uuid": uuid, **body}
        return 201, {"uuid": uuid}

    def get_key(self, _: Route, __: Any, ___: Any, uuid: str) -> tuple[int, Any]:
        if uuid not in self.keys:
            raise Reply(404, {"message": "Private Key not found."})
        return 200, {k: v for k, v in self.keys[uuid].items() if k != "private_key"}

    def update_key(self, _: Route, body: dict[str, Any], __: Any, uuid: str) -> tuple[int, Any]:
        if uuid not in self.keys:
            raise Reply(404, {"message": "Private Key not found."})
        self.keys[uuid].update(body)  # SecurityController.php:348
        return 201, {"uuid": uuid}

    def delete_key(self, _: Route, __: Any, ___: Any, uuid: str) -> tuple[int, Any]:
        if uuid not in self.keys:
            raise Reply(404, {"message": "Private Key not found."})
        # SecurityController.php:433-437, app/Models/PrivateKey.php:326-332: a key a server or
        # an application (a row, even one whose deletion is queued) uses stays.
        users = [*self.servers.values(), *self.resources.values()]
        if any(user.get("private_key_uuid") == uuid for user in users):
            raise Reply(422, {
                "message": "Private Key is in use and cannot be deleted.",
                "details": "This private key is currently being used by servers, applications, or Git integrations.",
            })  # fmt: skip
        del self.keys[uuid]
        return 200, {"message": "Private Key deleted."}

    def _server_name(self, uuid: str) -> str:
        return "localhost" if uuid == self.server_uuid else str(self._server(uuid)["name"])

    def _queue(
        self, resource_uuid: str, server: str, outcome: tuple[str, list[str]], force: bool,
        deployment_uuid: str | None = None,
    ) -> str:  # fmt: skip
        deployment_uuid = deployment_uuid or _new_uuid()
        status, log = self.server_outcome.get(self._server_name(server), outcome)
        entries = [{"output": line, "type": "stdout", "hidden": False} for line in log]
        self.deployments[deployment_uuid] = {
            "deployment_uuid": deployment_uuid, "application_id": resource_uuid,
            "server_name": self._server_name(server), "status": "queued", "_final": status,
            "logs": json.dumps(entries), "force_rebuild": force, "_started": time.monotonic(),
            "_server": server,
        }  # fmt: skip
        return deployment_uuid

    def deploy(self, _: Route, __: Any, query: dict[str, str]) -> tuple[int, Any]:
        deployments = []
        for resource_uuid in query.get("uuid", "").split(","):
            if resource_uuid not in self.resources:
                raise Reply(404, {"message": "Resource not found."})
            resource = self.resources[resource_uuid]
            # DeployController.php:539 makes the uuid it answers with before it asks the queue.
            answered = _new_uuid()
            if self._queue_deployment(resource_uuid, query.get("force") == "true", answered):
                message = f"Application {resource.get('name') or resource_uuid} deployment queued."
            else:
                # The controller still answers with its own uuid (DeployController.php:550-551,
                # :599), which names no deployment.
                message = SKIPPED
            deployments.append({"message": message, "resource_uuid": resource_uuid,
                                "deployment_uuid": answered})  # fmt: skip
        return 200, {"deployments": deployments}

    def _queue_deployment(self, resource_uuid: str, force: bool, deployment_uuid: str) -> bool:
        """queue_application_deployment: whether a deployment was queued. A deployment of the
        same commit queued or in progress, and no force: skipped, no row made
        (bootstrap/helpers/applications.php:47-63)."""
        pending = any(
            d["application_id"] == resource_uuid and d["status"] in ("queued", "in_progress")
            for d in self.deployments.values()
        )
        if pending and not force:
            return False
        outcome = self.deploy_outcome.get(resource_uuid, ("finished", ["Deployed."]))
        server = self.resources[resource_uuid]["server_uuid"]
        self._queue(resource_uuid, server, outcome, force, deployment_uuid)
        return True

    def get_deployment(self, _: Route, __: Any, ___: Any, uuid: str) -> tuple[int, Any]:
        deployment = self.deployments.get(uuid)
        if deployment is None:
            raise Reply(404, {"message": "Deployment not found."})
        # queued -> in_progress -> the outcome, one step per look (and the build's time).
        before = deployment["status"]
        building = time.monotonic() < deployment["_started"] + self.build_seconds
        if before == "queued" or not building:
            deployment["status"] = {"queued": "in_progress"}.get(before, deployment["_final"])
        resource = self.resources.get(deployment["application_id"], {})
        if before == "queued":
            # The job reads the app's stored settings when a worker takes it: it holds the
            # Application model (app/Jobs/ApplicationDeploymentJob.php:221), and SerializesModels
            # (:43) fetches it anew from the database then, as the job turns in_progress (:309).
            deployment["_settings"] = self._public(resource)
            settings = self.servers.get(deployment["_server"], {}).get("settings", {})
            if settings and not (settings["is_reachable"] and settings["is_usable"]):
                # ApplicationDeploymentJob.php:313-315: the job fails on a server that is not
                # functional (Server::isFunctional, app/Models/Server.php:1354-1356).
                deployment["_final"] = "failed"
                deployment["logs"] = json.dumps(
                    [{"output": "Server is not functional.", "type": "stderr", "hidden": False}]
                )
        if before != "finished" and deployment["status"] == "finished":
            resource["_running"] = deployment["_settings"]
        if (
            before != "finished"
            and deployment["status"] == "finished"
            and not deployment.get("_additional")
        ):
            # ApplicationDeploymentJob::handleSuccessfulDeployment: after the primary server
            # finished, a deployment per additional destination is queued.
            for destination in resource.get("_additional", []):
                server = self._destination(destination)["server_uuid"]
                queued = self._queue(deployment["application_id"], server, ("finished", ["Deployed."]),
                                     deployment["force_rebuild"])  # fmt: skip
                self.deployments[queued]["_additional"] = True
        return 200, {k: v for k, v in deployment.items() if not k.startswith("_")}

    def deploy_from_elsewhere(self, app_uuid: str, *, started: bool) -> str:
        """A deployment Pulumi did not ask for (a push's webhook, the dashboard): queued, or
        already started (it read the app's settings as they were)."""
        app = self.resources[app_uuid]
        deployment_uuid = self._queue(
            app_uuid, app["server_uuid"], ("finished", ["Deployed."]), False
        )
        if started:
            self.deployments[deployment_uuid] |= {
                "status": "in_progress",
                "_settings": self._public(app),
            }
        return deployment_uuid

    def running(self, uuid: str) -> dict[str, Any] | None:
        """The settings an app's containers run with: its stored settings as the last finished
        deployment read them (None before one finished)."""
        return self.resources[uuid].get("_running")

    def list_app_deployments(
        self, _: Route, __: Any, query: dict[str, str], uuid: str
    ) -> tuple[int, Any]:
        # DeployController.php:696-731: newest first, `skip` and `take` (10) as the query says,
        # with the count of all (Application::deployments).
        self._resource("applications", uuid)
        mine = [d for d in self.deployments.values() if d["application_id"] == uuid]
        newest_first = mine[::-1][int(query.get("skip", 0)) :][: int(query.get("take", 10))]
        # The list shows each deployment's status as it stands, without moving it on.
        return 200, {
            "count": len(mine),
            "deployments": [
                {k: v for k, v in d.items() if not k.startswith("_")} for d in newest_first
            ],
        }


def _repository_path(repository: Any) -> str | None:
    """owner/repo of a repository as Coolify compares them (Concerns/
    MatchesManualWebhookApplications.php:64-106): from a URL's path or an scp-style address,
    without slashes around it or `.git`."""
    if not isinstance(repository, str) or not repository.strip():
        return None
    text = repository.strip()
    if "://" in text:
        text = urlsplit(text).path
    elif text.startswith("git@") and ":" in text:
        text = re.sub(r"^\d+/", "", text.split(":", 1)[1])
    text = re.sub(r"\.git$", "", re.split(r"[?#]", text)[0].strip("/"), flags=re.IGNORECASE)
    return text or None


def _timestamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())


def _file_volumes(compose_base64: str) -> dict[str, str]:
    """A compose's bind volumes with `content` (Coolify's extension): mount path -> content."""
    compose = yaml.safe_load(base64.b64decode(compose_base64)) or {}
    return {
        volume["target"]: volume["content"]
        for service in (compose.get("services") or {}).values()
        for volume in service.get("volumes") or []
        if isinstance(volume, dict) and "content" in volume
    }


def _read_only_targets(compose_base64: str) -> set[str]:
    """The mount paths a compose mounts read-only: `host:path:ro`, or `read_only: true` in the
    long form (app/Models/LocalFileVolume.php:384-398, :401-412)."""
    compose = yaml.safe_load(base64.b64decode(compose_base64)) or {}
    targets = set()
    for service in (compose.get("services") or {}).values():
        for volume in service.get("volumes") or []:
            if isinstance(volume, str) and volume.count(":") >= 2 and volume.endswith(":ro"):
                targets.add(volume.split(":")[1])
            elif isinstance(volume, dict) and volume.get("read_only"):
                targets.add(volume["target"])
    return targets


def _rule_errors(schema: Body, body: dict[str, Any]) -> dict[str, list[str]]:
    """Laravel's `regex:` and `min:` rules, with its messages."""
    errors = {}
    for name, pattern in schema.patterns:
        if body.get(name) is not None and not re.fullmatch(pattern, str(body[name])):
            errors[name] = [f"The {name.replace('_', ' ')} field format is invalid."]
    for name, length in schema.min_length:
        if name in body and len(str(body[name])) < length:
            errors[name] = [f"The {name} field must be at least {length} characters."]
    return errors


def _validate(schema: Body, body: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name in sorted(set(body) - schema.allowed):
        if not schema.drops_unknown:
            errors[name] = ["This field is not allowed."]
    for name in sorted(schema.required - set(body)):
        errors[name] = [f"The {name} field is required."]
    if schema.one_of and not schema.one_of & set(body):
        for name in sorted(schema.one_of):
            errors[name] = [f"The {name} field is required when none of the others are present."]
    for name in sorted(schema.base64 & set(body)):
        try:
            base64.b64decode(str(body[name]), validate=True)
        except binascii.Error:
            errors[name] = [f"The {name} should be base64 encoded."]
    errors |= _rule_errors(schema, body)
    if schema.items is not None:
        for index, item in enumerate(body.get("data") or []):
            for name, messages in _validate(schema.items, item).items():
                errors[f"data.{index}.{name}"] = messages
    return errors


class _Handler(BaseHTTPRequestHandler):
    fake: FakeCoolify

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, payload, extra = self.fake.handle(self.command, self.path, headers, raw)
        if status == DROP:
            self.close_connection = True
            return
        text = isinstance(payload, str)  # /health and /version answer in plain text
        data = payload.encode() if text else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain" if text else "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    def log_message(self, *_: Any) -> None:  # keep test output quiet
        return


@contextmanager
def running_fake(token: str, port: int = 0) -> Iterator[FakeCoolify]:
    """On 127.0.0.1:`port` (Coolify's own 8000 where a tunnel expects it; any free port by
    default)."""
    fake = FakeCoolify(token=token)
    handler = type("Handler", (_Handler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
