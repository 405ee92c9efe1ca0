"""One budget of API requests a minute for every client of one Coolify on this machine.

Coolify answers 429 past 200 requests a minute per user (API_RATE_LIMIT, config/api.php:4 at
v4.3.10, on every /api route). A `pulumi up` runs many operations at once, in two provider
hosts (the long waits apart), and each waiting one polls: a deployment, a validation, a
delete. Each request first takes a slot in a budget they all share through a locked file, so
together they stay under the limit instead of running into it and backing off; a 429 that
comes anyway (the team's own scripts use the same token) is still honoured by the client.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# Coolify's own default; a Coolify whose .env sets another API_RATE_LIMIT is told to the
# program by the same name, in the environment `pulumi` runs in.
RATE_LIMIT_VARIABLE = "COOLIFY_API_RATE_LIMIT"
DEFAULT_RATE_LIMIT = 200
# The share of it the program takes: the rest is left to whoever else uses the API meanwhile.
SHARE = 0.75


def requests_per_minute() -> int:
    value = os.environ.get(RATE_LIMIT_VARIABLE, str(DEFAULT_RATE_LIMIT))
    if not value.isdigit() or int(value) < 4:
        raise ValueError(
            f"{RATE_LIMIT_VARIABLE}={value!r}: set it to the API_RATE_LIMIT of your Coolify's "
            f".env (requests a minute, {DEFAULT_RATE_LIMIT} unless you changed it), or unset it"
        )
    return int(int(value) * SHARE)


class RequestBudget:
    """At most `limit` requests (by default 3/4 of Coolify's limit) in any `window` seconds,
    across threads and processes that use the same `key` (the Coolify's address)."""

    def __init__(
        self,
        key: str,
        *,
        limit: int | None = None,
        window: float = 60.0,
        folder: Path | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        folder = folder or Path(tempfile.gettempdir()) / f"coolify-requests-{os.getuid()}"
        folder.mkdir(mode=0o700, exist_ok=True)
        self.path = folder / hashlib.sha256(key.encode()).hexdigest()[:24]
        self.limit = requests_per_minute() if limit is None else limit
        self.window = window
        self._sleep = sleep

    def take(self) -> None:
        """Wait until a request may go, and count it."""
        while True:
            wait = self._try_take()
            if wait is None:
                return
            self._sleep(wait)

    def _try_take(self) -> float | None:
        with self.path.open("a+") as file:
            fcntl.flock(file, fcntl.LOCK_EX)  # released when the file closes
            file.seek(0)
            now = time.time()  # the wall clock: the one every process shares
            try:
                taken = [float(t) for t in json.loads(file.read() or "[]") if t > now - self.window]
            except ValueError:  # a file cut short by a crash: start counting again
                taken = []
            if len(taken) >= self.limit:
                return taken[-self.limit] + self.window - now
            file.seek(0)
            file.truncate()
            file.write(json.dumps([*taken, now]))
            return None
