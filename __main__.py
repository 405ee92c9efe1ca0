"""Composition only, one step after the other: validated config -> its hosts (servers, private
network, load balancer) -> DNS -> Coolify, and the other servers in it -> data, monitoring,
backups -> apps -> outputs. Which servers exist and what runs on each is the topology's
(config.hosts): no step here asks which stage the stack is at."""

import pulumi

from components.apps import Apps, PlatformValues
from components.backups import Backups
from components.coolify import CoolifyInstall, CoolifyProject
from components.data import DataServices
from components.dns import Dns
from components.hosts import CoolifyServers, Servers
from components.imports import Imports
from components.monitoring import Monitoring
from components.server import label_value, server_name
from components.tls import OriginCertificate
from components.volumes import DataVolume
from config import load_stack_config
from config.secrets import read_secret, read_secret_bag
from render.backups import push_intervals

config = load_stack_config()  # fails with every problem named before any resource exists
project, stack = pulumi.get_project(), pulumi.get_stack()
hostname = server_name(config.server, project, stack)
hostnames = config.served_hostnames()
proxied = [host.fqdn for host in hostnames if host.proxied]

labels = {"managed-by": "pulumi", "project": label_value(project), "stack": label_value(stack)}
origin = OriginCertificate("origin", hostnames=proxied) if proxied else None
hosts = config.hosts  # which servers, and what runs on each
servers = Servers(
    hosts,
    hostname=hostname,
    network=config.network,
    ssh=config.ssh,
    docker_address_pool=config.coolify.docker_address_pool,
    origin_certificate=origin,
    labels=labels,
)
Dns(
    "dns",
    dns=config.dns,
    zone_name=config.zone_name,
    origins=servers.origins(hostnames),
    stack=f"{project}/{stack}",
)
coolify = CoolifyInstall(
    "coolify",
    coolify=config.coolify,
    root_email=config.coolify_root_email,
    dashboard_url=config.dashboard_url,
    server=servers.main,
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
coolify_servers = CoolifyServers(
    servers,
    coolify=coolify,
    placement=placement,
    disk_alert_percent=config.coolify.disk_alert_percent,
    origin_certificate=origin,
)
# Hetzner Volumes for the data services that ask for one, on the servers they run on.
volumes = {
    service: DataVolume(
        f"{service}-volume",
        service=service,
        volume=volume,
        hostname=reach.server.hostname,
        location=config.server.location,
        server_id=reach.server.server_id,
        ssh=reach.ssh,
        labels=labels,
        protect=config.server.delete_protection,
        after=[coolify.installed, *reach.ready],
    )
    for service, volume, reach in (
        ("minio", config.services.minio_volume, coolify_servers.main),
        ("postgres", config.services.postgres_volume, coolify_servers.database),
    )
    if volume is not None
}
data = DataServices(
    "data",
    services=config.services,
    apps=config.apps,
    minio_urls=config.minio_urls,
    connection=coolify.connection,
    placement=placement,
    protect=config.server.delete_protection,
    database_host=coolify_servers.database_host,
    minio_address=hosts.minio_address,
    volumes=volumes,
)
secrets = read_secret_bag() if config.secret_names() else None
monitoring = (
    Monitoring(
        "monitoring",
        uptime_kuma=config.services.uptime_kuma,
        url=config.status_url,
        app_urls=config.app_health_urls(),
        probes=[*data.probes, *servers.proxy_probes()],
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
        ssh=coolify_servers.database.ssh,
        server_id=coolify_servers.database.server.server_id,
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
        database_ssh=coolify_servers.database.ssh,
        database_server_id=coolify_servers.database.server.server_id,
        minio_ssh=coolify_servers.main.ssh,
        minio_server_id=coolify_servers.main.server.server_id,
        after=data.running,
    )
    # Each import's one command, as root on the server of `serverName` (or the database
    # server's, for postgres, when there is one).
    pulumi.export("importCommands", imported.commands)

pulumi.export("serverName", hostname)
for output, value in servers.outputs().items():
    pulumi.export(output, value)
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
    app_servers=coolify_servers.app_servers,
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
