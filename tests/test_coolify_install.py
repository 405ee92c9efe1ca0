"""Production declares the Coolify install, the API bootstrap, the origin certificate and the
Coolify project and environment; secrets travel on stdin only and never reach a log."""

from __future__ import annotations

import base64
from functools import cache
from pathlib import Path

import pytest
import yaml

from offline.engine import RecordedResource, Recording, find_leaks, is_secret, reveal
from render.coolify_files import compose_override, origin_certificate_config
from render.remote import remote_script
from render.yaml_text import dump_yaml
from tests.support import (
    evaluate_ok,
    evaluate_stack,
    run,
    server_host_key,
    tour_crm_config,
    with_value,
    write,
)

COMMAND = "command:remote:Command"


@cache
def production() -> Recording:
    return evaluate_stack("production")


def step(name: str) -> RecordedResource:
    return production().named(f"coolify-{name}")


def params(resource: RecordedResource) -> dict[str, str]:
    """The NAME=value lines remote_script put on top of a command."""
    lines = reveal(resource.inputs["create"]).splitlines()[1:]
    return dict(line.split("=", 1) for line in lines if "=" in line and line[0].isupper())


def test_production_declares_every_step_in_order() -> None:
    names = {r.name for r in production().of_type(COMMAND)}
    assert names == {"coolify-wait-cloud-init", "coolify-install", "coolify-bootstrap-api",
                     "coolify-origin-certificate", "backups-install", "imports-postgres-install",
                     "imports-buckets-install", "minio-volume-mount"}  # fmt: skip
    urn = {name: step(name).urn for name in ("wait-cloud-init", "install", "bootstrap-api")}
    assert urn["wait-cloud-init"] in step("install").dependencies
    assert urn["install"] in step("bootstrap-api").dependencies
    assert urn["install"] in step("origin-certificate").dependencies
    project = production().named("coolify-project-project")
    assert urn["bootstrap-api"] in project.dependencies


def test_every_step_runs_again_on_a_new_server() -> None:
    (server,) = production().of_type("hcloud:index/server:Server")
    for command in production().of_type(COMMAND):
        assert command.inputs["triggers"] == [server.id]
        assert command.replace_on_changes == ["triggers[*]"]


def test_every_step_pins_the_host_key_the_stack_made_from_the_first_contact() -> None:
    """No trust on first use: the server boots with the host key the stack generated (its
    cloud-init installs it), so even the first connection, and the Coolify tunnel, pin it."""
    generated = server_host_key(production())
    assert generated.startswith("ssh-ed25519 ")
    for name in ("wait-cloud-init", "install", "bootstrap-api", "origin-certificate"):
        assert reveal(step(name).inputs["connection"])["hostKey"] == generated
    coolify = reveal(production().named("coolify-project-project").inputs["connection"])
    assert coolify["ssh"]["host_key"] == generated
    host_key = production().named("server-host-key")
    assert host_key.inputs["algorithm"] == "ED25519"
    assert is_secret(host_key.outputs["privateKeyOpenssh"])


def test_commands_connect_as_root_with_the_stacks_automation_key() -> None:
    key = production().named("server-automation-key")
    private_key = reveal(key.outputs["privateKeyOpenssh"])
    for command in production().of_type(COMMAND):
        connection = command.inputs["connection"]
        assert is_secret(connection)
        assert reveal(connection)["user"] == "root"
        assert reveal(connection)["privateKey"] == private_key


def test_the_install_uses_the_pinned_version_and_checked_installer() -> None:
    given = params(step("install"))
    assert given["VERSION"] == "4.3.10"
    assert (
        given["SCRIPT_SHA256"] == "8ef02dce49339208f5abc247bff0277c73d04538d7a36dcfd21331e314e0f2cd"
    )
    assert given["ROOT_USERNAME"] == "admin"
    assert given["ROOT_USER_EMAIL"] == "admin@example.com"
    assert given["POOL_BASE"] == "172.16.0.0/12"
    compose = base64.b64decode(given["CUSTOM_COMPOSE"]).decode()
    assert compose == dump_yaml(compose_override())


def test_coolifys_ports_are_closed_on_the_host() -> None:
    loader = type("Loader", (yaml.SafeLoader,), {})
    loader.add_constructor(
        "!override", lambda loader_, node: ("override", loader_.construct_sequence(node))
    )
    loader.add_constructor(
        "!reset", lambda loader_, node: ("reset", loader_.construct_sequence(node))
    )
    services = yaml.load(dump_yaml(compose_override()), Loader=loader)["services"]  # noqa: S506 -- SafeLoader subclass
    assert services["coolify"]["ports"] == ("override", ["127.0.0.1:8000:8080"])  # loopback only
    assert services["soketi"]["ports"] == ("reset", [])  # 6001 and 6002: not published


def test_every_coolify_resource_waits_for_the_api_bootstrap() -> None:
    """A private repository's deploy key (a Coolify PrivateKey) named no dependency on the
    install, so it was created before Coolify existed: the connection itself carries it."""
    private = {"repository": "git@github.com:acme/crm.git", "private": True}
    recording = evaluate_ok(with_value(tour_crm_config(), "apps[0].git", private))
    bootstrap = recording.named("coolify-bootstrap-api").urn
    coolify = [r for r in recording.resources if r.type.startswith("pulumi-python:dynamic/coolify")]
    assert "pulumi-python:dynamic/coolify:PrivateKey" in {r.type for r in coolify}
    for resource in coolify:
        assert bootstrap in resource.dependencies, resource.name


def test_every_coolify_resource_is_deleted_with_the_server_coolify_runs_on() -> None:
    """Replacing the server replaces them (the new Coolify gets its own), and neither that nor
    a destroy asks a Coolify that died with the old server to delete them."""
    for stack in (production(), evaluate_stack("staging")):
        (server,) = [
            r for r in stack.of_type("hcloud:index/server:Server") if r.name == "server-server"
        ]
        coolify = [r for r in stack.resources if r.type.startswith("pulumi-python:dynamic/coolify")]
        assert len(coolify) > 10
        assert {r.deleted_with for r in coolify} == {server.urn}


def test_the_dashboard_url_is_the_coolify_hostname() -> None:
    assert params(step("bootstrap-api"))["INSTANCE_URL"] == "https://coolify.example.com"
    assert production().stack_outputs["coolifyUrl"] == "https://coolify.example.com"


def test_secrets_travel_on_stdin_and_are_not_logged() -> None:
    password = reveal(production().named("coolify-root-password").outputs["result"])
    token = reveal(production().named("coolify-api-token").outputs["result"])
    install, bootstrap = step("install"), step("bootstrap-api")
    assert reveal(install.inputs["stdin"]) == f"{password}\n"
    assert reveal(bootstrap.inputs["stdin"]) == f"{token}\n"
    for command in (install, bootstrap):
        assert is_secret(command.inputs["stdin"])
        assert password not in command.inputs["create"]
        assert token not in command.inputs["create"]
    assert bootstrap.inputs["logging"] == "none"
    assert step("origin-certificate").inputs["logging"] == "none"
    assert "logging" not in step("wait-cloud-init").inputs  # it reads no secret
    assert find_leaks(production()) == []


def test_a_steps_output_is_secret_in_state_when_it_read_a_secret() -> None:
    """A script that reads a secret on stdin could echo it: its output is stored secret. And
    no step asks sshd for PULUMI_COMMAND_STDOUT/STDERR, which AcceptEnv refuses on every rerun."""
    for command in production().of_type(COMMAND):
        assert command.inputs["addPreviousOutputInEnv"] is False
        if "stdin" in command.inputs:
            assert {"stdout", "stderr"} <= set(command.additional_secret_outputs), command.name
        else:
            # Read no secret: when cloud-init is done; the volume's mount.
            assert command.name in {"coolify-wait-cloud-init", "minio-volume-mount"}


def test_generated_passwords_satisfy_coolify() -> None:
    password = production().named("coolify-root-password").inputs
    assert password["length"] >= 32
    assert (
        min(
            password["minUpper"],
            password["minLower"],
            password["minNumeric"],
            password["minSpecial"],
        )
        >= 1
    )
    assert not set(password["overrideSpecial"]) & set("|&\\$#'\" ")  # install.sh uses sed and .env
    token = production().named("coolify-api-token").inputs
    assert (token["length"], token["special"]) == (48, False)


def test_the_origin_certificate_covers_the_proxied_hostnames_only() -> None:
    (certificate,) = production().of_type(
        "cloudflare:index/originCaCertificate:OriginCaCertificate"
    )
    assert sorted(certificate.inputs["hostnames"]) == [
        "book.example.com", "crm.example.com", "files.example.com", "jobs.example.com",
        "status.example.com",
    ]  # fmt: skip
    assert certificate.inputs["requestType"] == "origin-ecc"
    assert certificate.inputs["requestedValidity"] == 5475
    stdin = reveal(step("origin-certificate").inputs["stdin"])
    assert "PRIVATE KEY" in stdin and reveal(certificate.outputs["certificate"]) in stdin  # noqa: PT018


def test_the_project_and_environment_are_the_stacks() -> None:
    project = production().named("coolify-project-project")
    environment = production().named("coolify-project-environment")
    assert project.inputs["name"] == "platform"
    assert environment.inputs["name"] == "production"
    assert is_secret(project.inputs["connection"])
    connection = reveal(project.inputs["connection"])
    assert connection["url"] == "https://coolify.example.com"
    assert connection["token"] == reveal(production().named("coolify-api-token").outputs["result"])
    assert set(connection["ssh"]) == {"host", "port", "user", "private_key", "host_key"}


# --- the origin certificate script, with the real openssl ------------------------------------


@pytest.fixture
def key_and_certificate(tmp_path: Path) -> tuple[str, str]:
    key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
    result = run([
        "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
        "-subj", "/CN=crm.example.com",
    ])  # fmt: skip
    assert result.returncode == 0, result.stderr
    return key.read_text(), cert.read_text()


def install_certificate(tmp_path: Path, stdin: str) -> tuple[int, str]:
    dynamic = base64.b64encode(origin_certificate_config().encode()).decode()
    script = write(
        tmp_path / "run.sh",
        remote_script(
            "install-origin-cert", COOLIFY_DIR=str(tmp_path / "coolify"), DYNAMIC_CONFIG=dynamic
        ),
    )
    result = run(["bash", str(script)], input=stdin)
    return result.returncode, result.stdout + result.stderr


def test_the_certificate_is_installed_once_and_privately(
    tmp_path: Path, key_and_certificate: tuple[str, str]
) -> None:
    key, cert = key_and_certificate
    code, output = install_certificate(tmp_path, key + cert)
    assert (code, output.strip()) == (0, "origin certificate installed")
    certs = tmp_path / "coolify" / "proxy" / "certs"
    assert (certs / "origin.key").read_text() == key
    assert (certs / "origin.crt").read_text() == cert
    assert (certs / "origin.key").stat().st_mode & 0o777 == 0o600
    dynamic = yaml.safe_load(
        (tmp_path / "coolify" / "proxy" / "dynamic" / "origin-certificate.yaml").read_text()
    )
    assert dynamic["tls"]["certificates"] == [
        {"certFile": "/traefik/certs/origin.crt", "keyFile": "/traefik/certs/origin.key"}
    ]
    assert install_certificate(tmp_path, key + cert) == (0, "origin certificate unchanged\n")


def test_a_key_of_another_certificate_is_refused(
    tmp_path: Path, key_and_certificate: tuple[str, str]
) -> None:
    _, cert = key_and_certificate
    other = tmp_path / "other.pem"
    run(
        [
            "openssl",
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            str(other),
        ]
    )
    code, output = install_certificate(tmp_path, other.read_text() + cert)
    assert code == 1
    assert "the private key does not belong to the certificate" in output
    assert not (tmp_path / "coolify" / "proxy" / "certs" / "origin.crt").exists()


def test_no_certificate_on_stdin_is_refused(tmp_path: Path) -> None:
    assert install_certificate(tmp_path, "")[0] == 1


def test_coolifys_disk_alert_is_set_on_its_server() -> None:
    server = production().named("coolify-project-server")
    assert server.inputs["settings"] == {"server_disk_usage_notification_threshold": 85}
