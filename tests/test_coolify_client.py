"""The Coolify client against the fake API over real HTTP: retries, errors, secrets."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from coolify.client import MASK, CoolifyClient, CoolifyError, CoolifyNotFound
from tests.fake_coolify import FakeCoolify, running_fake

TOKEN = "plain-api-token-0123456789abcdefghij"


@pytest.fixture
def fake() -> Iterator[FakeCoolify]:
    with running_fake(TOKEN) as server:
        yield server


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(url: str, sleeps: Sleeps | None = None, **options: object) -> CoolifyClient:
    return CoolifyClient(url, TOKEN, sleep=sleeps if sleeps is not None else Sleeps(), **options)  # type: ignore[arg-type]


def test_requests_carry_the_bearer_token(fake: FakeCoolify) -> None:
    with client(fake.url) as coolify:
        assert coolify.get("/version") == "4.3.10"
        assert coolify.post("/projects", {"name": "tour-crm"})["uuid"]


def test_a_wrong_token_is_refused_without_showing_it(fake: FakeCoolify) -> None:
    coolify = CoolifyClient(fake.url, "wrong-token-abcdefgh", sleep=Sleeps())
    with coolify, pytest.raises(CoolifyError) as raised:
        coolify.get("/projects")
    assert raised.value.status == 401
    assert "wrong-token" not in str(raised.value)


def test_an_api_switched_off_says_where_to_switch_it_on(fake: FakeCoolify) -> None:
    fake.api_enabled = False
    with client(fake.url) as coolify, pytest.raises(CoolifyError) as raised:
        coolify.get("/projects")
    assert raised.value.status == 403
    assert str(raised.value) == (
        "GET /projects: HTTP 403 API is disabled. "
        "(check Coolify's Settings > Advanced: API access and Allowed API IPs)"
    )


def test_a_422_names_the_field_and_coolifys_message(fake: FakeCoolify) -> None:
    with client(fake.url) as coolify, pytest.raises(CoolifyError) as raised:
        coolify.post("/projects", {"name": "tour-crm", "colour": "red"})
    error = raised.value
    assert error.status == 422
    assert error.field_errors == {"colour": ["This field is not allowed."]}
    assert str(error) == (
        "POST /projects was rejected by Coolify: Validation failed. "
        "(colour: This field is not allowed.)"
    )


@pytest.mark.parametrize(
    ("errors", "fields", "detail"),
    [
        (
            {"domains": "Domain conflict."},
            {"domains": ["Domain conflict."]},
            "domains: Domain conflict.",
        ),
        (["Image tag is invalid."], {"": ["Image tag is invalid."]}, "Image tag is invalid."),
        ("Invalid docker image.", {"": ["Invalid docker image."]}, "Invalid docker image."),
        (None, {}, ""),
    ],
)
def test_a_422_whose_errors_are_not_lists_by_field_still_reads(
    fake: FakeCoolify, errors: object, fields: dict[str, list[str]], detail: str
) -> None:
    """Some controllers build their 422 by hand: a string per field, a list, one string."""
    fake.fail_next("POST", "/projects", 422, message="Validation failed.", errors=errors)
    with client(fake.url) as coolify, pytest.raises(CoolifyError) as raised:
        coolify.post("/projects", {"name": "tour-crm"})
    assert raised.value.field_errors == fields
    assert str(raised.value) == (
        f"POST /projects was rejected by Coolify: Validation failed. ({detail})"
    )


def test_a_missing_resource_is_a_not_found(fake: FakeCoolify) -> None:
    with client(fake.url) as coolify, pytest.raises(CoolifyNotFound):
        coolify.get("/databases/nosuchuuid")


def test_429_and_5xx_are_retried_with_backoff_and_retry_after(fake: FakeCoolify) -> None:
    fake.fail_next("GET", "/projects", 429, retry_after=7)
    fake.fail_next("GET", "/projects", 502, 503)
    sleeps = Sleeps()
    with client(fake.url, sleeps) as coolify:
        assert coolify.get("/projects") == []
    assert sleeps == [7.0, 2.0, 4.0]  # Retry-After beats the first backoff step


def test_coolifys_rate_limit_is_waited_out_whole(fake: FakeCoolify) -> None:
    """Past its limit Coolify says when its minute ends (and a full deployment queue says 60):
    asking again sooner, at the back-off's cap, would only be refused again."""
    fake.fail_next("GET", "/projects", 429, 429, retry_after=60)
    fake.fail_next("GET", "/projects", 429, retry_after=600)
    sleeps = Sleeps()
    with client(fake.url, sleeps, max_backoff=30) as coolify:
        assert coolify.get("/projects") == []
    assert sleeps == [60.0, 60.0, 120.0]  # ten minutes' Retry-After: capped at two


def test_persistent_5xx_ends_in_a_clear_error(fake: FakeCoolify) -> None:
    fake.fail_next("GET", "/projects", 503, 503, 503)
    sleeps = Sleeps()
    with client(fake.url, sleeps, attempts=3) as coolify, pytest.raises(CoolifyError) as raised:
        coolify.get("/projects")
    assert str(raised.value) == "GET /projects failed after 3 attempts: HTTP 503 Injected failure."
    assert sleeps == [1.0, 2.0]


def test_backoff_is_capped(fake: FakeCoolify) -> None:
    fake.fail_next("GET", "/projects", *[500] * 6)
    sleeps = Sleeps()
    with (
        client(fake.url, sleeps, attempts=6, max_backoff=5) as coolify,
        pytest.raises(CoolifyError),
    ):
        coolify.get("/projects")
    assert sleeps == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_an_unreachable_coolify_is_retried_then_reported() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the socket closes
    sleeps = Sleeps()
    coolify = client(f"http://127.0.0.1:{port}", sleeps, attempts=2)
    with coolify, pytest.raises(CoolifyError, match="after 2 attempts: could not connect"):
        coolify.post("/projects", {"name": "x"})
    assert sleeps == [1.0]


def test_a_post_without_answer_is_not_sent_twice(fake: FakeCoolify) -> None:
    fake.stall_next("POST", "/projects")
    with client(fake.url, timeout=0.5) as coolify, pytest.raises(CoolifyError) as raised:
        coolify.post("/projects", {"name": "x"})
    assert "no answer (ReadTimeout, timeout 0.5s)" in str(raised.value)
    assert "not sent again" in str(raised.value)
    assert [r for r in fake.requests if r[:2] == ("POST", "/projects")] == [
        ("POST", "/projects", {}, {"name": "x"})
    ]


def test_a_get_without_answer_is_asked_again(fake: FakeCoolify) -> None:
    fake.stall_next("GET", "/projects")
    with client(fake.url, timeout=0.5) as coolify:
        assert coolify.get("/projects") == []


def test_known_secrets_never_appear_in_errors(fake: FakeCoolify) -> None:
    password = "db-password-that-must-not-leak"
    fake.fail_next("POST", "/projects", 500, 500, message=f"cannot use {password} or {TOKEN}")
    coolify = client(fake.url, attempts=2, redact=[password])
    with coolify, pytest.raises(CoolifyError) as raised:
        coolify.post("/projects", {"name": "x"})
    text = str(raised.value)
    assert password not in text
    assert TOKEN not in text
    assert text.count(MASK) == 2


def test_request_bodies_are_never_quoted_in_errors(fake: FakeCoolify) -> None:
    with client(fake.url) as coolify, pytest.raises(CoolifyError) as raised:
        coolify.post("/databases/postgresql", {"postgres_password": "hunter2hunter2"})
    assert "hunter2" not in str(raised.value)
    assert "server_uuid" in raised.value.field_errors
