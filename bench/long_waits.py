"""Benchmark: how long the other Coolify operations of a `pulumi up` wait behind long waits.

The engine starts one dynamic provider host per provider resource, and each serves four
operations at a time. This runs the simulated `up` of examples/scale-out.yaml (tests/
simulated_up.py: the program under the offline engine, every Coolify resource through the
provider host, the real SSH tunnel, the fake Coolify) with APP_SERVERS app servers whose
validation takes WAIT_SECONDS, builds that take as long, and EXTRA_WORKERS more worker apps
that deploy at once, twice:
- `one_host`: every resource in the default provider's host (the program before it gave long
  waits a provider of their own);
- `long_waits_apart`: as the program places them (deploys and server validations in
  `coolify-long-waits`).
For each it prints the `up`'s time and the longest time the provider took over a resource that
does not wait for Coolify (its Check and Create: the time they spent queued behind the waits
shows there).

    .venv/bin/python -m bench.long_waits      (as root: it runs in a network namespace)

Writes the figures to bench/results/long_waits.json.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from bench import report
from tests.simulated_up import Simulation, in_namespace, kind

RESULTS = Path(__file__).resolve().parent / "results" / "long_waits.json"
STACK = "examples/scale-out.yaml"
WAIT_SECONDS = 3.0  # for real: minutes
APP_SERVERS = 4
EXTRA_WORKERS = 3
WAITING_KINDS = {"Deploy", "RemoteServer"}


def _key(config: dict[str, str], name: str) -> str:
    return next(key for key in config if key.endswith(f":{name}"))


def scaled(config: dict[str, str]) -> dict[str, str]:
    """APP_SERVERS app servers, and EXTRA_WORKERS copies of the stack's worker that deploy
    without waiting for another app."""
    servers, apps_key = _key(config, "appServers"), _key(config, "apps")
    apps = json.loads(config[apps_key])
    worker = next(app for app in apps if app["name"] == "worker")
    copies = [
        {**{k: v for k, v in worker.items() if k != "deployAfter"}, "name": f"worker{n}"}
        for n in range(2, EXTRA_WORKERS + 2)
    ]
    return {
        **config,
        servers: json.dumps({**json.loads(config[servers]), "count": APP_SERVERS}),
        apps_key: json.dumps(apps + copies),
    }


def measure(one_host: bool) -> dict[str, float]:
    with ExitStack() as resources:
        simulation = Simulation(STACK, resources, one_host=one_host)
        simulation.fake.build_seconds = simulation.fake.validation_seconds = WAIT_SECONDS
        start = time.perf_counter()
        up = simulation.up(scaled(simulation.stack_file.config))
        took = time.perf_counter() - start
        assert up["error"] is None, up["error"]
        seconds = simulation.engine.seconds
        short = [s for urn, s in seconds.items() if kind(urn) not in WAITING_KINDS]
        return {"up_s": round(took, 2), "longest_other_resource_s": round(max(short), 2)}


def inner(out: Path) -> int:
    in_namespace()
    figures: dict[str, object] = {
        "cpus": os.cpu_count(), "wait_seconds": WAIT_SECONDS, "app_servers": APP_SERVERS,
        "extra_workers": EXTRA_WORKERS,
        "one_host": measure(one_host=True), "long_waits_apart": measure(one_host=False),
    }  # fmt: skip
    out.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    return 0


def main() -> int:
    if len(sys.argv) > 1:
        return inner(Path(sys.argv[1]))
    out = Path(tempfile.mkdtemp(prefix="long-waits-")) / "figures.json"
    command = ["unshare", "--net", sys.executable, "-m", "bench.long_waits", str(out)]
    subprocess.run(command, check=True)
    figures = json.loads(out.read_text())
    report(figures, RESULTS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
