"""A simulated `pulumi up`, `up` again and `destroy` of a stack file, with the Coolify resources
really run: the program is evaluated under the offline engine (the cloud providers stay
mocked), and every dynamic resource it registers goes through the SDK's provider host as the
engine sends it (tests/engine_wire.py), through the real SSH tunnel into a real sshd, to the
fake Coolify.

The program connects to Coolify as it does for real: SSH as root to the server's address on
port 22, pinning the host key the stack made for the server, and Coolify's API on the server's
127.0.0.1:8000. So this runs in a network namespace of its own (`unshare --net`, loopback
only), where the sshd can have port 22 and the fake Coolify port 8000, and nothing leaves the
machine; the mocks give the server the address 127.0.0.1, the stack the sshd's key pair and
host key, and Coolify's API token the fake's.

    unshare --net .venv/bin/python -m tests.simulated_up <stack or stack file> <report.json>

The report: each run's step per resource (create, update, replace, same; in the destroys
delete, or skip for what is deleted with the server), errors, and what the fake holds after
each phase.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml
from google.protobuf import struct_pb2
from pulumi.runtime import mocks
from pulumi.runtime.proto import provider_pb2

from offline.engine import PlatformMocks, evaluate, reveal
from offline.stack_files import PROGRAM, read_stack_file
from render.host_files import COOLIFY_API
from tests.engine_wire import (
    HOST_MINUTE,
    ProviderHost,
    deserialize,
    provider_host,
    to_provider,
)
from tests.fake_coolify import FakeCoolify, running_fake
from tests.sshd import RunningSshd, sshd_in

TOKEN = "SimulatedUpApiToken0123456789abcdefghijklmnopqrstuv"  # the fake Coolify's
COOLIFY_PORT = 8000  # where the program's tunnel expects Coolify's API on the server


@dataclass
class Stored:
    """What the engine keeps of a dynamic resource in the state."""

    type: str
    id: str
    inputs: struct_pb2.Struct  # as Check returned them
    outputs: struct_pb2.Struct  # as the provider returned them, `__provider` included
    deleted_with: str
    provider: str  # its explicit provider's reference, or "" for the default


class SimulatedEngine:
    """The engine's steps for dynamic resources (Check, then Create; or Check, Diff and
    Update or replace), with a state that outlives a run.

    As the engine does, it starts one provider host per provider resource (the default, and
    each explicit one) when a resource first needs it, and keeps it for the rest of the run."""

    def __init__(self, hosts: ExitStack, *, one_host: bool = False) -> None:
        self._started = hosts  # closes the hosts it starts
        self._one_host = one_host
        self.hosts: dict[str, ProviderHost] = {}  # by provider reference; "" is the default
        self.state: dict[str, Stored] = {}
        self.created: list[str] = []  # in the order the creates finished: dependencies first
        self.steps: dict[str, str] = {}
        # How long the provider took over each resource's steps (Check, Create or Diff...).
        self.seconds: dict[str, float] = {}
        self.preview = False  # a preview calls neither Create nor Update, and keeps no state
        self._lock = threading.Lock()

    def host(self, provider: str) -> ProviderHost:
        provider = "" if self._one_host else provider
        with self._lock:
            if provider not in self.hosts:
                started = provider_host()
                self.hosts[provider] = self._started.enter_context(started)
            return self.hosts[provider]

    def register(self, urn: str, request: Any) -> tuple[str, dict[str, Any]]:
        start = time.monotonic()
        news = to_provider(request.object)
        old = self.state.get(urn)
        olds = old.inputs if old is not None else struct_pb2.Struct()
        checked = self.host(request.provider).call(
            "Check",
            provider_pb2.CheckRequest(urn=urn, olds=olds, news=news, type=request.type),
        )
        assert not checked.failures, checked.failures
        if old is None:
            stored, step = self._create(urn, request, checked.inputs), "create"
        else:
            stored, step = self._change(urn, request, old, checked.inputs)
        with self._lock:
            if not self.preview:
                self.state[urn] = stored
            self.steps[urn] = step
            self.seconds[urn] = time.monotonic() - start
        return stored.id, deserialize(stored.outputs)

    def _create(self, urn: str, request: Any, inputs: struct_pb2.Struct) -> Stored:
        created = self.host(request.provider).call(
            "Create", provider_pb2.CreateRequest(urn=urn, properties=inputs, type=request.type)
        )
        with self._lock:
            self.created.append(urn)
        return Stored(
            request.type, created.id, inputs, created.properties, request.deletedWith,
            request.provider,
        )  # fmt: skip

    def _change(
        self, urn: str, request: Any, old: Stored, inputs: struct_pb2.Struct
    ) -> tuple[Stored, str]:
        # Diff and Update get the same: the old outputs and inputs, the checked new inputs.
        change = {
            "id": old.id, "urn": urn, "olds": old.outputs, "news": inputs,
            "old_inputs": old.inputs, "type": request.type,
        }  # fmt: skip
        host = self.host(request.provider)
        kept = replace(old, inputs=inputs, deleted_with=request.deletedWith)
        diff = host.call("Diff", provider_pb2.DiffRequest(**change))
        if diff.changes != provider_pb2.DiffResponse.DIFF_SOME:
            return kept, "same"
        if self.preview:  # the host has no preview: the engine shows the inputs as outputs
            return replace(kept, outputs=inputs), "replace" if diff.replaces else "update"
        if diff.replaces:
            if diff.deleteBeforeReplace:
                self._delete(urn, old)
            new = self._create(urn, request, inputs)
            if not diff.deleteBeforeReplace:
                self._delete(urn, old)
            return new, "replace"
        updated = host.call("Update", provider_pb2.UpdateRequest(**change))
        return replace(kept, outputs=updated.properties), "update"

    def _delete(self, urn: str, stored: Stored) -> None:
        self.host(stored.provider).call(
            "Delete",
            provider_pb2.DeleteRequest(
                id=stored.id, urn=urn, properties=stored.outputs, old_inputs=stored.inputs,
                type=stored.type,
            ),
        )  # fmt: skip

    def destroy(self, deleting: set[str]) -> dict[str, str]:
        """Delete every dynamic resource, dependents first; `deleting`: the other resources
        deleted with them (a resource deleted with one of those is skipped, as the engine
        skips it)."""
        steps = {}
        for urn in reversed(self.created):
            stored = self.state.pop(urn)
            if stored.deleted_with in deleting:
                steps[urn] = "skip"
            else:
                self._delete(urn, stored)
                steps[urn] = "delete"
        self.created = []
        return steps


class TunnelledMocks(PlatformMocks):
    """The offline mocks, with what the tunnel needs to reach the sshd and the fake: the
    server at 127.0.0.1, the stack's automation key authorized by the sshd, the sshd's host
    key as the one the stack made for the server, and the fake's API token."""

    def __init__(self, sshd: RunningSshd) -> None:
        super().__init__()
        self.sshd = sshd

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        id_, outputs = super().new_resource(args)
        if args.name == "server-server":
            outputs["ipv4Address"] = "127.0.0.1"
        elif args.name == "server-automation-key":
            outputs["privateKeyOpenssh"] = self.sshd.client_key.read_text()
            outputs["publicKeyOpenssh"] = Path(f"{self.sshd.client_key}.pub").read_text()
        elif args.name == "server-host-key":  # as if cloud-init had installed it in the sshd
            outputs["publicKeyOpenssh"] = self.sshd.host_key + "\n"
        elif args.name == "coolify-api-token":
            outputs["result"] = TOKEN
        return id_, outputs


def with_disk_alert(config: dict[str, str], percent: int) -> dict[str, str]:
    key = next(key for key in config if key.endswith(":coolify"))
    coolify = json.loads(config[key])
    return {**config, key: json.dumps({**coolify, "diskAlertPercent": percent})}


def with_first_app_memory(config: dict[str, str], memory_mb: int) -> dict[str, str]:
    key = next(key for key in config if key.endswith(":apps"))
    first, *rest = json.loads(config[key])
    return {**config, key: json.dumps([{**first, "memoryMb": memory_mb}, *rest])}


def apps(fake: FakeCoolify) -> dict[str, dict[str, Any]]:
    """Each app's memory limit as stored, and as its containers run with it."""
    return {
        app["name"]: {
            "stored": app.get("limits_memory"),
            "running": (fake.running(uuid) or {}).get("limits_memory"),
        }
        for uuid, app in fake.resources.items()
        if app["_kind"] == "applications"
    }


def with_pool_size(config: dict[str, str], size: int) -> dict[str, str]:
    key = next(key for key in config if key.endswith(":services"))
    services = json.loads(config[key])
    pgbouncer = {**services["pgbouncer"], "defaultPoolSize": size}
    return {**config, key: json.dumps({**services, "pgbouncer": pgbouncer})}


def pgbouncer_ini_running(fake: FakeCoolify) -> str:
    """The ini the running PgBouncer was started on, as its container sees it."""
    (uuid,) = [u for u, r in fake.resources.items() if r.get("name") == "pgbouncer"]
    compose = yaml.safe_load(base64.b64decode(fake.resources[uuid]["docker_compose_raw"]))
    (ini,) = compose["services"]["pgbouncer"]["command"]
    return fake.files_seen(uuid)[ini]


def github_push(fake: FakeCoolify, webhook: dict[str, str], branch: str, secret: str) -> Any:
    """A push to `branch` of the stack's repository as GitHub sends it to the webhook's URL
    (the fake at Coolify's address), signed with `secret`."""
    body = json.dumps({"ref": f"refs/heads/{branch}", "after": "1" * 40,
                       "repository": {"full_name": "your-org/tour-crm"}}).encode()  # fmt: skip
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    answer = httpx.post(
        fake.url + urlsplit(webhook["url"]).path, content=body, timeout=10,
        headers={"X-GitHub-Event": "push", "Content-Type": "application/json",
                 "X-Hub-Signature-256": f"sha256={signature}"},
    )  # fmt: skip
    return answer.json() if "json" in answer.headers["Content-Type"] else answer.text


def holdings(fake: FakeCoolify) -> dict[str, int]:
    environments = sum(len(p["environments"]) for p in fake.projects.values())
    return {
        "projects": len(fake.projects), "environments": environments,
        "resources": len(fake.resources), "keys": len(fake.keys), "servers": len(fake.servers),
    }  # fmt: skip


class Simulation:
    """The sshd on port 22, the fake Coolify on 8000, and an engine with its state: each `up`
    evaluates the program once more against them."""

    def __init__(self, stack: str, resources: ExitStack, *, one_host: bool = False) -> None:
        """`one_host`: every resource in the default provider's host, as if the program had
        no provider of its own for long waits (for the bench)."""
        self.stack_file = read_stack_file(stack)
        folder = resources.enter_context(tempfile.TemporaryDirectory(prefix="simulated-up-"))
        self.sshd = resources.enter_context(sshd_in(Path(folder), port=22, permit_open=COOLIFY_API))
        self.fake = resources.enter_context(running_fake(TOKEN, port=COOLIFY_PORT))
        self.fake.rate_window = HOST_MINUTE  # Coolify's minute, on the hosts' fast clock
        self.engine = SimulatedEngine(resources, one_host=one_host)

    def up(self, config: dict[str, str] | None = None, preview: bool = False) -> dict[str, Any]:
        engine, stack_file = self.engine, self.stack_file
        engine.steps, engine.preview = {}, preview
        recording = evaluate(
            PROGRAM, project=stack_file.project, stack=stack_file.stack,
            config=stack_file.config if config is None else config,
            secret_keys=stack_file.secret_keys, preview=preview,
            platform_mocks=TunnelledMocks(self.sshd), dynamic=engine,
        )  # fmt: skip
        return {
            "error": None if recording.error is None else str(recording.error),
            "steps": dict(engine.steps),
            "fake": holdings(self.fake),
            "others": sorted(
                r.urn for r in recording.resources if r.custom and r.urn not in engine.steps
            ),
            "webhooks": reveal(recording.stack_outputs.get("webhooks") or {}),
        }


def kind(urn: str) -> str:
    """A dynamic resource's URN -> its resource class's name ("Deploy")."""
    return urn.split("::")[2].rsplit(":", 1)[1]


def provider_name(reference: str) -> str:
    """ "<urn>::<id>" -> the provider's name; "" (the package's default) -> "default"."""
    return reference.split("::")[-2] if reference else "default"


def simulate(stack: str) -> dict[str, Any]:
    report: dict[str, Any] = {}
    with ExitStack() as resources:
        simulation = Simulation(stack, resources)
        engine, fake = simulation.engine, simulation.fake
        report["up"] = simulation.up()
        report["services_on_network"] = {
            service["name"]: fake.on_coolify_network(uuid)
            for uuid, service in fake.resources.items()
            if service["_kind"] == "services"
        }
        report["providers"] = {
            urn: provider_name(stored.provider) for urn, stored in engine.state.items()
        }
        report["host_pids"] = {
            provider_name(reference): host.process.pid for reference, host in engine.hosts.items()
        }
        report["up_again"] = simulation.up()
        report["deployments"] = len(fake.deployments)
        # A push to the branch, signed with the secret the stack outputs, deploys the app;
        # a forged one and a push to another branch deploy nothing.
        webhook = report["up"]["webhooks"]["your-org/tour-crm"]
        report["push_forged"] = github_push(fake, webhook, "main", "forged-secret")
        report["push_other_branch"] = github_push(fake, webhook, "develop", webhook["secret"])
        report["deployments_after_refused_pushes"] = len(fake.deployments)
        report["push_signed"] = github_push(fake, webhook, "main", webhook["secret"])
        # A pull request that changes one setting of the servers: its preview must show those
        # servers changing, and nothing that `up` would leave alone.
        config = with_disk_alert(simulation.stack_file.config, 70)
        report["preview_disk_alert"] = simulation.up(config, preview=True)
        # A change of what an app runs with reaches its containers, through a deploy.
        report["apps_before_change"] = apps(fake)
        report["up_app_memory"] = simulation.up(
            with_first_app_memory(simulation.stack_file.config, 1024)
        )
        report["apps_after_change"] = apps(fake)
        # A change of a mounted config file reaches the running service.
        report["pgbouncer_ini_before"] = pgbouncer_ini_running(fake)
        report["up_pool_size"] = simulation.up(
            with_pool_size(with_first_app_memory(simulation.stack_file.config, 1024), 27)
        )
        report["pgbouncer_ini_after"] = pgbouncer_ini_running(fake)
        # `pulumi destroy`: the server goes, and with it what is deleted with it.
        everything = set(report["up_again"]["others"])
        saved = dict(engine.state), list(engine.created)
        report["destroy"] = {"steps": engine.destroy(everything), "fake": holdings(fake)}
        # The same resources deleted without the server (as a targeted destroy would).
        engine.state, engine.created = saved
        report["destroy_coolify_only"] = {"steps": engine.destroy(set()), "fake": holdings(fake)}
        report["requests"] = {
            "all": len(fake.requests),
            "peak_per_minute": fake.peak_requests(HOST_MINUTE),
            "throttled": fake.throttled,
            "ignored_query": fake.ignored_query,
        }
    return report


def in_namespace() -> None:
    """Ready a fresh network namespace (`unshare --net`) for the sshd and the fake."""
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd insists on it
    # A fresh network namespace has its loopback down.
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)


def main() -> int:
    stack, out = sys.argv[1], Path(sys.argv[2])
    in_namespace()
    out.write_text(json.dumps(simulate(stack), indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
