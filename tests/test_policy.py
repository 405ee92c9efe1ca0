"""The policy pack: every stack passes it, and each policy fails the resource it guards against
once that resource is broken. The last tests drive the pack through the analyzer protocol the
Pulumi CLI speaks, as `pulumi preview --policy-pack policy` does."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from offline.engine import RecordedResource, Recording, evaluate_stack, reveal
from offline.policy_check import check, violations
from offline.stack_files import stack_names
from policy.rules import POLICIES

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "examples").glob("*.yaml"))
POLICY = {policy.name: policy for policy in POLICIES}


@cache
def recording(stack: str) -> Recording:
    return evaluate_stack(stack)


def resource(name: str, stack: str = "production") -> RecordedResource:
    return recording(stack).named(name)


def changed(name: str, stack: str = "production", **inputs: Any) -> RecordedResource:
    found = resource(name, stack)
    return dataclasses.replace(found, inputs={**reveal(found.inputs), **inputs})


def rule(port: str, *sources: str) -> dict[str, Any]:
    return {"direction": "in", "protocol": "tcp", "port": port, "sourceIps": list(sources)}


@pytest.mark.parametrize("stack", [*stack_names(), *EXAMPLES])
def test_every_stack_passes_every_policy(stack: str) -> None:
    assert check(recording(stack)) == []


def test_the_pack_has_the_six_rules() -> None:
    assert sorted(POLICY) == [
        "app-records-proxied",
        "env-secrets-secret",
        "firewall-public-ports",
        "images-pinned",
        "no-private-port-open",
        "production-server-protected",
    ]


# firewall-public-ports


def test_firewall_with_web_ports_and_admin_ssh_passes() -> None:
    assert violations(POLICY["firewall-public-ports"], resource("server-firewall")) == []


@pytest.mark.parametrize(
    ("opened", "shown"),
    [
        (rule("8080", "0.0.0.0/0"), "port 8080"),
        (rule("22", "::/0"), "port 22"),
        (rule("80-8080", "1.2.3.4/32", "0.0.0.0/0"), "port 80-8080"),
        ({"direction": "in", "protocol": "udp", "sourceIps": ["::/0"]}, "udp port any"),
    ],
)
def test_firewall_rule_open_to_the_internet_fails(opened: dict[str, Any], shown: str) -> None:
    firewall = resource("server-firewall")
    broken = changed("server-firewall", rules=[*reveal(firewall.inputs)["rules"], opened])
    [message] = violations(POLICY["firewall-public-ports"], broken)
    assert shown in message
    assert "ssh.adminCidrs" in message


def test_public_ssh_passes_only_when_the_pack_config_allows_it() -> None:
    broken = changed("server-firewall", rules=[rule("22", "0.0.0.0/0")])
    assert violations(POLICY["firewall-public-ports"], broken, {"allowPublicSsh": True}) == []
    assert violations(POLICY["firewall-public-ports"], broken) != []


# no-private-port-open


def test_firewall_without_private_ports_passes() -> None:
    assert violations(POLICY["no-private-port-open"], resource("server-firewall")) == []


@pytest.mark.parametrize(
    ("opened", "ports"),
    [
        (rule("5432", "203.0.113.0/24"), [5432]),
        (rule("6000-6100", "203.0.113.7/32"), [6001, 6002]),
        (rule("8000", "0.0.0.0/0"), [8000]),
        (rule("6379", "10.0.0.0/8"), [6379]),
    ],
)
def test_database_cache_or_coolify_port_fails(opened: dict[str, Any], ports: list[int]) -> None:
    broken = changed("server-firewall", rules=[opened])
    messages = violations(POLICY["no-private-port-open"], broken)
    assert [int(m.split("port ")[1].split(" ")[0]) for m in messages] == ports
    assert all("SSH tunnel" in m for m in messages)


# production-server-protected


def test_protected_production_server_passes() -> None:
    assert violations(POLICY["production-server-protected"], resource("server-server")) == []


def test_unprotected_staging_server_passes() -> None:
    staging = resource("server-server", "staging")
    assert not staging.protect
    assert violations(POLICY["production-server-protected"], staging) == []


def test_unprotected_production_server_fails() -> None:
    broken = dataclasses.replace(changed("server-server", deleteProtection=False), protect=False)
    [message] = violations(POLICY["production-server-protected"], broken)
    assert "lacks the resource option protect, deleteProtection" in message
    assert "rebuildProtection" not in message


def test_protected_stacks_are_pack_config() -> None:
    staging = resource("server-server", "staging")
    config = {"protectedStacks": ["production", "staging"]}
    assert violations(POLICY["production-server-protected"], staging, config) != []


# app-records-proxied


def test_proxied_app_record_and_unproxied_dashboard_pass() -> None:
    policy = POLICY["app-records-proxied"]
    assert violations(policy, resource("dns-crm.example.com-a")) == []
    dashboard = resource("dns-coolify.example.com-a")
    assert dashboard.inputs["proxied"] is False
    assert violations(policy, dashboard) == []


def test_unproxied_app_record_fails() -> None:
    broken = changed("dns-crm.example.com-aaaa", proxied=False)
    [message] = violations(POLICY["app-records-proxied"], broken)
    assert "crm.example.com is not proxied" in message


# env-secrets-secret


def test_generated_and_referenced_secrets_pass() -> None:
    env = resource("apps-crm-env")
    assert {"secret", "ref database.url", "literal"} <= set(env.inputs["sources"].values())
    assert violations(POLICY["env-secrets-secret"], env) == []


@pytest.mark.parametrize(
    "key", ["STRIPE_SECRET_KEY", "SMTP_PASSWORD", "GITHUB_TOKEN", "SENTRY_DSN", "DATABASE_URL"]
)
def test_secret_looking_literal_fails(key: str) -> None:
    env = resource("apps-crm-env")
    broken = changed("apps-crm-env", sources={**env.inputs["sources"], key: "literal"})
    messages = violations(POLICY["env-secrets-secret"], broken)
    assert f"apps-crm-env: {key} looks like a secret but is written in the stack file" in " ".join(
        messages
    )


@pytest.mark.parametrize(
    "key", ["NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY", "VITE_SENTRY_DSN", "LOG_LEVEL", "PORT"]
)
def test_public_or_plain_literal_passes(key: str) -> None:
    env = resource("apps-crm-env")
    fine = changed("apps-crm-env", sources={**env.inputs["sources"], key: "literal"})
    assert violations(POLICY["env-secrets-secret"], fine) == []


def test_literal_url_with_password_fails() -> None:
    env = reveal(resource("apps-crm-env").inputs)
    variables = {**env["variables"], "LEGACY_DB": {"value": "postgres://app:hunter2@db/app"}}
    broken = changed(
        "apps-crm-env",
        variables=variables,
        sources={**env["sources"], "LEGACY_DB": "literal"},
    )
    assert violations(POLICY["env-secrets-secret"], broken) == [
        "apps-crm-env: LEGACY_DB is a URL with a password, written in the stack file"
    ]


def test_variables_not_secret_in_state_fail() -> None:
    broken = dataclasses.replace(resource("apps-crm-env"), additional_secret_outputs=[])
    assert violations(POLICY["env-secrets-secret"], broken) == [
        "apps-crm-env: the variables are not marked secret in the state"
    ]


# images-pinned


def test_pinned_database_service_and_app_images_pass() -> None:
    policy = POLICY["images-pinned"]
    for name in ("data-postgres", "data-redis", "data-minio", "data-pgbouncer", "apps-crm"):
        assert violations(policy, resource(name)) == []


@pytest.mark.parametrize(
    ("name", "inputs", "image"),
    [
        ("data-postgres", {"image": "postgres:latest"}, "postgres:latest"),
        ("data-redis", {"image": "redis:7"}, "redis:7"),
        (
            "apps-crm",
            {
                "source": {
                    "kind": "image",
                    "docker_registry_image_name": "ghcr.io/acme/crm",
                    "docker_registry_image_tag": None,
                }
            },
            "ghcr.io/acme/crm",
        ),
        ("data-minio", {"compose": "services:\n  minio:\n    image: minio/minio\n"}, "minio/minio"),
    ],
)
def test_unpinned_image_fails(name: str, inputs: dict[str, Any], image: str) -> None:
    [message] = violations(POLICY["images-pinned"], changed(name, **inputs))
    assert f"{image!r} is not pinned" in message


# The pack as the CLI runs it: a plugin process serving the analyzer protocol over gRPC.


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    pack = subprocess.Popen(
        [sys.executable, str(ROOT / "policy" / "__main__.py")],
        cwd=ROOT / "policy",
        stdout=subprocess.PIPE,
    )
    assert pack.stdout is not None
    with pack, pack.stdout:
        try:
            port = int(pack.stdout.readline())
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                yield analyzer_pb2_grpc.AnalyzerStub(channel)
        finally:
            pack.kill()


def analyze(
    stub: analyzer_pb2_grpc.AnalyzerStub, found: RecordedResource
) -> list[analyzer_pb2.AnalyzeDiagnostic]:
    properties = json_format.ParseDict(json.loads(json.dumps(found.inputs)), struct_pb2.Struct())
    request = analyzer_pb2.AnalyzeRequest(
        type=found.type,
        properties=properties,
        urn=found.urn,
        name=found.name,
        options=analyzer_pb2.AnalyzerResourceOptions(
            protect=found.protect,
            additionalSecretOutputs=found.additional_secret_outputs,
        ),
    )
    return list(stub.Analyze(request).diagnostics)


def test_the_pack_serves_its_policies(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "platform-rules"
    assert sorted(p.name for p in info.policies) == sorted(POLICY)


def test_the_pack_passes_production_and_fails_an_open_port(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    for found in recording("production").resources:
        if found.custom:
            assert analyze(analyzer, found) == [], found.name
    [diagnostic] = analyze(analyzer, changed("server-firewall", rules=[rule("8080", "::/0")]))
    assert diagnostic.policyName == "firewall-public-ports"
    assert diagnostic.enforcementLevel == analyzer_pb2.MANDATORY
