"""The topology is a value (config.hosts): which servers a stack has, where each sits, what runs
on each. The program builds and places by reading it, and __main__.py asks no stage question."""

from __future__ import annotations

import ast

from config import StackConfig, parse_stack_config
from config.topology import APPS, COOLIFY, DATABASES, MINIO, UPTIME_KUMA
from offline.stack_files import PROGRAM, PROJECT_DIR
from tests.support import config_of, evaluate_ok, stage_three, tour_crm_config, with_value

EVERYTHING = {COOLIFY, DATABASES, APPS, MINIO, UPTIME_KUMA}


def stage_two() -> StackConfig:
    return parse_stack_config(with_value(tour_crm_config(), "network", {}), "platform")


def stage_three_config() -> StackConfig:
    return parse_stack_config(stage_three(), "platform")


def layout(config: StackConfig) -> list[tuple[str, str, str, str | None, tuple[str, ...]]]:
    return [
        (host.name, host.role, host.server.type, host.private_address, host.runs)
        for host in config.hosts.all
    ]


def test_one_server_runs_everything() -> None:
    hosts = config_of("production").hosts
    assert layout(config_of("production")) == [
        ("server", "main", "cx43", None, (COOLIFY, MINIO, UPTIME_KUMA, DATABASES, APPS))
    ]
    assert hosts.database is hosts.main
    assert hosts.app_servers == ()
    assert hosts.load_balancing is None
    assert hosts.minio_address is None  # nothing runs elsewhere


def test_the_private_network_gives_the_server_its_address_and_changes_nothing_else() -> None:
    config = stage_two()
    assert layout(config) == [
        ("server", "main", "cx43", "10.0.1.2", (COOLIFY, MINIO, UPTIME_KUMA, DATABASES, APPS))
    ]
    assert config.hosts.minio_address is None


def test_stage_three_moves_the_databases_and_their_backups_to_their_own_server() -> None:
    config = stage_three_config()
    assert layout(config) == [
        ("server", "main", "cx43", "10.0.1.2", (COOLIFY, MINIO, UPTIME_KUMA, APPS)),
        ("database-server", "database", "cx33", "10.0.1.3", (DATABASES,)),
    ]
    hosts = config.hosts
    assert hosts.database.name == "database-server"
    assert hosts.database.coolify_proxy == "none"
    assert not hosts.database.serves_web
    assert hosts.minio_address == "10.0.1.2"


def test_stage_four_moves_the_apps_to_app_servers_behind_the_load_balancer() -> None:
    config = config_of(str(PROJECT_DIR / "examples" / "scale-out.yaml"))
    assert layout(config) == [
        ("server", "main", "cx23", "10.0.1.2", (COOLIFY, MINIO, UPTIME_KUMA)),
        ("database-server", "database", "cx33", "10.0.1.3", (DATABASES,)),
        ("app-server-1", "app", "cx23", "10.0.1.4", (APPS,)),
        ("app-server-2", "app", "cx23", "10.0.1.5", (APPS,)),
    ]
    hosts = config.hosts
    assert [host.coolify_proxy for host in hosts.app_servers] == ["traefik", "traefik"]
    balancing = hosts.load_balancing
    assert balancing is not None
    assert balancing.address == "10.0.1.254"
    assert [host.fqdn for host in balancing.hostnames] == ["crm.example.com", "book.example.com"]
    assert (balancing.health_host, balancing.health_path) == ("crm.example.com", "/api/health")


def test_everything_runs_somewhere_and_only_the_apps_on_several_servers() -> None:
    for config in (
        config_of("production"),
        stage_three_config(),
        config_of(str(PROJECT_DIR / "examples" / "scale-out.yaml")),
    ):
        hosts = config.hosts
        assert {what for host in hosts.all for what in host.runs} == EVERYTHING
        for what in EVERYTHING - {APPS}:
            assert len(hosts.running(what)) == 1, what


def test_each_host_is_the_server_the_program_registers_under_its_name() -> None:
    recording = evaluate_ok(stage_three())
    config = stage_three_config()
    servers = {
        resource.name: resource.inputs
        for resource in recording.of_type("hcloud:index/server:Server")
    }
    assert set(servers) == {f"{host.name}-server" for host in config.hosts.all}
    for host in config.hosts.all:
        assert servers[f"{host.name}-server"]["serverType"] == host.server.type
        assert servers[f"{host.name}-server"]["labels"]["role"] == host.label
    attached = {
        r.inputs["ip"] for r in recording.of_type("hcloud:index/serverNetwork:ServerNetwork")
    }
    assert attached == {host.private_address for host in config.hosts.all}
    in_coolify = {r.name for r in recording.of_type("platform:index:CoolifyServer")}
    assert in_coolify == {f"coolify-{host.name}" for host in config.hosts.others}


TOPOLOGY_NAMES = {
    "network", "database_server", "app_servers", "load_balancer", "private_ipv4",
    "database_server_config", "app_server_config", "hosts", "servers", "coolify_servers",
    "database_host", "automation_key", "terminated",
}  # fmt: skip


def test_the_composition_asks_no_stage_question() -> None:
    """No condition in __main__.py looks at the topology: the hosts say what exists."""
    tree = ast.parse(PROGRAM.read_text())
    conditions: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.If | ast.IfExp | ast.While):
            conditions.append(node.test)
        elif isinstance(node, ast.comprehension):
            conditions += node.ifs
        elif isinstance(node, ast.BoolOp):
            conditions += node.values[:-1]  # `a or b` and `a and b` decide on a
    named = {
        name
        for condition in conditions
        for node in ast.walk(condition)
        if (name := getattr(node, "id", None) or getattr(node, "attr", None)) is not None
    }
    assert conditions  # the check sees the features' conditions (monitoring, backups, ...)
    assert named & TOPOLOGY_NAMES == set()


def test_each_kind_of_host_budgets_what_runs_on_it() -> None:
    config = config_of(str(PROJECT_DIR / "examples" / "scale-out.yaml"))
    memory = {which: dict(rows) for which, _, _, rows in config.server_budgets()}
    disk = {which: dict(rows) for which, _, _, rows in config.disk_budgets()}
    assert list(memory) == list(disk) == ["", "database server, ", "each app server, "]
    for budget in (memory, disk):
        assert not any(who.startswith("app ") for who in budget[""])
        assert all(f"app {app.name}" in budget["each app server, "] for app in config.apps)
    assert {"postgres", "pgbouncer", "redis"} <= set(memory["database server, "])
    assert not {"postgres", "pgbouncer", "redis"} & set(memory[""])
    assert {"minio", "uptime-kuma"} <= set(memory[""])
    assert "postgres data" in disk["database server, "]
    one_server = config_of("production")
    assert [which for which, _, _, _ in one_server.server_budgets()] == [""]
    assert {"postgres", "app crm", "minio"} <= set(dict(one_server.memory_budget()))
