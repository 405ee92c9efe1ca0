"""The fake Coolify accepts what Coolify 4.3.10's OpenAPI spec documents, and no more."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
import yaml

from offline.stack_files import PROJECT_DIR
from tests.fake_coolify import ROUTES, Body, Route

SPEC = PROJECT_DIR.parent / "shared" / "reference" / "coolify-openapi.yaml"

# Fields Coolify's controllers accept that its spec leaves out, each with the reason we know.
UNDOCUMENTED_BUT_ACCEPTED = {
    # Env var flags added by coollabsio/coolify PR #6860; the spec lists only the first six.
    "is_runtime": "PR #6860",
    "is_buildtime": "PR #6860",
    "comment": "PR #6860",
    # Required by the controllers (column NOT NULL) for git and image apps.
    "ports_exposes": "ApplicationsController create rules",
    # In update_server's allow-list (ServersController.php:662), not in its annotation.
    "is_terminal_enabled": "ServersController.php:662,753-757",
}
# Fields the spec lists as required although the controller needs only one of them.
ONE_OF_IN_CODE = {"environment_name", "environment_uuid"}
# Routes Coolify serves at another path than its spec documents them, with where each is so.
DOCUMENTED_AT = {
    # routes/api.php:121 routes the update with the key's uuid in the path, and update_key
    # reads it from there (SecurityController.php:342, `$request->uuid`); the annotation above
    # it (:253-256) documents the path without it, where no route answers a PATCH.
    ("PATCH", "/security/keys/{uuid}"): "/security/keys",
}


@cache
def spec() -> dict[str, Any]:
    if not SPEC.exists():
        pytest.skip(f"the OpenAPI spec is not at {SPEC}")
    return yaml.safe_load(SPEC.read_text())  # type: ignore[no-any-return]


# Routes of the pinned tag that the reference copy of the spec does not document, with where
# the tag routes and documents them.
UNDOCUMENTED_HERE = {
    # routes/api.php:315-317 at v4.3.10; the tag's own openapi.yaml:5681 documents them.
    ("GET", "/databases/{uuid}/storages"),
    ("PATCH", "/databases/{uuid}/storages"),
}


def operation(route: Route) -> dict[str, Any]:
    if (route.method, route.path) in UNDOCUMENTED_HERE:
        pytest.skip(f"{route.method} {route.path}: not in the reference copy of the spec")
    paths = spec()["paths"]
    path = DOCUMENTED_AT.get((route.method, route.path), route.path)
    assert path in paths, f"{path} is not in the spec"
    assert route.method.lower() in paths[path], f"{route.method} {path} is not in the spec"
    return paths[path][route.method.lower()]  # type: ignore[no-any-return]


def request_schema(route: Route) -> dict[str, Any]:
    content = operation(route).get("requestBody", {}).get("content", {})
    (schema,) = [media["schema"] for media in content.values()] or [{}]
    if "$ref" in schema:
        schema = spec()["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema  # type: ignore[no-any-return]


def route_id(route: Route) -> str:
    return f"{route.method} {route.path}"


def documented(fields: frozenset[str], properties: dict[str, Any]) -> set[str]:
    return set(fields) - set(properties) - set(UNDOCUMENTED_BUT_ACCEPTED)


@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_every_endpoint_of_the_fake_is_in_the_spec(route: Route) -> None:
    operation(route)


@pytest.mark.parametrize("route", [r for r in ROUTES if r.query], ids=route_id)
def test_every_query_parameter_is_documented(route: Route) -> None:
    documented_query = {
        p["name"] for p in operation(route).get("parameters", []) if p.get("in") == "query"
    }
    assert route.query <= documented_query


BODY_ROUTES = [r for r in ROUTES if r.body is not None]


@pytest.mark.parametrize("route", BODY_ROUTES, ids=route_id)
def test_every_accepted_field_is_documented(route: Route) -> None:
    """For the routes that create an app, documented for any kind of app: their controller
    takes one allow-list for every kind (ApplicationsController.php:1194), and the spec
    documents each kind's own fields."""
    assert route.body is not None
    sharing = [r for r in ROUTES if r.handler == route.handler == "create_application"]
    properties = {
        name: field
        for shared in sharing or [route]
        for name, field in request_schema(shared).get("properties", {}).items()
    }
    assert documented(route.body.allowed, properties) == set()
    if route.body.items is not None:
        items = properties["data"]["items"].get("properties", {})
        assert documented(route.body.items.allowed, items) == set()


@pytest.mark.parametrize("route", BODY_ROUTES, ids=route_id)
def test_what_the_spec_requires_the_fake_requires(route: Route) -> None:
    body: Body = route.body  # type: ignore[assignment]
    required_by_spec = set(request_schema(route).get("required", []))
    assert required_by_spec - ONE_OF_IN_CODE <= body.required
    if required_by_spec & ONE_OF_IN_CODE:
        assert body.one_of == ONE_OF_IN_CODE


@pytest.mark.parametrize("route", BODY_ROUTES, ids=route_id)
def test_fields_the_spec_calls_base64_must_be_base64(route: Route) -> None:
    """The spec does not say it of every field Coolify decodes (the *_conf fields and an inline
    Dockerfile are base64 in the controllers too), but where it does, the fake enforces it."""
    assert route.body is not None
    properties = request_schema(route).get("properties", {})
    said = {
        name for name, p in properties.items() if "base64" in str(p.get("description", "")).lower()
    }
    assert said & route.body.allowed <= route.body.base64
