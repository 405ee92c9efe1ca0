"""Loaded by the provider host the tests start (tests/engine_wire.py puts this folder on its
PYTHONPATH): every sleep in the host lasts a hundredth as long, so a test of Coolify's retry
back-off (1 s, 2 s, 4 s, 8 s) or of a provider's polling takes milliseconds. Nothing else in
the host changes: the properties, the gRPC calls and the providers are the real ones."""

import time

_real_sleep = time.sleep


def _fast_sleep(seconds: float) -> None:
    _real_sleep(seconds / 100)


time.sleep = _fast_sleep
