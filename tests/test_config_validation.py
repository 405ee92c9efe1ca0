"""Bad input fails with a message that names the config key and says how to fix it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from config import ConfigError, parse_stack_config
from config.hetzner import RETIRED_SERVER_TYPES, SERVER_TYPES, types_offered_in
from tests.support import (
    DELETE,
    ED25519_ALICE,
    ED25519_BOB,
    GIT,
    PROJECT,
    minimal_config,
    run,
    tour_crm_config,
    with_value,
)


@pytest.fixture(scope="module")
def generated_keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Public keys made by the real ssh-keygen."""
    folder = tmp_path_factory.mktemp("keys")
    keys = {}
    for name, args in {"rsa2048": ["-t", "rsa", "-b", "2048"], "rsa3072": ["-t", "rsa", "-b", "3072"],
                       "ecdsa": ["-t", "ecdsa", "-b", "256"]}.items():  # fmt: skip
        path = folder / name
        result = run(["ssh-keygen", "-q", "-N", "", "-C", f"{name}@test", "-f", str(path), *args])
        assert result.returncode == 0, result.stderr
        keys[name] = Path(f"{path}.pub").read_text().strip()
    return keys


def problems(values: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_stack_config(values, PROJECT)
    return raised.value.problems


def key(index: int = 0) -> str:
    return f"ssh.authorizedKeys[{index}].publicKey"


BASE = minimal_config()
FULL = tour_crm_config()

# (id, config, the key the message must name, a fragment of the explanation)
BAD_INPUT = [
    ("domain-missing", with_value(BASE, "domain", DELETE), "platform:domain", "required"),
    ("domain-one-label", with_value(BASE, "domain", "localhost"), "platform:domain", "two labels"),
    ("domain-underscore", with_value(BASE, "domain", "my_shop.com"), "platform:domain", "invalid label"),
    ("domain-unicode", with_value(BASE, "domain", "bücher.de"), "platform:domain", "punycode"),
    ("domain-hyphen-edge", with_value(BASE, "domain", "-shop.com"), "platform:domain", "'-shop'"),
    ("domain-ip", with_value(BASE, "domain", "192.0.2.1"), "platform:domain", "IP address"),
    ("top-level-typo", {**BASE, "domian": "example.com"}, "platform:domian", "did you mean 'domain'"),
    ("server-missing", with_value(BASE, "server", DELETE), "platform:server", "required"),
    ("server-not-object", with_value(BASE, "server", "cx33"), "platform:server", "dictionary"),
    ("server-type-retired", with_value(BASE, "server.type", "cx22"), "platform:server.type", "'cx23'"),
    ("server-type-gen1", with_value(BASE, "server.type", "cpx21"), "platform:server.type", "'cpx22'"),
    ("server-type-unknown", with_value(BASE, "server.type", "cx99"), "platform:server.type", "cx23, cx33"),
    ("server-type-missing", with_value(BASE, "server.type", DELETE), "platform:server.type", "required"),
    ("location-datacenter", with_value(BASE, "server.location", "fsn1-dc14"), "platform:server.location", "datacenter"),
    ("location-unknown", with_value(BASE, "server.location", "fra1"), "platform:server.location", "fsn1, nbg1"),
    ("type-not-in-location", with_value(BASE, "server.location", "ash"), "platform:server.type", "not offered in 'ash'"),
    ("arm-not-in-singapore", with_value(with_value(BASE, "server.type", "cax21"), "server.location", "sin"), "platform:server.type", "cpx12"),
    ("image-unsupported", with_value(BASE, "server.image", "debian-12"), "platform:server.image", "ubuntu-24.04"),
    ("server-key-typo", with_value(BASE, "server.tyep", "cx33"), "platform:server.tyep", "did you mean 'type'"),
    ("swap-too-large", with_value(BASE, "server.swapGb", 100), "platform:server.swapGb", "64"),
    ("backups-not-bool", with_value(BASE, "server.backups", "daily"), "platform:server.backups", "boolean"),
    ("admin-user-root", with_value(BASE, "server.adminUser", "root"), "platform:server.adminUser", "system account"),
    ("admin-user-invalid", with_value(BASE, "server.adminUser", "Dev Ops"), "platform:server.adminUser", "Linux user name"),
    ("server-name-invalid", with_value(BASE, "server.name", "Prod_Box"), "platform:server.name", "hostnames"),
    ("ssh-missing", with_value(BASE, "ssh", DELETE), "platform:ssh", "required"),
    ("cidrs-empty", with_value(BASE, "ssh.adminCidrs", []), "platform:ssh.adminCidrs", "at least 1"),
    ("cidr-no-prefix", with_value(BASE, "ssh.adminCidrs[0]", "203.0.113.7"), "platform:ssh.adminCidrs[0]", "/32"),
    ("cidr-host-bits", with_value(BASE, "ssh.adminCidrs[0]", "203.0.113.7/24"), "platform:ssh.adminCidrs[0]", "203.0.113.0/24"),
    ("cidr-garbage", with_value(BASE, "ssh.adminCidrs[0]", "office/32"), "platform:ssh.adminCidrs[0]", "CIDR form"),
    ("cidr-private", with_value(BASE, "ssh.adminCidrs[0]", "192.168.1.0/24"), "platform:ssh.adminCidrs[0]", "private"),
    ("cidr-ula", with_value(BASE, "ssh.adminCidrs[0]", "fd00::/8"), "platform:ssh.adminCidrs[0]", "private"),
    ("cidr-anywhere", with_value(BASE, "ssh.adminCidrs[0]", "0.0.0.0/0"), "platform:ssh.adminCidrs[0]", "allowFromAnywhere"),
    ("cidr-twice", with_value(BASE, "ssh.adminCidrs", ["203.0.113.7/32", "203.0.113.7/32"]), "platform:ssh.adminCidrs[1]", "twice"),
    ("keys-empty", with_value(BASE, "ssh.authorizedKeys", []), "platform:ssh.authorizedKeys", "at least 1"),
    ("key-not-openssh", with_value(BASE, key(), "AAAAC3NzaC1lZDI1NTE5"), f"platform:{key()}", "id_ed25519.pub"),
    ("key-dsa", with_value(BASE, key(), "ssh-dss AAAAB3NzaC1kc3M= old"), f"platform:{key()}", "DSA"),
    ("key-bad-base64", with_value(BASE, key(), "ssh-ed25519 not*base64 me"), f"platform:{key()}", "base64"),
    ("key-type-mismatch", with_value(BASE, key(), "ssh-rsa " + ED25519_ALICE.split()[1]), f"platform:{key()}", "holds a ssh-ed25519 key"),
    ("key-coolify-comment", with_value(BASE, key(), ED25519_ALICE.replace("alice@laptop", "coolify-admin")), f"platform:{key()}", "Coolify's installer"),
    ("key-name-missing", with_value(BASE, "ssh.authorizedKeys[0].name", DELETE), "platform:ssh.authorizedKeys[0].name", "required"),
    ("key-twice", with_value(BASE, "ssh.authorizedKeys", [{"name": "a1", "publicKey": ED25519_ALICE}, {"name": "a2", "publicKey": ED25519_ALICE}]), f"platform:{key(1)}", "same as 'a1'"),
    ("key-name-twice", with_value(BASE, "ssh.authorizedKeys", [{"name": "ops", "publicKey": ED25519_ALICE}, {"name": "ops", "publicKey": ED25519_BOB}]), "platform:ssh.authorizedKeys[1].name", "used twice"),
    ("max-auth-tries", with_value(BASE, "ssh.maxAuthTries", 0), "platform:ssh.maxAuthTries", "MaxAuthTries"),
    ("zone-name-and-id", with_value(with_value(BASE, "dns.zoneName", "example.com"), "dns.zoneId", "0" * 32), "platform:dns.zoneId", "not both"),
    ("zone-id-format", with_value(BASE, "dns.zoneId", "my-zone"), "platform:dns.zoneId", "pattern"),
    ("domain-outside-zone", with_value(BASE, "dns.zoneName", "example.org"), "platform:domain", "not inside the Cloudflare zone"),
    ("ttl-too-low", with_value(BASE, "dns.ttl", 30), "platform:dns.ttl", "60"),
    ("docker-pool-public", with_value(BASE, "coolify.dockerAddressPool", "8.8.0.0/16"), "platform:coolify.dockerAddressPool", "private"),
    ("coolify-host-invalid", with_value(BASE, "coolify.hostname", "cool_ify"), "platform:coolify.hostname.host", "invalid label"),
    ("pgbouncer-without-postgres", with_value(BASE, "services", {"pgbouncer": {}}), "platform:services.pgbouncer", "postgres"),
    ("service-unknown-key", with_value(BASE, "services.redis", {"maxmem": 1}), "platform:services.redis.maxmem", "unknown key"),
    ("service-unknown", with_value(BASE, "services.mongo", {}), "platform:services.mongo", "uptimeKuma"),
    ("app-name-reserved", with_value(BASE, "apps", [{"name": "redis", "git": GIT}]), "platform:apps[0].name", "platform service"),
    ("app-name-invalid", with_value(BASE, "apps", [{"name": "Web App", "git": GIT}]), "platform:apps[0].name", "not a valid name"),
    ("app-name-twice", with_value(BASE, "apps", [{"name": "web", "git": GIT}, {"name": "web", "git": GIT}]), "platform:apps[1].name", "two apps"),
    ("app-domains-no-port", with_value(BASE, "apps", [{"name": "web", "git": GIT, "domains": ["www"]}]), "platform:apps[0].port", "no port"),
    ("app-dockerfile-relative", with_value(BASE, "apps", [{"name": "web", "git": {**GIT, "dockerfile": "apps/web/Dockerfile"}}]), "platform:apps[0].git.dockerfile", "starting with '/'"),
    ("app-base-directory-space", with_value(BASE, "apps", [{"name": "web", "git": {**GIT, "baseDirectory": "/my app"}}]), "platform:apps[0].git.baseDirectory", "directory for Coolify"),
    ("app-port-range", with_value(BASE, "apps", [{"name": "web", "git": GIT, "port": 70000}]), "platform:apps[0].port", "65535"),
    ("app-health-query", with_value(BASE, "apps", [{"name": "web", "git": GIT, "health": {"path": "/health?deep=1"}}]), "platform:apps[0].health.path", "no query string"),
    ("app-health-method", with_value(BASE, "apps", [{"name": "web", "git": GIT, "health": {"path": "/up", "method": "PUT"}}]), "platform:apps[0].health.method", "'GET', 'HEAD', 'POST' or 'OPTIONS'"),
    ("app-cpus-zero", with_value(BASE, "apps", [{"name": "web", "git": GIT, "cpus": 0}]), "platform:apps[0].cpus", "greater than 0"),
    ("app-cpus-over-server", with_value(BASE, "apps", [{"name": "web", "git": GIT, "cpus": 16}]), "platform:apps[0].cpus", "lower apps[0].cpus or choose a larger server.type"),
    ("postgres-cpus-over-server", with_value(FULL, "services.postgres.cpus", 32), "platform:services.postgres.cpus", "lower services.postgres.cpus or choose a larger server.type"),
    ("build-command-with-dockerfile", with_value(BASE, "apps", [{"name": "web", "git": {**GIT, "startCommand": "npm start"}}]), "platform:apps[0].git.startCommand", "the Dockerfile says how to build and start"),
    ("build-dockerfile-with-nixpacks", with_value(BASE, "apps", [{"name": "web", "git": {**GIT, "pack": "nixpacks", "dockerfile": "/Dockerfile.web"}}]), "platform:apps[0].git.dockerfile", "only read with pack: dockerfile"),
    ("build-command-unsafe", with_value(BASE, "apps", [{"name": "web", "git": {**GIT, "pack": "nixpacks", "startCommand": "npm start; echo done"}}]), "platform:apps[0].git.startCommand", "no ;, |, >, $"),
    ("build-pack-unknown", with_value(BASE, "apps", [{"name": "web", "git": {**GIT, "pack": "buildpacks"}}]), "platform:apps[0].git.pack", "'nixpacks'"),
    ("build-publish-with-dockerfile", with_value(BASE, "apps", [{"name": "web", "git": {**GIT, "publishDirectory": "/dist"}}]), "platform:apps[0].git.publishDirectory", "a Dockerfile's image serves itself"),
    ("build-spa-without-folder", with_value(BASE, "apps", [{"name": "web", "git": {**GIT, "pack": "nixpacks", "spa": True}}]), "platform:apps[0].git.spa", "publishDirectory"),
    ("app-command-two-lines", with_value(BASE, "apps", [{"name": "web", "git": GIT, "postDeployCommand": "npm run migrate\nnpm run seed"}]), "platform:apps[0].postDeployCommand", "one line"),
    ("app-domain-key-typo", with_value(BASE, "apps", [{"name": "web", "git": GIT, "port": 80, "domains": [{"host": "www", "proxy": True}]}]), "platform:apps[0].domains[0].proxy", "did you mean 'proxied'"),
    ("hostname-twice", with_value(FULL, "apps[0].domains", ["files"]), "platform:apps[0].domains[0]", "served twice"),
    ("hostname-taken-by-coolify", with_value(FULL, "apps[1].domains", ["coolify"]), "platform:apps[1].domains[0]", "coolify dashboard"),
    ("image-not-pinned", with_value(BASE, "services.redis", {"image": "redis:7-alpine"}), "platform:services.redis.image", "not pinned"),
    ("image-latest", with_value(BASE, "services.postgres", {"image": "postgres:latest"}), "platform:services.postgres.image", "not pinned"),
    ("pgbouncer-too-old", with_value(BASE, "services", {"postgres": {}, "pgbouncer": {"image": "edoburu/pgbouncer:1.18.0"}}), "platform:services.pgbouncer.image", "1.21"),
    ("pool-min-over-default", with_value(BASE, "services", {"postgres": {}, "pgbouncer": {"minPoolSize": 30}}), "platform:services.pgbouncer.minPoolSize", "larger"),
    ("db-identifier", with_value(BASE, "services.postgres", {"database": "tour-crm"}), "platform:services.postgres.database", "identifier"),
    ("over-memory-budget", with_value(FULL, "server.type", "cx23"), "platform:server.type", "over by"),
    ("bucket-name", with_value(BASE, "services.minio", {"buckets": [{"name": "Tour_Images"}]}), "platform:services.minio.buckets[0].name", "bucket name"),
    ("bucket-access", with_value(BASE, "services.minio", {"buckets": [{"name": "docs", "access": "public"}]}), "platform:services.minio.buckets[0].access", "public-read"),
    ("bucket-twice", with_value(BASE, "services.minio", {"buckets": [{"name": "docs"}, {"name": "docs"}]}), "platform:services.minio.buckets[1].name", "twice"),
    ("app-bucket-unknown", with_value(FULL, "apps[0].buckets", ["photos"]), "platform:apps[0].buckets[0]", "not in services.minio.buckets"),
    ("app-bucket-without-minio", with_value(BASE, "apps", [{"name": "web", "git": GIT, "buckets": ["docs"]}]), "platform:apps[0].buckets[0]", "not in services.minio"),
    ("proxied-too-deep", with_value(FULL, "apps[0].domains", ["crm.staging"]), "platform:apps[0].domains[0]", "crm-staging"),
]  # fmt: skip


def test_there_are_at_least_25_bad_input_cases() -> None:
    assert len(BAD_INPUT) >= 25


@pytest.mark.parametrize(
    ("values", "config_key", "explanation"),
    [case[1:] for case in BAD_INPUT],
    ids=[case[0] for case in BAD_INPUT],
)
def test_bad_input_names_the_key(values: dict[str, Any], config_key: str, explanation: str) -> None:
    found = [p for p in problems(values) if p.startswith(f"{config_key}:")]
    assert found, f"no problem names {config_key}: {problems(values)}"
    assert any(explanation in p for p in found), found


def test_every_problem_is_reported_at_once() -> None:
    values = with_value(with_value(BASE, "server.type", "cx22"), "ssh.adminCidrs[0]", "10.0.0.0/8")
    values["domian"] = "x"
    reported = problems(values)
    assert len(reported) == 3
    assert {p.split(":")[1].split(" ")[0] for p in reported} == {
        "server.type", "ssh.adminCidrs[0]", "domian"
    }  # fmt: skip


def test_the_error_says_where_to_fix_it() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_stack_config(with_value(BASE, "server.type", "cx22"), PROJECT)
    message = str(raised.value)
    assert "Pulumi.<stack>.yaml" in message
    assert "pulumi config set --path" in message


def test_unknown_key_lists_the_allowed_keys() -> None:
    (problem,) = problems(with_value(BASE, "ssh.adminCidr", ["203.0.113.7/32"]))
    assert "adminCidrs, allowFromAnywhere, authorizedKeys, maxAuthTries" in problem


def test_unknown_key_never_shows_its_value() -> None:
    (problem,) = problems({**BASE, "stripeKey": "sk_live_0123456789abcdef"})
    assert "sk_live" not in problem


def test_snake_case_spelling_is_not_accepted() -> None:
    (problem,) = problems(with_value(BASE, "server.delete_protection", False))
    assert "did you mean 'deleteProtection'" in problem


@pytest.mark.parametrize("retired", sorted(RETIRED_SERVER_TYPES))
def test_every_retired_type_points_at_an_orderable_successor(retired: str) -> None:
    assert retired not in SERVER_TYPES
    assert RETIRED_SERVER_TYPES[retired] in SERVER_TYPES


def test_rsa_keys_need_3072_bits(generated_keys: dict[str, str]) -> None:
    (problem,) = problems(with_value(BASE, key(), generated_keys["rsa2048"]))
    assert problem.startswith(f"platform:{key()}: this is a 2048-bit RSA key")
    accepted = parse_stack_config(with_value(BASE, key(), generated_keys["rsa3072"]), PROJECT)
    assert accepted.ssh.authorized_keys[0].public_key == generated_keys["rsa3072"]


def test_ecdsa_keys_are_accepted(generated_keys: dict[str, str]) -> None:
    parse_stack_config(with_value(BASE, key(), generated_keys["ecdsa"]), PROJECT)


def test_anywhere_needs_the_explicit_opt_in() -> None:
    values = with_value(BASE, "ssh.adminCidrs", ["0.0.0.0/0", "::/0"])
    values = with_value(values, "ssh.allowFromAnywhere", True)
    assert parse_stack_config(values, PROJECT).ssh.admin_cidrs == ["0.0.0.0/0", "::/0"]


def test_unproxied_names_may_be_deeper_than_one_level() -> None:
    values = with_value(FULL, "apps[0].domains", [{"host": "crm.staging", "proxied": False}])
    config = parse_stack_config(values, PROJECT)
    assert "crm.staging.example.com" in [h.fqdn for h in config.served_hostnames()]


@pytest.mark.parametrize("location", ["ash", "hil", "sin"])
def test_outside_europe_only_cpx_and_ccx_are_offered(location: str) -> None:
    assert {name[:3] for name in types_offered_in(location)} == {"cpx", "ccx"}


def test_the_memory_budget_shows_who_uses_what() -> None:
    (problem,) = problems(with_value(FULL, "server.type", "cx23"))
    assert "the stack needs 10368 MB of memory but a cx23 has 4096 MB: over by 6272 MB" in problem
    for row in ("operating system", "postgres", "4096 MB", "autokuma", "app worker"):
        assert row in problem
