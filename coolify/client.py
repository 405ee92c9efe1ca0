"""A small client for Coolify's REST API (v4.3): bearer token, timeouts, retries, clear errors.

Coolify is reached through its HTTPS dashboard hostname or an SSH tunnel to 127.0.0.1:8000 on
the server (`coolify.tunnel`); port 8000 is never open to the internet. Error messages carry
Coolify's own message and the offending field names, never a request body, and every secret
the client knows (the token, and values registered with `redact`) is masked in them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from coolify.budget import RequestBudget

API_PREFIX = "/api/v1"
IDEMPOTENT = frozenset({"GET", "PUT", "PATCH", "DELETE"})
MASK = "[secret]"
RETRY_AFTER_CAP = 120.0  # seconds: the longest Retry-After the client waits out


class CoolifyError(Exception):
    """Coolify refused a request, or could not be reached. `status` is the HTTP status when
    Coolify answered; `field_errors` holds a 422's messages by field."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        field_errors: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.field_errors = field_errors or {}


class CoolifyNotFound(CoolifyError):
    """404: the resource does not exist (for example, deleted behind Pulumi's back)."""


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None


def _messages(value: Any) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]


def _field_errors(response: httpx.Response) -> dict[str, list[str]]:
    """A 422's `errors` by field. Coolify's controllers answer {field: [messages]} from the
    validator, but some build their own: {field: "message"}, a list, or one string (kept under
    the field name "")."""
    try:
        payload = response.json()
    except ValueError:
        return {}
    errors = payload.get("errors") if isinstance(payload, dict) else None
    if isinstance(errors, dict):
        return {str(field): _messages(value) for field, value in errors.items()}
    if errors:
        return {"": _messages(errors)}
    return {}


class CoolifyClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 30.0,
        attempts: int = 5,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        redact: Iterable[str] = (),
        sleep: Callable[[float], None] | None = None,
        transport: httpx.BaseTransport | None = None,
        budget: RequestBudget | None = None,
    ) -> None:
        """`budget`: the requests a minute this client shares with the others of its Coolify
        (coolify/budget.py); each attempt takes a slot first."""
        self._secrets = {token, *redact} - {""}
        self._budget = budget
        self._attempts = attempts
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._timeout = timeout
        # Looked up now, not at import, so tests can patch time.sleep.
        self._sleep = time.sleep if sleep is None else sleep
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + API_PREFIX,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )

    def __enter__(self) -> CoolifyClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def redact(self, *values: str) -> None:
        """Mask these values too in every error message from now on."""
        self._secrets |= {value for value in values if value}

    def _masked(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        return self.request("POST", path, body=body, params=params)

    def patch(self, path: str, body: Any) -> Any:
        return self.request("PATCH", path, body=body)

    def delete(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.request("DELETE", path, params=params)

    def request(
        self, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        what = f"{method} {path}"
        problem = ""
        for attempt in range(1, self._attempts + 1):
            delay = min(self._max_backoff, self._backoff * 2 ** (attempt - 1))
            if self._budget is not None:
                self._budget.take()
            try:
                response = self._http.request(method, path, json=body, params=params)
            except (httpx.ConnectError, httpx.ConnectTimeout) as error:
                # Nothing reached Coolify: safe to send again, whatever the method.
                problem = f"could not connect ({type(error).__name__})"
            except httpx.TransportError as error:
                if method not in IDEMPOTENT:
                    raise CoolifyError(
                        self._masked(
                            f"{what}: no answer ({type(error).__name__}, timeout "
                            f"{self._timeout:g}s); Coolify may still have done it, so it is not "
                            "sent again; check the resource before retrying"
                        )
                    ) from None
                problem = f"no answer ({type(error).__name__})"
            else:
                if response.status_code == 429 or response.status_code >= 500:
                    problem = f"HTTP {response.status_code} {self._message(response)}"
                    # Coolify's limit says when its window closes (up to a minute away; a full
                    # deployment queue says 60): asking sooner is refused again.
                    delay = max(delay, min(RETRY_AFTER_CAP, _retry_after(response) or 0))
                else:
                    return self._result(what, response)
            if attempt < self._attempts:
                self._sleep(delay)
        raise CoolifyError(
            self._masked(f"{what} failed after {self._attempts} attempts: {problem}")
        )

    def _message(self, response: httpx.Response) -> str:
        try:
            payload = response.json()
        except ValueError:
            return response.text[:200].strip()
        if isinstance(payload, dict):
            return str(payload.get("message") or payload.get("error") or "")
        return ""

    def _result(self, what: str, response: httpx.Response) -> Any:
        status = response.status_code
        if status < 400:
            if not response.content:
                return None
            is_json = "json" in response.headers.get("Content-Type", "")
            return response.json() if is_json else response.text
        message = self._message(response)
        if status == 422:
            fields = _field_errors(response)
            detail = "; ".join(
                f"{field}: {' '.join(msgs)}" if field else " ".join(msgs)
                for field, msgs in fields.items()
            )
            raise CoolifyError(
                self._masked(f"{what} was rejected by Coolify: {message} ({detail})"),
                status=status,
                field_errors=fields,
            )
        if status == 403:
            # ApiAllowed (Coolify's middleware): the API switched off, or this address not in
            # its allowed IPs; a token without the ability a route needs gets 403 too.
            message += " (check Coolify's Settings > Advanced: API access and Allowed API IPs)"
        error_type = CoolifyNotFound if status == 404 else CoolifyError
        raise error_type(self._masked(f"{what}: HTTP {status} {message}".strip()), status=status)
