"""Benchmark: how long waits in Coolify operations hold back the others in one provider host.

The engine runs every Coolify resource of a stack through one dynamic provider host, which
serves four operations at a time (the SDK's thread pool). A deploy waits for its build, a
remote server for its validation (minutes, for real). This starts the host as the engine does
(tests/engine_wire.py, real clock), lets N deploys of a `build`-second build run at once, and
times a project's create issued just after them: with N >= 4 it waits for a deploy to end.

    .venv/bin/python -m bench.provider_host

Prints the figures and writes them to bench/results/provider_host.json.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench import report
from coolify.providers import (
    ApplicationProvider,
    DeployProvider,
    EnvironmentProvider,
    ProjectProvider,
)
from tests.engine_wire import provider_host
from tests.fake_coolify import running_fake

RESULTS = Path(__file__).resolve().parent / "results" / "provider_host.json"
TOKEN = "bench-token-0123456789abcdef"  # noqa: S105 -- the fake Coolify's
BUILD_SECONDS = 3.0


def main() -> int:
    figures: dict[str, object] = {"cpus": os.cpu_count(), "build_seconds": BUILD_SECONDS}
    with running_fake(TOKEN) as fake, provider_host(fast_clock=False) as host:
        fake.build_seconds = BUILD_SECONDS
        connection = {"url": fake.url, "token": TOKEN}
        project = host.provider(ProjectProvider(), "Project")
        environment = host.provider(EnvironmentProvider(), "Environment")
        apps = host.provider(ApplicationProvider(), "Application")
        deploy = host.provider(DeployProvider(), "Deploy")
        project_uuid = project.create({"connection": connection, "name": "bench"}).id
        placement = {
            "server_uuid": fake.server_uuid,
            "project_uuid": project_uuid,
            "environment_uuid": environment.create(
                {"connection": connection, "project_uuid": project_uuid, "name": "production"}
            ).id,
        }
        app_uuids = [
            apps.create({
                "connection": connection, **placement, "name": f"app{n}",
                "source": {"kind": "image", "docker_registry_image_name": "nginx",
                           "docker_registry_image_tag": "1.27.3"},
                "ports_exposes": "80",
            }).id
            for n in range(6)
        ]  # fmt: skip
        for waiting in (0, 3, 4, 6):
            with ThreadPoolExecutor(max_workers=waiting + 1) as pool:
                deploys = [
                    pool.submit(
                        deploy.create,
                        {
                            "connection": connection,
                            "resource_uuid": uuid,
                            "triggers": [waiting],
                            "timeout_seconds": 60,
                            "poll_seconds": 0.25,
                        },
                    )
                    for uuid in app_uuids[:waiting]
                ]
                time.sleep(0.3)  # the deploys hold their workers
                start = time.perf_counter()
                project.create({"connection": connection, "name": f"behind-{waiting}"})
                figures[f"project_create_s_behind_{waiting}_deploys"] = round(
                    time.perf_counter() - start, 2
                )
                for done in deploys:
                    done.result()
    report(figures, RESULTS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
