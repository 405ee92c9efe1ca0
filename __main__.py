"""Composition only: validated config -> server -> DNS -> stack outputs."""

import pulumi

from components.dns import Dns
from components.server import Server, label_value, server_name
from config import load_stack_config

config = load_stack_config()  # fails with every problem named before any resource exists
project, stack = pulumi.get_project(), pulumi.get_stack()
hostname = server_name(config.server, project, stack)
hostnames = config.served_hostnames()

server = Server(
    "server",
    server=config.server,
    ssh=config.ssh,
    hostname=hostname,
    docker_address_pool=config.coolify.docker_address_pool,
    labels={"managed-by": "pulumi", "project": label_value(project), "stack": label_value(stack)},
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

pulumi.export("serverName", hostname)
pulumi.export("serverIpv4", server.ipv4)
pulumi.export("serverIpv6", server.ipv6)
pulumi.export("hostnames", [host.fqdn for host in hostnames])
