"""The Server component: keys, firewall, protection, cloud-init and outputs."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.server import ANYWHERE, firewall_rules, label_value, server_name
from config import SshConfig, parse_stack_config
from offline.engine import Recording, is_secret, reveal
from render.cloud_init import HostKey, cloud_init, dump_user_data
from tests.support import (
    ED25519_ALICE,
    ED25519_BOB,
    PROJECT,
    evaluate_ok,
    minimal_config,
    with_value,
)

SERVER = "hcloud:index/server:Server"
FIREWALL = "hcloud:index/firewall:Firewall"
SSH_KEY = "hcloud:index/sshKey:SshKey"
# Ports that must never be open to the internet: Coolify's dashboard and realtime, databases,
# PgBouncer, Redis, MinIO's API and console, Uptime Kuma.
NEVER_PUBLIC = {"8000", "6001", "6002", "5432", "6432", "3306", "6379", "9000", "9001", "3001"}


def only(recording: Recording, type_: str) -> dict:  # type: ignore[type-arg]
    (resource,) = recording.of_type(type_)
    return resource.inputs


public_ipv4 = st.ip_addresses(v=4).filter(lambda a: a.is_global).map(lambda a: f"{a}/32")


@given(st.lists(public_ipv4, min_size=1, max_size=5, unique=True))
def test_only_ssh_http_https_and_icmp_are_ever_open(cidrs: list[str]) -> None:
    ssh = SshConfig.model_validate(
        {"adminCidrs": cidrs, "authorizedKeys": [{"name": "alice", "publicKey": ED25519_ALICE}]}
    )
    rules = firewall_rules(ssh)
    assert {(r.protocol, r.port) for r in rules} == {
        ("tcp", "22"), ("tcp", "80"), ("tcp", "443"), ("icmp", None)
    }  # fmt: skip
    assert not {r.port for r in rules} & NEVER_PUBLIC
    (ssh_rule,) = [r for r in rules if r.port == "22"]
    assert ssh_rule.source_ips == tuple(cidrs)
    for rule in rules:
        if rule.port != "22":
            assert rule.source_ips == ANYWHERE


def test_the_firewall_resource_carries_exactly_those_rules() -> None:
    values = with_value(minimal_config(), "ssh.adminCidrs", ["203.0.113.7/32", "2001:db8:1::/48"])
    rules = only(evaluate_ok(values), FIREWALL)["rules"]
    assert [(r["direction"], r["protocol"], r.get("port"), r["sourceIps"]) for r in rules] == [
        ("in", "tcp", "22", ["203.0.113.7/32", "2001:db8:1::/48"]),
        ("in", "tcp", "80", list(ANYWHERE)),
        ("in", "tcp", "443", list(ANYWHERE)),
        ("in", "icmp", None, list(ANYWHERE)),
    ]
    for rule in rules:
        for source in rule["sourceIps"]:
            ipaddress.ip_network(source)  # every source is a valid network


def test_the_firewall_is_attached_when_the_server_is_created() -> None:
    recording = evaluate_ok(minimal_config())
    (firewall,) = recording.of_type(FIREWALL)
    server = only(recording, SERVER)
    assert server["firewallIds"] == [float(firewall.id or "")]  # ints arrive as floats in mocks


def test_each_key_is_uploaded_and_given_to_the_server() -> None:
    values = with_value(
        minimal_config(),
        "ssh.authorizedKeys",
        [{"name": "alice", "publicKey": ED25519_ALICE}, {"name": "bob", "publicKey": ED25519_BOB}],
    )
    recording = evaluate_ok(values, stack="production")
    keys = recording.of_type(SSH_KEY)
    assert sorted(k.inputs["name"] for k in keys) == [
        "platform-production-alice", "platform-production-automation", "platform-production-bob"
    ]  # fmt: skip
    assert {ED25519_ALICE, ED25519_BOB} < {k.inputs["publicKey"] for k in keys}
    assert sorted(only(recording, SERVER)["sshKeys"]) == sorted(k.id for k in keys)


def test_the_stack_has_its_own_automation_key_for_root() -> None:
    recording = evaluate_ok(minimal_config())
    generated = recording.named("server-automation-key")
    assert generated.inputs["algorithm"] == "ED25519"
    assert is_secret(generated.outputs["privateKeyOpenssh"])
    automation = recording.named("server-key-automation")
    assert automation.inputs["publicKey"] == reveal(generated.outputs["publicKeyOpenssh"]).strip()
    assert automation.id in only(recording, SERVER)["sshKeys"]


def test_a_protected_server_cannot_be_deleted_or_rebuilt() -> None:
    recording = evaluate_ok(minimal_config())  # deleteProtection defaults to on
    (server,) = recording.of_type(SERVER)
    assert server.protect is True
    assert server.inputs["deleteProtection"] is True
    assert server.inputs["rebuildProtection"] is True


def test_an_unprotected_server_can_be_deleted() -> None:
    recording = evaluate_ok(with_value(minimal_config(), "server.deleteProtection", False))
    (server,) = recording.of_type(SERVER)
    assert server.protect is False
    assert server.inputs["deleteProtection"] is False
    assert server.inputs["rebuildProtection"] is False


@pytest.mark.parametrize("protected", [True, False])
def test_cloud_init_and_key_edits_never_replace_the_server(protected: bool) -> None:
    values = with_value(minimal_config(), "server.deleteProtection", protected)
    (server,) = evaluate_ok(values).of_type(SERVER)
    assert sorted(server.ignore_changes) == ["sshKeys", "userData"]
    assert server.delete_before_replace is True


def test_a_changed_ssh_key_is_deleted_before_its_replacement() -> None:
    """Hetzner refuses a second key of the same name: created first, the new key would fail."""
    keys = evaluate_ok(minimal_config()).of_type(SSH_KEY)
    assert len(keys) == 2  # the automation key and the admin's
    assert all(key.delete_before_replace for key in keys)


def test_server_settings_come_from_the_config() -> None:
    values = with_value(
        minimal_config(), "server", {"type": "cax21", "location": "hel1", "backups": True}
    )
    server = only(evaluate_ok(values), SERVER)
    assert (server["serverType"], server["location"], server["image"]) == (
        "cax21",
        "hel1",
        "ubuntu-24.04",
    )
    assert server["backups"] is True
    assert server["publicNets"] == [{"ipv4Enabled": True, "ipv6Enabled": True}]


def test_the_server_boots_with_the_rendered_cloud_init() -> None:
    values = minimal_config()
    config = parse_stack_config(values, PROJECT)
    recording = evaluate_ok(values)
    key = recording.named("server-host-key").outputs
    host_key = HostKey(reveal(key["privateKeyOpenssh"]), reveal(key["publicKeyOpenssh"]))
    expected = dump_user_data(
        cloud_init(config.server, config.ssh, config.coolify.docker_address_pool, host_key)
    )
    assert is_secret(only(recording, SERVER)["userData"])
    assert reveal(only(recording, SERVER)["userData"]) == expected


def test_labels_name_the_stack_and_role() -> None:
    server = only(evaluate_ok(minimal_config(), stack="production"), SERVER)
    assert server["labels"] == {
        "managed-by": "pulumi", "project": "platform", "stack": "production", "role": "platform"
    }  # fmt: skip


def test_server_name_defaults_to_project_and_stack() -> None:
    config = parse_stack_config(minimal_config(), PROJECT)
    assert server_name(config.server, "platform", "production") == "platform-production"
    assert server_name(config.server, "platform", "Dev_Alice.2") == "platform-dev-alice-2"
    named = parse_stack_config(with_value(minimal_config(), "server.name", "crm-prod"), PROJECT)
    assert server_name(named.server, "platform", "production") == "crm-prod"


@pytest.mark.parametrize(
    ("text", "label"),
    [("production", "production"), ("org/stack name", "org-stack-name"), ("_x_", "x"),
     ("a" * 80, "a" * 63)],
)  # fmt: skip
def test_label_values_follow_hetzner_rules(text: str, label: str) -> None:
    assert label_value(text) == label


def test_addresses_are_outputs_of_the_stack() -> None:
    recording = evaluate_ok(minimal_config(), stack="production")
    (server,) = recording.of_type(SERVER)
    outputs = recording.stack_outputs
    assert outputs["serverIpv4"] == server.outputs["ipv4Address"]
    assert outputs["serverIpv6"] == server.outputs["ipv6Address"]
    assert ipaddress.ip_address(outputs["serverIpv4"]).version == 4
    assert ipaddress.ip_address(outputs["serverIpv6"]).version == 6
    assert outputs["serverName"] == "platform-production"
