"""The master plan's stage 4 by config: app servers behind a Hetzner load balancer, each in
Coolify with every app on it; examples/scale-out.yaml (a database server and two app servers)
under Pulumi's mocks, and config variants for TLS termination and bad input."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from offline.engine import RecordedResource, Recording, find_leaks, reveal
from offline.stack_files import PROJECT_DIR
from tests.backup_host import bundle_file
from tests.support import (
    evaluate_config,
    run,
    server_host_key,
    write,
)
from tests.test_scale_out import KEYS, firewall_ports, problems, scale_out, servers, stage_three

LB = "hcloud:index/loadBalancer"


def stage_four(**changes: Any) -> dict[str, Any]:
    return stage_three(appServers={"type": "cx23"}, **changes)


@cache
def terminated() -> Recording:
    recording = evaluate_config(stage_four(**{"appServers.loadBalancer.tls": "terminate"}))
    assert recording.error is None, recording.error
    return recording


def of_type(recording: Recording, kind: str) -> list[RecordedResource]:
    return recording.of_type(f"{LB}{kind}")


def test_the_app_servers_open_no_public_port_but_ssh_and_are_protected() -> None:
    by_name = servers()
    for name in ("platform-scale-out-app-1", "platform-scale-out-app-2"):
        assert firewall_ports(name) == {("tcp", "22"), ("icmp", None)}
        assert by_name[name].inputs["labels"]["role"] == "app"
        assert by_name[name].inputs["serverType"] == "cx23"
        assert by_name[name].protect is True
        assert by_name[name].inputs["deleteProtection"] is True


def test_the_load_balancer_reaches_the_app_servers_at_their_private_addresses() -> None:
    recording = scale_out()
    (balancer,) = of_type(recording, ":LoadBalancer")
    assert (balancer.inputs["loadBalancerType"], balancer.inputs["location"]) == ("lb11", "fsn1")
    assert balancer.inputs["algorithm"] == {"type": "round_robin"}
    assert (balancer.protect, balancer.inputs["deleteProtection"]) == (True, True)
    (attached,) = of_type(recording, "Network:LoadBalancerNetwork")
    assert attached.inputs["ip"] == "10.0.1.254"
    assert attached.inputs["loadBalancerId"] == int(balancer.id or 0)
    targets = of_type(recording, "Target:LoadBalancerTarget")
    by_name = servers()
    assert sorted(t.inputs["serverId"] for t in targets) == sorted(
        int(by_name[f"platform-scale-out-app-{n}"].id or 0) for n in (1, 2)
    )
    for target in targets:
        assert target.inputs["usePrivateIp"] is True
        assert attached.urn in target.dependencies  # the private address needs the network


def test_passthrough_forwards_tcp_and_checks_the_apps_health_over_tls() -> None:
    services = {
        s.inputs["listenPort"]: s for s in of_type(scale_out(), "Service:LoadBalancerService")
    }
    assert sorted(services) == [80, 443]
    for port, service in services.items():
        assert (service.inputs["protocol"], service.inputs["destinationPort"]) == ("tcp", port)
        check = service.inputs["healthCheck"]
        assert (check["protocol"], check["port"]) == ("http", 443)
        assert check["http"] == {"domain": "crm.example.com", "path": "/api/health", "tls": True,
                                 "statusCodes": ["2??"]}  # fmt: skip
    assert of_type(scale_out(), "UploadedCertificate:UploadedCertificate") == []
    assert scale_out().of_type("hcloud:index/uploadedCertificate:UploadedCertificate") == []


def test_the_apps_hostnames_point_at_the_load_balancer_and_the_rest_at_the_server() -> None:
    recording = scale_out()
    (balancer,) = of_type(recording, ":LoadBalancer")
    server = servers()["platform-scale-out"]
    records = {(r.inputs["name"], r.inputs["type"]): r.inputs["content"]
               for r in recording.of_type("cloudflare:index/dnsRecord:DnsRecord")}  # fmt: skip
    for host in ("crm.example.com", "book.example.com"):
        assert records[(host, "A")] == balancer.outputs["ipv4"]
        assert records[(host, "AAAA")] == balancer.outputs["ipv6"]
    for host in ("coolify.example.com", "files.example.com", "status.example.com"):
        assert records[(host, "A")] == server.outputs["ipv4Address"]
    assert recording.stack_outputs["loadBalancerIpv4"] == balancer.outputs["ipv4"]
    assert recording.stack_outputs["appServerPrivateIpv4s"] == ["10.0.1.4", "10.0.1.5"]


def test_coolify_deploys_every_app_to_every_app_server() -> None:
    recording = scale_out()
    first = recording.named("coolify-app-server-1-server")
    second = recording.named("coolify-app-server-2-server")
    assert (first.inputs["ip"], second.inputs["ip"]) == ("10.0.1.4", "10.0.1.5")
    assert first.inputs["proxy_type"] == second.inputs["proxy_type"] == "traefik"
    assert first.inputs["settings"] == {"server_disk_usage_notification_threshold": 85}
    key = recording.named("automation-key").id
    assert first.inputs["private_key_uuid"] == second.inputs["private_key_uuid"] == key
    for app in ("crm", "book", "worker"):
        application = recording.named(f"apps-{app}")
        assert application.inputs["server_uuid"] == first.id, app
        assert application.inputs["other_servers"] == [second.id], app
        deploy = recording.named(f"apps-{app}-deploy")
        assert deploy.inputs["servers"] == 2
        assert second.id in reveal(deploy.inputs["triggers"])
    assert recording.named("apps-crm").inputs["domains"] == "https://crm.example.com"


def test_each_app_server_serves_the_origin_certificate_when_it_ends_tls() -> None:
    recording = scale_out()
    main = recording.named("coolify-origin-certificate")
    for number in (1, 2):
        step = recording.named(f"coolify-app-server-{number}-origin-certificate")
        assert step.inputs["create"] == main.inputs["create"]
        assert reveal(step.inputs["stdin"]) == reveal(main.inputs["stdin"])
        pinned = server_host_key(recording, f"app-server-{number}")
        assert reveal(step.inputs["connection"])["hostKey"] == pinned
    assert find_leaks(recording) == []


def test_terminating_at_the_load_balancer_uploads_the_certificate_and_serves_http_behind() -> None:
    recording = terminated()
    (uploaded,) = recording.of_type("hcloud:index/uploadedCertificate:UploadedCertificate")
    origin = recording.named("origin-certificate")
    assert uploaded.inputs["certificate"] == origin.outputs["certificate"]
    (service,) = of_type(recording, "Service:LoadBalancerService")
    assert (service.inputs["protocol"], service.inputs["listenPort"]) == ("https", 443)
    assert service.inputs["destinationPort"] == 80
    assert service.inputs["http"]["certificates"] == [int(uploaded.id or 0)]
    assert service.inputs["http"]["redirectHttp"] is True
    check = service.inputs["healthCheck"]
    assert (check["port"], check["http"]["tls"]) == (80, False)
    # Traefik must not redirect the load balancer's plain requests to https.
    assert recording.named("apps-crm").inputs["domains"] == "http://crm.example.com"
    assert recording.stack_outputs["appUrls"]["crm"] == "https://crm.example.com"
    names = {r.name for r in recording.resources}
    assert "coolify-app-server-1-origin-certificate" not in names
    assert "coolify-origin-certificate" in names  # the server's own hostnames
    assert find_leaks(recording) == []


def test_minio_is_published_on_the_servers_private_address_for_the_other_servers() -> None:
    recording = scale_out()
    compose = yaml.safe_load(reveal(recording.named("data-minio").inputs["compose"]))
    assert compose["services"]["minio"]["ports"] == ["10.0.1.2:9000:9000"]
    variables = reveal(recording.named("apps-crm-env").inputs["variables"])
    assert urlsplit(variables["S3_ENDPOINT"]["value"]).netloc == "10.0.1.2:9000"


def test_the_mirror_on_the_database_server_reaches_minio_at_the_private_address() -> None:
    values = stage_four(**{
        "backups": {"offsite": {"endpoint": "https://s3.example.com", "bucket": "dumps"}},
        "services.minio.buckets": [{"name": "uploads", "access": "private"}],
    })  # fmt: skip
    recording = evaluate_config(values, extra=KEYS, secret_keys=list(KEYS))
    assert recording.error is None, recording.error
    unit = bundle_file(recording, "etc/systemd/system/platform-backup-minio-mirror.service")
    assert "Environment=RCLONE_CONFIG_MINIO_ENDPOINT=http://10.0.1.2:9000" in unit.splitlines()


def test_monitoring_watches_each_app_servers_proxy() -> None:
    compose = yaml.safe_load(reveal(scale_out().named("monitoring-uptime-kuma").inputs["compose"]))
    monitors = [
        yaml.safe_load(volume["content"])
        for volume in compose["services"]["autokuma"]["volumes"]
        if isinstance(volume, dict) and volume["target"].endswith(".json")
    ]
    proxies = {
        (m.get("hostname"), m.get("port")) for m in monitors if "app server" in m.get("name", "")
    }
    assert proxies == {("10.0.1.4", 443), ("10.0.1.5", 443)}


def test_each_app_server_has_its_memory_budget() -> None:
    found = problems(stage_four(**{"appServers.type": "cx23", "apps[0].memoryMb": 2048}))
    assert "platform:appServers.type: the stack needs 4992 MB of memory but a cx23" in found
    assert "one image build at a time" in found


def test_stage_four_config_errors_name_the_key() -> None:
    no_database = stage_four()
    del no_database["databaseServer"]
    assert "platform:appServers: app servers reach the data services over the private network" in (
        problems(no_database)
    )
    assert "platform:apps[0].domains[0].proxied: crm.example.com is behind the load balancer" in (
        problems(stage_four(**{"apps[0].domains[0]": {"host": "crm", "proxied": False}}))
    )
    assert (
        "platform:appServers.loadBalancer.healthCheck.app: 'worker' is not an app with a domain"
        in (problems(stage_four(**{"appServers.loadBalancer.healthCheck.app": "worker"})))
    )
    assert "platform:appServers.count" in problems(stage_four(**{"appServers.count": 1}))
    assert "unknown load balancer type 'lb12'" in problems(
        stage_four(**{"appServers.loadBalancer.type": "lb12"})
    )
    assert "platform:appServers.loadBalancer.tls" in problems(
        stage_four(**{"appServers.loadBalancer.tls": "offload"})
    )
    assert "platform:appServers.loadBalancer.healthChek" in problems(
        stage_four(**{"appServers.loadBalancer.healthChek": {}})
    )
    assert "platform:appServers.loadBalancer.healthCheck.timeout: a check may not take longer" in (
        problems(stage_four(**{"appServers.loadBalancer.healthCheck.timeout": 20}))
    )
    small = stage_four(**{"network.subnet": "10.0.1.0/29", "appServers.count": 3})
    assert "platform:appServers.count: the subnet 10.0.1.0/29 has no room for 3 app servers" in (
        problems(small)
    )


def example_config() -> Any:
    from offline.stack_files import read_stack_file, stack_config  # noqa: PLC0415

    stack_file = read_stack_file(str(PROJECT_DIR / "examples" / "scale-out.yaml"))
    return stack_config(stack_file.project, stack_file.config)


def test_the_cost_counts_each_app_server_and_the_load_balancer() -> None:
    from offline.costs import monthly_cost  # noqa: PLC0415

    items = {item.item: item.eur_per_month for item in monthly_cost(example_config())}
    assert items["app server 1 cx23"] == items["app server 2 cx23"] == 3.99
    assert items["load balancer lb11"] == 5.39
    assert "server cx23" in items
    assert "database server cx33" in items


def test_the_memory_budgets_put_the_apps_and_builds_on_the_app_servers() -> None:
    budgets = {which: rows for which, _, _, rows in example_config().server_budgets()}
    server, app_server = dict(budgets[""]), dict(budgets["each app server, "])
    assert not any(who.startswith("app ") for who in server)
    assert "one image build at a time" not in server
    assert {"app crm", "app book", "app worker", "one image build at a time"} <= set(app_server)


def test_the_diagram_draws_the_load_balancer_in_front_of_the_app_servers() -> None:
    from offline.diagram import architecture  # noqa: PLC0415

    graph = architecture(example_config(), "scale-out")
    label, members = graph.clusters["apps"]
    assert label.startswith("2 app servers: Hetzner cx23 each")
    assert {"app:crm", "app:book", "app:worker", "app-proxy"} == set(members)
    edges = {(tail, head) for tail, head, _ in graph.edges}
    assert ("host:crm.example.com", "load-balancer") in edges
    assert ("load-balancer", "app-proxy") in edges
    assert ("host:files.example.com", "firewall") in edges
    assert ("host:crm.example.com", "firewall") not in edges


def test_an_app_servers_cloud_init_sets_dockers_pool_and_passes_the_schema(tmp_path: Path) -> None:
    user_data = reveal(servers()["platform-scale-out-app-1"].inputs["userData"])
    files = {f["path"]: f for f in yaml.safe_load(user_data)["write_files"]}
    assert "172.16.0.0/12" in files["/etc/docker/daemon.json"]["content"]
    result = run(["cloud-init", "schema", "--config-file", str(write(tmp_path / "ud", user_data))])
    assert result.returncode == 0, result.stdout + result.stderr


def test_nothing_reaches_a_server_at_its_private_address_before_it_joined_the_network() -> None:
    recording = scale_out()
    attachments = {
        r.inputs["ip"]: r.urn for r in recording.of_type("hcloud:index/serverNetwork:ServerNetwork")
    }
    for number, address in ((1, "10.0.1.4"), (2, "10.0.1.5")):
        # (The SDK lists a component dependency as the component's resources.)
        assert (
            attachments[address] in recording.named(f"load-balancer-target-{number}").dependencies
        )
        assert (
            attachments[address]
            in recording.named(f"coolify-app-server-{number}-server").dependencies
        )
    assert attachments["10.0.1.3"] in recording.named("coolify-database-server-server").dependencies


def test_going_from_stage_three_to_four_touches_no_data_and_moves_only_the_apps() -> None:
    """What `pulumi up` does to a stage 3 stack given appServers (docs/operations.md, "Moving a
    stack from stage 3 to stage 4"): the data services and the servers keep every input, the
    apps' records keep their names (their content changes in place), and the apps move to the
    first app server."""
    three = evaluate_config(stage_three())
    four = evaluate_config(stage_four())
    assert three.error is None, three.error
    assert four.error is None, four.error
    for name in ("data-postgres", "data-pgbouncer", "data-redis", "data-minio",
                 "server-server", "database-server-server"):  # fmt: skip
        assert reveal(three.named(name).inputs) == reveal(four.named(name).inputs), name
    records = {r.urn for r in three.of_type("cloudflare:index/dnsRecord:DnsRecord")}
    assert records == {r.urn for r in four.of_type("cloudflare:index/dnsRecord:DnsRecord")}
    server_uuid = [r.named("apps-crm").inputs["server_uuid"] for r in (three, four)]
    assert server_uuid == [three.named("coolify-project-server").id,
                           four.named("coolify-app-server-1-server").id]  # fmt: skip
