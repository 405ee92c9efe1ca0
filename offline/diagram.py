"""The stack's architecture as a Graphviz graph: who serves which hostname, and who connects
to whom. Built as data (nodes, edges, clusters) from the validated config and written in DOT
by one quoting function; `dot` renders it to PNG and SVG."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from config import DATABASE_SERVICES, RefValue, StackConfig
from config.topology import DATABASES, Hosts

SERVICE_LABELS = {
    "postgres": "PostgreSQL 16",
    "external-postgres": "PostgreSQL (external)",
    "mariadb": "MariaDB 10.11",
    "pgbouncer": "PgBouncer",
    "redis": "Redis 7",
    "minio": "MinIO (S3)",
    "uptime-kuma": "Uptime Kuma",
}

# The kinds of line the diagram draws, each explained in its legend.
BROWSER = {"color": "#1f5fbf", "penwidth": "1.6"}  # browsers to the hostnames, to the apps
SERVICE: dict[str, str] = {}  # apps and services to each other: SQL, RESP, S3, HTTPS
OPERATIONS = {"style": "dashed"}  # Coolify's builds and deploys, the backup jobs
MONITORING = {"style": "dotted"}  # Uptime Kuma's checks and the jobs' pushes
ADMIN = {"color": "#b03030", "style": "bold"}  # SSH: admins and `pulumi up`
LEGEND = (
    ("browsers: HTTPS to a hostname, routed to its app", BROWSER),
    ("service traffic: SQL, RESP, S3, HTTPS between apps", SERVICE),
    ("operations: builds, deploys, backups", OPERATIONS),
    ("monitoring: checks and pushes", MONITORING),
    ("SSH from ssh.adminCidrs: admins, `pulumi up` and its tunnel", ADMIN),
)


@dataclass
class Graph:
    name: str
    nodes: dict[str, dict[str, str]] = field(default_factory=dict)
    clusters: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    edges: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    def node(self, node_id: str, label: str, cluster: str | None = None, **attrs: str) -> None:
        self.nodes[node_id] = {"label": label, **attrs}
        if cluster is not None:
            self.clusters[cluster][1].append(node_id)

    def edge(self, tail: str, head: str, label: str = "", **attrs: str) -> None:
        # A label is tied to its own edge by a line (decorate): where edges crowd, Graphviz
        # may set a label nearer to another edge than to its own.
        edge = (tail, head, {"label": label, "decorate": "true", **attrs} if label else attrs)
        if edge not in self.edges:
            self.edges.append(edge)


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _attrs(attrs: dict[str, str]) -> str:
    return "[" + ", ".join(f"{key}={quoted(value)}" for key, value in attrs.items()) + "]"


def to_dot(graph: Graph) -> str:
    lines = [
        f"digraph {quoted(graph.name)} {{",
        '  graph [rankdir="LR", fontname="Helvetica", fontsize="11"];',
        '  node [shape="box", style="rounded", fontname="Helvetica", fontsize="10"];',
        '  edge [fontname="Helvetica", fontsize="9"];',
    ]
    clustered = {node for _, members in graph.clusters.values() for node in members}
    for index, (label, members) in enumerate(graph.clusters.values()):
        lines.append(f"  subgraph cluster_{index} {{")
        lines.append(f"    label={quoted(label)};")
        lines += [f"    {quoted(n)} {_attrs(graph.nodes[n])};" for n in members]
        lines.append("  }")
    lines += [f"  {quoted(n)} {_attrs(a)};" for n, a in graph.nodes.items() if n not in clustered]
    lines += [f"  {quoted(t)} -> {quoted(h)} {_attrs(a)};" for t, h, a in graph.edges]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _database(config: StackConfig, ref: str) -> tuple[str, str]:
    services = config.services
    if services.external_postgres is not None:
        return "external-postgres", "SQL"
    if services.mariadb is not None:
        return "mariadb", "SQL"
    if ref == "database.url" and services.pgbouncer is not None:
        return "pgbouncer", "SQL (pooled)"
    return "postgres", "SQL (direct)" if ref == "database.directUrl" else "SQL"


def _ref_target(config: StackConfig, ref: str) -> tuple[str, str] | None:
    """(node, label) of what a variable that references `ref` connects to, if anything."""
    kind, _, rest = ref.partition(".")
    if kind == "database":
        return _database(config, ref)
    targets = {
        "redis": ("redis", "RESP"),
        "s3": None if rest in ("endpoint", "publicUrl") else ("minio", "S3"),
        "apps": (f"app:{rest.split('.')[0]}", "HTTPS"),
    }
    return targets.get(kind)


# The cluster that draws each kind of host.
CLUSTERS = {"main": "server", "database": "database", "app": "apps"}


def _cluster_of(hosts: Hosts, service: str) -> str | None:
    """Which server draws the service: the one the topology runs it on, or none (external)."""
    if service == "external-postgres":
        return None
    what = DATABASES if service in DATABASE_SERVICES else service  # minio, uptime-kuma
    return CLUSTERS[hosts.running(what)[0].role]


def architecture(config: StackConfig, stack: str) -> Graph:
    spec = config.server.spec
    graph = Graph(name=f"{stack}")
    server = (
        f"Hetzner {spec.name} in {config.server.location}: {spec.vcpus} vCPU, {spec.memory_gb} GB"
    )
    graph.clusters["server"] = (server, [])
    graph.clusters["cloudflare"] = ("Cloudflare DNS " + config.zone_name, [])
    graph.node("users", "users (browsers)", shape="ellipse", style="solid")
    graph.node("proxy", "Coolify proxy (Traefik)\n:80 :443", "server")
    graph.node("coolify", "Coolify " + config.coolify.version, "server")
    _firewall_and_ssh(config, graph)
    hosts = config.hosts  # one value for every part of the drawing
    if (database := hosts.database) is not hosts.main:
        graph.clusters["database"] = (
            f"database server: Hetzner {database.server.spec.name}, private network only",
            [],
        )
    app_cluster, app_proxy = _app_servers(hosts, graph)
    for name in config.services.enabled():
        graph.node(name, SERVICE_LABELS[name], _cluster_of(hosts, name))
    for app in config.apps:
        git = app.git
        source = f"{git.dockerfile} @ {git.branch}" if git else f"image {app.image}"
        graph.node(
            f"app:{app.name}", f"app {app.name}\n{source}", app_cluster, style="rounded,bold"
        )
        if git is not None:
            graph.node(f"git:{git.repository}", git.repository, shape="note", style="solid")
            graph.edge("coolify", f"git:{git.repository}", "pulls & builds", **OPERATIONS)
        graph.edge("coolify", f"app:{app.name}", "deploys", **OPERATIONS)

    _hostnames(config, hosts, graph, app_proxy)

    if config.services.pgbouncer is not None:
        graph.edge("pgbouncer", "postgres", "pool", **SERVICE)
    for app in config.apps:
        for _, _, value in app.references():
            if isinstance(value, RefValue):
                target = _ref_target(config, value.ref)
                if target is not None and target[0] != f"app:{app.name}":
                    graph.edge(f"app:{app.name}", *target, **SERVICE)
        if config.services.uptime_kuma is not None and app.domains:
            graph.edge("uptime-kuma", f"app:{app.name}", "checks", **MONITORING)
    _operations(config, hosts, graph)
    _legend(graph)
    return graph


def _hostnames(config: StackConfig, hosts: Hosts, graph: Graph, app_proxy: str) -> None:
    """The browsers' way: hostname, firewall (or load balancer), proxy, what serves it."""
    owners = {"coolify dashboard": "coolify", "minio S3 API": "minio", "minio console": "minio"}
    owners["uptime-kuma status page"] = "uptime-kuma"
    balancing = hosts.load_balancing
    balanced = balancing.hostnames if balancing is not None else ()
    for host in config.served_hostnames():
        owner = owners.get(host.owner) or "app:" + host.owner.removeprefix("app ")
        via = "proxied" if host.proxied else "DNS only"
        graph.node(f"host:{host.fqdn}", f"{host.fqdn}\n({via})", "cloudflare", shape="plain")
        graph.edge("users", f"host:{host.fqdn}", **BROWSER)
        if host in balanced:
            graph.edge(f"host:{host.fqdn}", "load-balancer", **BROWSER)
        else:
            graph.edge(f"host:{host.fqdn}", "firewall", **BROWSER)
            graph.edge("firewall", "proxy", "80, 443", **BROWSER)
        graph.edge(app_proxy if host in balanced else "proxy", owner, host.fqdn, **BROWSER)


def _firewall_and_ssh(config: StackConfig, graph: Graph) -> None:
    """The Hetzner firewall in front of the server, and the one way in that is not HTTP(S):
    SSH from ssh.adminCidrs, which `pulumi up` also takes to reach Coolify's API."""
    graph.node(
        "firewall", "Hetzner Cloud Firewall\nin: 80, 443, ICMP; 22 from ssh.adminCidrs",
        shape="box", style="dashed",
    )  # fmt: skip
    graph.node(
        "admins", "admins, `pulumi up`\n" + "\n".join(config.ssh.admin_cidrs),
        shape="ellipse", style="solid",
    )  # fmt: skip
    graph.node("sshd", "sshd (keys only)", "server")
    graph.edge("admins", "firewall", "SSH 22", **ADMIN)
    graph.edge("firewall", "sshd", "SSH 22", **ADMIN)
    graph.edge("sshd", "coolify", "tunnel to its API :8000", **ADMIN)


def _legend(graph: Graph) -> None:
    graph.clusters["legend"] = ("legend", [])
    for index, (meaning, attrs) in enumerate(LEGEND):
        graph.node(f"legend:{index}", "", "legend", shape="point", width="0.05")
        graph.node(f"legend:{index}:text", meaning, "legend", shape="plain")
        graph.edge(f"legend:{index}", f"legend:{index}:text", **attrs)


def _app_servers(hosts: Hosts, graph: Graph) -> tuple[str, str]:
    """The app servers and their load balancer, if any; (the cluster the apps are drawn in,
    the proxy in front of them)."""
    app_servers, balancing = hosts.app_servers, hosts.load_balancing
    if not app_servers or balancing is None:
        return "server", "proxy"
    balancer = balancing.config
    graph.clusters["apps"] = (
        f"{len(app_servers)} app servers: Hetzner {app_servers[0].server.spec.name} each, "
        "every app on each, private network only",
        [],
    )
    graph.node("app-proxy", "Coolify proxy (Traefik)\non each", "apps")
    graph.node(
        "load-balancer", f"Hetzner load balancer {balancer.type}\nTLS {balancer.tls}",
        shape="box", style="solid",
    )  # fmt: skip
    graph.edge("load-balancer", "app-proxy", "private network", **BROWSER)
    return "apps", "app-proxy"


def _operations(config: StackConfig, hosts: Hosts, graph: Graph) -> None:
    """What watches and what backs up the services."""
    if config.services.uptime_kuma is not None:
        for name in ("postgres", "pgbouncer", "redis", "mariadb", "minio"):
            if name in config.services.enabled():
                graph.edge("uptime-kuma", name, "checks", **MONITORING)
    if config.backups is not None:
        offsite = config.backups.offsite
        graph.node(
            "offsite", f"off-site storage\n{offsite.bucket}", shape="cylinder", style="solid"
        )
        on = CLUSTERS[hosts.database.role]  # the jobs run beside the database
        graph.node("backup-jobs", "backup jobs (systemd timers)", on)
        graph.edge("backup-jobs", "postgres", "pg_dump, drill", **OPERATIONS)
        graph.edge("backup-jobs", "offsite", "dumps", **OPERATIONS)
        if config.minio_bucket_names() and config.backups.minio is not None:
            graph.edge("backup-jobs", "minio", "mirror", **OPERATIONS)
        if config.services.uptime_kuma is not None:
            graph.edge("backup-jobs", "uptime-kuma", "push", **MONITORING)


def render(dot_text: str, folder: Path, stem: str = "architecture") -> list[Path]:
    """Write the DOT source and Graphviz's PNG and SVG of it into `folder`."""
    dot = shutil.which("dot")
    if dot is None:
        raise FileNotFoundError("Graphviz's `dot` is not installed (apt-get install graphviz)")
    source = folder / f"{stem}.dot"
    source.write_text(dot_text)
    written = [source]
    for fmt in ("png", "svg"):
        target = folder / f"{stem}.{fmt}"
        subprocess.run([dot, f"-T{fmt}", "-o", str(target), str(source)], check=True)
        written.append(target)
    return written
