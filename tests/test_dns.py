"""The Dns component: records derived from the apps and services, proxy, TTL, zone."""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

from offline.engine import Recording
from tests.support import evaluate_ok, minimal_config, tour_crm_config, with_value

RECORD = "cloudflare:index/dnsRecord:DnsRecord"
ZONE_SETTING = "cloudflare:index/zoneSetting:ZoneSetting"
GET_ZONE = "cloudflare:index/getZone:getZone"
TOUR_CRM_HOSTS = {
    "coolify.example.com", "files.example.com", "status.example.com",
    "crm.example.com", "book.example.com",
}  # fmt: skip


def records(recording: Recording) -> dict[tuple[str, str], dict[str, Any]]:
    found = [r.inputs for r in recording.of_type(RECORD)]
    keys = [(r["name"], r["type"]) for r in found]
    assert len(keys) == len(set(keys)), f"a record is declared twice: {Counter(keys)}"
    return dict(zip(keys, found, strict=True))


def test_one_a_and_one_aaaa_record_per_served_hostname() -> None:
    found = records(evaluate_ok(tour_crm_config()))
    assert set(found) == {(host, kind) for host in TOUR_CRM_HOSTS for kind in ("A", "AAAA")}


def test_records_point_at_the_server() -> None:
    recording = evaluate_ok(tour_crm_config())
    (server,) = recording.of_type("hcloud:index/server:Server")
    found = records(recording)
    assert {r["content"] for (_, kind), r in found.items() if kind == "A"} == {
        server.outputs["ipv4Address"]
    }
    assert {r["content"] for (_, kind), r in found.items() if kind == "AAAA"} == {
        server.outputs["ipv6Address"]
    }


def test_app_and_public_service_hosts_are_proxied_and_the_dashboard_is_not() -> None:
    found = records(evaluate_ok(tour_crm_config()))
    proxied = {name for (name, _), r in found.items() if r["proxied"]}
    assert proxied == TOUR_CRM_HOSTS - {"coolify.example.com"}


def test_proxied_records_use_automatic_ttl_and_others_the_configured_one() -> None:
    values = with_value(tour_crm_config(), "dns.ttl", 600)
    for (name, _), record in records(evaluate_ok(values)).items():
        assert record["ttl"] == (600 if name == "coolify.example.com" else 1)


def test_proxy_can_be_set_per_hostname() -> None:
    values = with_value(tour_crm_config(), "apps[0].domains", [{"host": "crm", "proxied": False}])
    values = with_value(values, "coolify.hostname", {"host": "coolify", "proxied": True})
    found = records(evaluate_ok(values))
    assert found[("crm.example.com", "A")]["proxied"] is False
    assert found[("coolify.example.com", "A")]["proxied"] is True


def test_an_app_with_several_domains_gets_records_for_each() -> None:
    values = with_value(tour_crm_config(), "apps[1].domains", ["@", "www", "book"])
    names = {name for name, _ in records(evaluate_ok(values))}
    assert {"example.com", "www.example.com", "book.example.com"} <= names


def test_minio_console_gets_a_record_only_when_configured() -> None:
    names = {name for name, _ in records(evaluate_ok(tour_crm_config()))}
    assert "minio.example.com" not in names
    values = with_value(tour_crm_config(), "services.minio.consoleHostname", "minio")
    found = records(evaluate_ok(values))
    assert found[("minio.example.com", "A")]["proxied"] is False


def test_workers_and_unexposed_services_get_no_records() -> None:
    names = {name for name, _ in records(evaluate_ok(tour_crm_config()))}
    assert not any(part in name for name in names for part in ("worker", "postgres", "redis"))


def test_each_record_names_the_stack_in_its_comment() -> None:
    for record in records(evaluate_ok(tour_crm_config(), stack="production")).values():
        assert record["comment"].startswith("Pulumi stack platform/production: ")
        assert len(record["comment"]) <= 100


def test_the_zone_is_looked_up_by_name() -> None:
    recording = evaluate_ok(
        with_value(minimal_config(), "domain", "shop.example.com")
        | {"dns": {"zoneName": "example.com"}}
    )
    assert recording.calls == [(GET_ZONE, {"filter": {"match": "all", "name": "example.com"}})]
    zone_id = hashlib.md5(b"example.com", usedforsecurity=False).hexdigest()  # the mock's id
    found = records(recording)
    assert {r["zoneId"] for r in found.values()} == {zone_id}
    assert ("coolify.shop.example.com", "A") in found


def test_a_given_zone_id_skips_the_lookup() -> None:
    recording = evaluate_ok(with_value(minimal_config(), "dns.zoneId", "a" * 32))
    assert recording.calls == []
    assert {r["zoneId"] for r in records(recording).values()} == {"a" * 32}


def test_ipv6_records_can_be_turned_off() -> None:
    found = records(evaluate_ok(with_value(tour_crm_config(), "dns.ipv6", False)))
    assert {kind for _, kind in found} == {"A"}


def test_zone_settings_are_left_alone_unless_the_stack_opts_in() -> None:
    assert evaluate_ok(tour_crm_config()).of_type(ZONE_SETTING) == []
    values = with_value(tour_crm_config(), "dns.manageZoneSettings", True)
    settings = {
        r.inputs["settingId"]: r.inputs["value"] for r in evaluate_ok(values).of_type(ZONE_SETTING)
    }
    assert settings == {"ssl": "strict", "always_use_https": "on", "min_tls_version": "1.2"}
