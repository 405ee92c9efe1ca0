"""Composition only: validated config -> server -> DNS -> Coolify -> data, monitoring,
backups -> apps -> outputs."""

import pulumi

from components.apps import Apps, PlatformValues
from components.backups import Backups
from components.coolify import CoolifyInstall, CoolifyProject, CoolifyServer
from components.data import DatabaseHost, DataServices
from components.dns import Dns
from components.monitoring import Monitoring
from components.network import PrivateNetwork
from components.server import Server, label_value, server_name
from components.tls import OriginCertificate
from config import load_stack_config
from config.secrets import read_secret_bag
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
Dns(
    "dns",
    dns=config.dns,
    zone_name=config.zone_name,
    hostnames=hostnames,
    ipv4=server.ipv4,
    ipv6=server.ipv6,
    stack=f"{project}/{stack}",
)
coolify = CoolifyInstall(
    "coolify",
    coolify=config.coolify,
    root_email=config.coolify_root_email,
    dashboard_url=config.dashboard_url,
    host=server.ipv4,
    server_id=server.server_id,
    private_key=server.automation_private_key,
    origin_certificate=OriginCertificate("origin", hostnames=proxied) if proxied else None,
)
coolify_project = CoolifyProject(
    "coolify-project",
    connection=coolify.connection,
    project_name=project,
    environment_name=stack,
    disk_alert_percent=config.coolify.disk_alert_percent,
    ready=coolify.ready,
)
placement = {
    "server_uuid": coolify_project.server_uuid,
    "project_uuid": coolify_project.project_uuid,
    "environment_uuid": coolify_project.environment_uuid,
}
database_host, database_ssh = None, None
if database_server is not None and database_server.private_ipv4 is not None:
    database_in_coolify = CoolifyServer(
        "coolify-database-server",
        connection=coolify.connection,
        server_name=f"{hostname}-db",
        public_ip=database_server.ipv4,
        private_ip=database_server.private_ipv4,
        server_id=database_server.server_id,
        private_key=server.automation_private_key,
        key_uuid=PrivateKey(
            "automation-key",
            connection=coolify.connection,
            key_name=f"{hostname}-automation",
            private_key=server.automation_private_key,
            opts=pulumi.ResourceOptions(depends_on=[coolify.ready]),
        ).id,
        proxy_type="none",  # it serves no web traffic
        ready=coolify.ready,
    )
    database_host = DatabaseHost(database_in_coolify.uuid, database_server.private_ipv4)
    database_ssh = database_in_coolify.ssh
data = DataServices(
    "data",
    services=config.services,
    apps=config.apps,
    minio_urls=config.minio_urls,
    connection=coolify.connection,
    placement=placement,
    protect=config.server.delete_protection,
    database_host=database_host,
)
secrets = read_secret_bag() if config.secret_names() else None
monitoring = (
    Monitoring(
        "monitoring",
        uptime_kuma=config.services.uptime_kuma,
        url=config.status_url,
        app_urls=config.app_health_urls(),
        probes=data.probes,
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

pulumi.export("serverName", hostname)
pulumi.export("serverIpv4", server.ipv4)
pulumi.export("serverIpv6", server.ipv6)
if server.private_ipv4 is not None:
    pulumi.export("serverPrivateIpv4", server.private_ipv4)
if database_server is not None:
    pulumi.export("databaseServerIpv4", database_server.ipv4)
    pulumi.export("databaseServerPrivateIpv4", database_server.private_ipv4)
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
