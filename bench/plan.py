"""Benchmark: the offline plan's wall time, for the production stack and for generated stacks
of 10, 50 and 200 apps (the production platform with its apps replaced by N image apps, each
with a hostname, a bucket and the usual references, on a server large enough for them).

    .venv/bin/python -m bench.plan

Each figure is the median of REPEATS runs of `offline.plan.plan` (evaluation under the mocks,
text and diagram source; Graphviz's rendering is timed apart), and of the README's command as
a new process (the same, after importing the SDKs). Prints the figures and writes
them to bench/results/plan.json. Targets: production < 3 s; the cost per app stays flat from
10 to 200 apps (linear growth).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from offline import diagram
from offline.plan import plan

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "plan.json"
REPEATS = 3
SIZES = (10, 50, 200)
PRODUCTION_TARGET_S = 3.0


def timed(action: Callable[[], Any], repeats: int = REPEATS) -> float:
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def generated_stack(apps: int) -> dict[str, Any]:
    """The production stack file with `apps` image apps instead of its own."""
    document = yaml.safe_load((ROOT / "Pulumi.production.yaml").read_text())
    config = document["config"]
    config["platform:server"] |= {"type": "ccx63"}  # 192 GB: room for 200 apps
    minio = config["platform:services"]["minio"]
    minio["buckets"] = [{"name": f"bucket-{i}"} for i in range(apps)]
    config["platform:apps"] = [
        {
            "name": f"app{i}",
            "image": "ghcr.io/acme/api:1.4.2",
            "port": 3000,
            "memoryMb": 128,
            "domains": [f"app{i}"],
            "buckets": [f"bucket-{i}"],
            "env": {
                "NODE_ENV": "production",
                "DATABASE_URL": {"ref": "database.url"},
                "REDIS_URL": {"ref": "redis.url"},
                "S3_ACCESS_KEY": {"ref": "s3.accessKey"},
                "SESSION_SECRET": {"generate": "secret"},
                "PEER_URL": {"ref": f"apps.app{(i + 1) % apps}.url"},
            },
        }
        for i in range(apps)
    ]
    config.pop("platform:secrets", None)
    config.pop("platform:imports", None)  # its target buckets are the replaced ones
    return document


def main() -> int:
    figures: dict[str, Any] = {"repeats": REPEATS}
    production = timed(lambda: plan("production"))
    figures["production_s"] = round(production, 3)
    print(f"production plan: {production:.2f} s (target < {PRODUCTION_TARGET_S:.0f} s)")

    # What a user waits for: the README's command in a new process, which first imports
    # the providers' SDKs (pulumi_hcloud, pulumi_cloudflare, ...) and pydantic.
    command = [sys.executable, "-m", "offline.plan", "production"]
    whole = timed(lambda: subprocess.run(command, cwd=ROOT, capture_output=True, check=True))
    figures["production_command_s"] = round(whole, 3)
    print(f"`python -m offline.plan production`, imports included: {whole:.2f} s")

    result = plan("production")
    with tempfile.TemporaryDirectory() as folder:
        render = timed(lambda: diagram.render(result.diagram, Path(folder)))
    figures["production_diagram_render_s"] = round(render, 3)
    print(f"production diagram, dot to PNG and SVG: {render:.2f} s")

    per_size: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for apps in SIZES:
            path = Path(folder) / f"generated-{apps}.yaml"
            path.write_text(yaml.safe_dump(generated_stack(apps), sort_keys=False))
            seconds = timed(lambda path=path: plan(str(path)))
            per_size[str(apps)] = {
                "seconds": round(seconds, 3),
                "ms_per_app": round(1000 * seconds / apps, 1),
            }
            print(f"{apps:>4} apps: {seconds:6.2f} s, {1000 * seconds / apps:6.1f} ms per app")
    figures["generated"] = per_size
    small, large = per_size[str(SIZES[0])], per_size[str(SIZES[-1])]
    # Marginal cost per app between the smallest and the largest stack, against the average
    # cost per app of the smallest: near 1 is linear, well above 1 is superlinear.
    marginal = (large["seconds"] - small["seconds"]) / (SIZES[-1] - SIZES[0])
    figures["marginal_ms_per_app"] = round(1000 * marginal, 1)
    print(f"marginal cost from {SIZES[0]} to {SIZES[-1]} apps: {1000 * marginal:.1f} ms per app")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0 if production < PRODUCTION_TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
