"""Composition only: validated config -> servers (and the app servers' load balancer) -> DNS
-> Coolify -> data, monitoring, backups -> apps -> outputs."""

import pulumi

from components.apps import Apps, AppServers, PlatformValues
from components.backups import Backups
from components.coolify import CoolifyInstall, CoolifyProject, CoolifyServer
from components.data import DatabaseHost, DataServices, Probe
from components.dns import Dns, Origin
from components.imports import Imports
from components.load_balancer import HTTP_PORT, HTTPS_PORT, LoadBalancer
from components.monitoring import Monitoring
from components.network import PrivateNetwork
from components.server import Server, label_value, server_name
from components.tls import OriginCertificate
from components.volumes import DataVolume
from config import load_stack_config
from config.secrets import read_secret, read_secret_bag
from coolify.resources import PrivateKey
from render.backups import push_intervals

config = load_stack_config()  # fails with every problem named before any resource exists
project, stack = pulumi.get_project(), pulumi.get_stack()
hostname = server_name(config.server, project, stack)
hostnames = config.served_hostnames()
proxied = [host.fqdn for host in hostnames if host.proxied]

labels = {"managed-by": "pulumi", "project": label_value(project), "stack": label_value(stack)}
network = (
    PrivateNetwork(
        "network",
        network=config.network,
        network_name=hostname,
        location=config.server.location,
        labels=labels,
        protect=config.server.delete_protection,
    )
    if config.network is not None
    else None
)
server = Server(
    "server",
    server=config.server,
    ssh=config.ssh,
    hostname=hostname,
    docker_address_pool=config.coolify.docker_address_pool,
    labels=labels,
    private_network=(
        (network.subnet_id, config.network.address(0))
        if network is not None and config.network is not None
        else None
    ),
)
database_server_config = config.database_server_config
database_server = (
    Server(
        "database-server",
        server=database_server_config,
        ssh=config.ssh,
        hostname=f"{hostname}-db",
        docker_address_pool=config.coolify.docker_address_pool,
        labels=labels,
        private_network=(network.subnet_id, config.network.address(1)),
        web=False,  # SSH from the admins only: the apps reach it over the private network
        keys_from=server,
        role="database",
    )
    if database_server_config is not None and network is not None and config.network is not None
    else None
)
app_server_config = config.app_server_config
app_servers = (
    [
        Server(
            f"app-server-{number}",
            server=app_server_config,
            ssh=config.ssh,
            hostname=f"{hostname}-app-{number}",
            docker_address_pool=config.coolify.docker_address_pool,
            labels=labels,
            private_network=(network.subnet_id, address),
            web=False,  # SSH from the admins only: the load balancer comes over the network
            keys_from=server,
            role="app",
        )
        for number, address in enumerate(config.app_server_addresses(), start=1)
    ]
    if app_server_config is not None and network is not None
    else []
)
origin = OriginCertificate("origin", hostnames=proxied) if proxied else None
balanced = config.load_balanced_hostnames()
origins = [Origin([host for host in hostnames if host not in balanced], server.ipv4, server.ipv6)]
load_balancer = None
terminated = config.app_servers is not None and config.app_servers.load_balancer.tls == "terminate"
if config.app_servers is not None and network is not None and origin is not None:
    checked = config.health_checked_app()
    load_balancer = LoadBalancer(
        "load-balancer",
        load_balancer=config.app_servers.load_balancer,
        balancer_name=hostname,
        location=config.server.location,
        subnet_id=network.subnet_id,
        address=config.load_balancer_address(),
        targets=app_servers,
        health_host=config.fqdn(checked.domains[0].host),
        health_path=checked.health.path if checked.health else "/",
        origin_certificate=origin,
        labels=labels,
        protect=config.server.delete_protection,
    )
    origins.append(Origin(balanced, load_balancer.ipv4, load_balancer.ipv6))
Dns(
    "dns",
    dns=config.dns,
    zone_name=config.zone_name,
    origins=origins,
    stack=f"{project}/{stack}",
)
coolify = CoolifyInstall(
    "coolify",
    coolify=config.coolify,
    root_email=config.coolify_root_email,
    dashboard_url=config.dashboard_url,
    server=server,
    origin_certificate=origin,
)
coolify_project = CoolifyProject(
    "coolify-project",
    connection=coolify.connection,
    project_name=project,
    environment_name=stack,
    disk_alert_percent=config.coolify.disk_alert_percent,
)
placement = {
    "server_uuid": coolify_project.server_uuid,
    "project_uuid": coolify_project.project_uuid,
    "environment_uuid": coolify_project.environment_uuid,
}
# Coolify reaches the other servers with the stack's automation key, stored in it once.
automation_key = (
    PrivateKey(
        "automation-key",
        connection=coolify.connection,
        key_name=f"{hostname}-automation",
        private_key=server.automation_private_key,
    ).id
    if database_server is not None
    else None
)
database_host, database_ssh, database_ready = None, None, []
if (
    database_server is not None
    and database_server.private_ipv4 is not None
    and automation_key is not None
):
    database_in_coolify = CoolifyServer(
        "coolify-database-server",
        connection=coolify.connection,
        server=database_server,
        key_uuid=automation_key,
        disk_alert_percent=config.coolify.disk_alert_percent,
        proxy_type="none",  # it serves no web traffic
    )
    database_host = DatabaseHost(database_in_coolify.uuid, database_server.private_ipv4)
    database_ssh = database_in_coolify.ssh
    database_ready = [database_in_coolify.ready]
app_servers_in_coolify = [
    CoolifyServer(
        f"coolify-app-server-{number}",
        connection=coolify.connection,
        server=app_server,
        key_uuid=automation_key,
        disk_alert_percent=config.coolify.disk_alert_percent,
        proxy_type="traefik",
        # Passthrough: each app server's Traefik ends TLS, as the server's does.
        origin_certificate=None if terminated else origin,
    )
    for number, app_server in enumerate(app_servers, start=1)
    if automation_key is not None
]
# Hetzner Volumes for the data services that ask for one, on the servers they run on.
volumes = {
    service: DataVolume(
        f"{service}-volume",
        service=service,
        volume=volume,
        hostname=on_server.hostname,
        location=config.server.location,
        server_id=on_server.server_id,
        ssh=ssh,
        labels=labels,
        protect=config.server.delete_protection,
        after=[coolify.installed, *ready],
    )
    for service, volume, on_server, ssh, ready in (
        ("minio", config.services.minio_volume, server, coolify.ssh, []),
        ("postgres", config.services.postgres_volume, database_server or server,
         database_ssh or coolify.ssh, database_ready),
    )
    if volume is not None
}  # fmt: skip
data = DataServices(
    "data",
    services=config.services,
    apps=config.apps,
    minio_urls=config.minio_urls,
    connection=coolify.connection,
    placement=placement,
    protect=config.server.delete_protection,
    database_host=database_host,
    # The jobs on the database server and the apps on app servers reach MinIO there.
    minio_address=server.private_ipv4 if database_server is not None else None,
    volumes=volumes,
)
secrets = read_secret_bag() if config.secret_names() else None
# Each app server's proxy is watched too: the load balancer hides a server that is down.
app_server_probes = [
    Probe(f"app server {app_server.hostname}", pulumi.Output.from_input(address),
          HTTP_PORT if terminated else HTTPS_PORT)
    for app_server in app_servers
    if (address := app_server.private_ipv4) is not None
]  # fmt: skip
monitoring = (
    Monitoring(
        "monitoring",
        uptime_kuma=config.services.uptime_kuma,
        url=config.status_url,
        app_urls=config.app_health_urls(),
        probes=[*data.probes, *app_server_probes],
        push_intervals=(
            push_intervals(config.backups, minio=bool(config.minio_bucket_names()))
            if config.backups is not None
            else {}
        ),
        secrets=secrets,
        connection=coolify.connection,
        placement=placement,
        protect=config.server.delete_protection,
    )
    if config.services.uptime_kuma is not None
    else None
)
if config.backups is not None and data.backup_source is not None:
    backups = Backups(
        "backups",
        backups=config.backups,
        prefix=config.backups.offsite.prefix or f"{project}/{stack}",
        database=data.backup_source,
        minio_host=data.minio_host,
        minio_buckets=config.minio_bucket_names(),
        minio_root_key=data.minio_root_key,
        push_urls=monitoring.push_urls if monitoring is not None else {},
        # On the server the database runs on.
        ssh=database_ssh or coolify.ssh,
        server_id=(database_server or server).server_id,
        after=data.running,
    )
    pulumi.export("backupSchedules", backups.schedules)

imports = config.imports
if imports.postgres is not None or imports.buckets is not None:
    imported = Imports(
        "imports",
        postgres=(
            (imports.postgres, data.backup_source, read_secret("importSourceUrl"))
            if imports.postgres is not None and data.backup_source is not None
            else None
        ),
        buckets=(
            (
                imports.buckets,
                (read_secret("importAccessKeyId"), read_secret("importSecretAccessKey")),
            )
            if imports.buckets is not None
            else None
        ),
        minio_host=data.minio_host,
        minio_root_key=data.minio_root_key,
        database_ssh=database_ssh or coolify.ssh,
        database_server_id=(database_server or server).server_id,
        minio_ssh=coolify.ssh,
        minio_server_id=server.server_id,
        after=data.running,
    )
    # Each import's one command, as root on the server of `serverName` (or the database
    # server's, for postgres, when there is one).
    pulumi.export("importCommands", imported.commands)

pulumi.export("serverName", hostname)
pulumi.export("serverIpv4", server.ipv4)
pulumi.export("serverIpv6", server.ipv6)
if server.private_ipv4 is not None:
    pulumi.export("serverPrivateIpv4", server.private_ipv4)
if database_server is not None:
    pulumi.export("databaseServerIpv4", database_server.ipv4)
    pulumi.export("databaseServerPrivateIpv4", database_server.private_ipv4)
if app_servers:
    pulumi.export("appServerIpv4s", [app_server.ipv4 for app_server in app_servers])
    pulumi.export("appServerPrivateIpv4s", [app_server.private_ipv4 for app_server in app_servers])
if load_balancer is not None:
    pulumi.export("loadBalancerIpv4", load_balancer.ipv4)
    pulumi.export("loadBalancerIpv6", load_balancer.ipv6)
pulumi.export("hostnames", [host.fqdn for host in hostnames])
pulumi.export("coolifyUrl", config.dashboard_url)
pulumi.export("coolifyRootUser", config.coolify_root_email)
pulumi.export("coolifyRootPassword", coolify.root_password)
pulumi.export("coolifyProjectUuid", coolify_project.project_uuid)
pulumi.export("coolifyEnvironmentUuid", coolify_project.environment_uuid)
apps = Apps(
    "apps",
    config=config,
    values=PlatformValues(
        database_url=data.database_url,
        direct_url=data.direct_url,
        redis_url=data.redis_url,
        redis_host=data.redis_host,
        redis_password=data.redis_password,
        s3_endpoint=data.s3_endpoint,
        s3_public_url=data.s3_public_url,
        s3_keys=data.s3_keys,
        secrets=secrets,
    ),
    connection=coolify.connection,
    placement=placement,
    after=data.running,
    github_token=read_secret("githubToken") if config.github_webhooks else None,
    app_servers=(
        AppServers(
            placement={**placement, "server_uuid": app_servers_in_coolify[0].uuid},
            others=[other.uuid for other in app_servers_in_coolify[1:]],
            tls_at_load_balancer=terminated,
        )
        if app_servers_in_coolify
        else None
    ),
)

for output, url in [("databaseUrl", data.database_url), ("directUrl", data.direct_url),
                    ("redisUrl", data.redis_url)]:  # fmt: skip
    if url is not None:
        pulumi.export(output, url)
if data.s3_endpoint is not None and config.services.minio is not None:
    pulumi.export("s3Endpoint", data.s3_endpoint)
    pulumi.export("s3PublicUrl", data.s3_public_url)
    pulumi.export("s3Buckets", config.minio_bucket_names())
    pulumi.export("s3Credentials", data.s3_credentials)
pulumi.export("appUrls", apps.urls)
if monitoring is not None:
    pulumi.export("statusUrl", monitoring.url)
    pulumi.export("uptimeKumaUser", monitoring.username)
    pulumi.export("uptimeKumaPassword", monitoring.password)
    if monitoring.push_urls:
        pulumi.export("pushUrls", pulumi.Output.secret(monitoring.push_urls))
if apps.deploy_keys:
    pulumi.export("deployKeys", apps.deploy_keys)
if apps.webhooks:
    # Each app's push webhook (URL and secret) for its repository's settings.
    pulumi.export("webhooks", apps.webhooks)
