"""The master plan's stage 3 by config: a database server on the private network, added to
Coolify at its private address, with PostgreSQL, PgBouncer and Redis on it, published there
only; examples/scale-out.yaml under Pulumi's mocks."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from config.errors import ConfigError
from offline.engine import RecordedResource, Recording, find_leaks, reveal
from offline.stack_files import PROJECT_DIR
from tests.support import (
    evaluate_config,
    evaluate_stack,
    run,
    server_host_key,
    stage_three,
    with_value,
    write,
)

SERVER = "hcloud:index/server:Server"


@cache
def scale_out() -> Recording:
    return evaluate_stack(str(PROJECT_DIR / "examples" / "scale-out.yaml"))


def servers() -> dict[str, RecordedResource]:
    return {r.inputs["name"]: r for r in scale_out().of_type(SERVER)}


def firewall_ports(name: str) -> set[tuple[str, str | None]]:
    (firewall,) = [r for r in scale_out().of_type("hcloud:index/firewall:Firewall")
                   if r.inputs["name"] == name]  # fmt: skip
    return {(rule["protocol"], rule.get("port")) for rule in firewall.inputs["rules"]}


def test_the_database_server_opens_no_public_port_but_ssh() -> None:
    assert firewall_ports("platform-scale-out-db") == {("tcp", "22"), ("icmp", None)}
    assert ("tcp", "443") in firewall_ports("platform-scale-out")
    database = servers()["platform-scale-out-db"]
    assert database.inputs["labels"]["role"] == "database"
    assert database.protect is True
    assert database.inputs["deleteProtection"] is True


def test_every_server_joins_the_network_and_shares_the_stacks_keys() -> None:
    recording = scale_out()
    attached = {r.inputs["ip"]: r.inputs["serverId"]
                for r in recording.of_type("hcloud:index/serverNetwork:ServerNetwork")}  # fmt: skip
    by_name = servers()
    assert attached == {
        "10.0.1.2": int(by_name["platform-scale-out"].id or 0),
        "10.0.1.3": int(by_name["platform-scale-out-db"].id or 0),
        "10.0.1.4": int(by_name["platform-scale-out-app-1"].id or 0),
        "10.0.1.5": int(by_name["platform-scale-out-app-2"].id or 0),
    }
    # Hetzner takes a public key once per project: the other servers reuse the first's.
    assert len(recording.of_type("hcloud:index/sshKey:SshKey")) == 2  # automation, admin
    keys = {json.dumps(server.inputs["sshKeys"]) for server in by_name.values()}
    assert len(keys) == 1


def test_coolify_adds_the_database_server_at_its_private_address() -> None:
    recording = scale_out()
    remote = recording.named("coolify-database-server-server")
    assert remote.inputs["ip"] == "10.0.1.3"
    assert remote.inputs["proxy_type"] == "none"
    key = recording.named("automation-key")
    assert remote.inputs["private_key_uuid"] == key.id
    automation = recording.named("server-automation-key")
    assert reveal(key.inputs["private_key"]) == reveal(automation.outputs["privateKeyOpenssh"])
    wait = recording.named("coolify-database-server-wait-cloud-init")
    assert wait.urn in remote.dependencies
    database_ip = servers()["platform-scale-out-db"].outputs["ipv4Address"]
    assert reveal(wait.inputs["connection"])["host"] == database_ip


def test_the_data_services_run_on_the_database_server_published_on_its_private_address() -> None:
    recording = scale_out()
    remote = recording.named("coolify-database-server-server").id
    main = recording.named("coolify-project-server").id
    for name in ("data-postgres", "data-redis", "data-pgbouncer"):
        assert recording.named(name).inputs["server_uuid"] == remote, name
    assert recording.named("data-minio").inputs["server_uuid"] == main
    assert recording.named("monitoring-uptime-kuma").inputs["server_uuid"] == main
    assert recording.named("data-postgres").inputs["public_port"] == 5432
    assert recording.named("data-redis").inputs["public_port"] == 6379
    compose = yaml.safe_load(reveal(recording.named("data-pgbouncer").inputs["compose"]))
    assert compose["services"]["pgbouncer"]["ports"] == ["10.0.1.3:6432:6432"]
    outputs = recording.stack_outputs
    assert urlsplit(reveal(outputs["databaseUrl"])).netloc.endswith("@10.0.1.3:6432")
    assert urlsplit(reveal(outputs["directUrl"])).netloc.endswith("@10.0.1.3:5432")
    assert urlsplit(reveal(outputs["redisUrl"])).netloc.endswith("@10.0.1.3:6379")
    assert outputs["databaseServerPrivateIpv4"] == "10.0.1.3"
    assert find_leaks(recording) == []


def test_monitoring_checks_the_data_services_at_the_private_address() -> None:
    compose = yaml.safe_load(reveal(scale_out().named("monitoring-uptime-kuma").inputs["compose"]))
    monitors = {
        volume["target"].rsplit("/", 1)[1]: yaml.safe_load(volume["content"])
        for volume in compose["services"]["autokuma"]["volumes"]
        if isinstance(volume, dict)
    }
    assert (monitors["postgresql.json"]["hostname"], monitors["postgresql.json"]["port"]) == (
        "10.0.1.3",
        5432,
    )
    assert monitors["pgbouncer.json"]["hostname"] == "10.0.1.3"


KEYS = {
    "platform:backupAccessKeyId": "0031234567890ab0000000001",
    "platform:backupSecretAccessKey": "K003abcdefghijklmnopqrstuvwxyz0123",
}


def test_the_backup_jobs_run_on_the_database_server() -> None:
    values = stage_three(backups={"offsite": {"endpoint": "https://s3.example.com", "bucket":
                                               "dumps"}})  # fmt: skip
    recording = evaluate_config(values, extra=KEYS, secret_keys=list(KEYS))
    assert recording.error is None, recording.error
    install = recording.named("backups-install")
    (database,) = [r for r in recording.of_type(SERVER) if r.inputs["name"].endswith("-db")]
    connection = reveal(install.inputs["connection"])
    assert connection["host"] == database.outputs["ipv4Address"]
    assert connection["hostKey"] == server_host_key(recording, "database-server")
    assert install.inputs["triggers"] == [database.id]


def problems(values: dict[str, Any]) -> str:
    recording = evaluate_config(values)
    assert isinstance(recording.error, ConfigError)
    assert recording.resources == []
    return str(recording.error)


def test_each_server_has_its_memory_budget() -> None:
    found = problems(stage_three(**{"databaseServer.type": "cx23"}))
    assert "platform:databaseServer.type: the stack needs 5696 MB of memory but a cx23" in found
    assert "postgres" in found


def test_a_database_server_needs_the_network_and_a_database() -> None:
    no_network = with_value(stage_three(), "network", None)
    no_network.pop("network")
    assert "platform:databaseServer: a database server is reached over the private network" in (
        problems(no_network)
    )
    nothing = with_value(stage_three(), "services", {"minio": {}})
    assert "platform:databaseServer: a database server holds services.postgres" in (
        problems(nothing)
    )
    wrong_place = stage_three(**{"databaseServer.type": "cx33", "server.location": "ash",
                                 "server.type": "cpx42"})  # fmt: skip
    assert "platform:databaseServer.type: server type 'cx33' is not offered in 'ash'" in (
        problems(wrong_place)
    )


def test_the_diagram_draws_the_database_server() -> None:
    from offline.diagram import architecture  # noqa: PLC0415
    from offline.stack_files import read_stack_file, stack_config  # noqa: PLC0415

    stack_file = read_stack_file(str(PROJECT_DIR / "examples" / "scale-out.yaml"))
    graph = architecture(stack_config(stack_file.project, stack_file.config), "scale-out")
    label, members = graph.clusters["database"]
    assert label.startswith("database server: Hetzner cx33")
    assert set(members) == {"postgres", "pgbouncer", "redis"}


def test_the_database_servers_cloud_init_sets_dockers_pool_and_passes_the_schema(
    tmp_path: Path,
) -> None:
    user_data = reveal(servers()["platform-scale-out-db"].inputs["userData"])
    document = yaml.safe_load(user_data)
    (daemon,) = [f for f in document["write_files"] if f["path"] == "/etc/docker/daemon.json"]
    assert json.loads(daemon["content"]) == {
        "default-address-pools": [{"base": "172.16.0.0/12", "size": 24}]
    }
    main = yaml.safe_load(reveal(servers()["platform-scale-out"].inputs["userData"]))
    assert "/etc/docker/daemon.json" not in [f["path"] for f in main["write_files"]]
    result = run(["cloud-init", "schema", "--config-file", str(write(tmp_path / "ud", user_data))])
    assert result.returncode == 0, result.stdout + result.stderr
