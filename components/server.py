"""The Hetzner server: SSH keys, a firewall attached at creation, and the server itself."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi
import pulumi_hcloud as hcloud
import pulumi_tls as tls

from config import ServerConfig, SshConfig
from render.cloud_init import HostKey, cloud_init, dump_user_data

ANYWHERE = ("0.0.0.0/0", "::/0")


@dataclass(frozen=True)
class FirewallRule:
    description: str
    protocol: str
    port: str | None
    source_ips: tuple[str, ...]


def firewall_rules(ssh: SshConfig, web: bool = True) -> list[FirewallRule]:
    """Inbound rules, the whole list: Hetzner's firewall drops every other inbound packet.

    Never 8000/6001/6002 (Coolify's dashboard and realtime ports, reached through HTTPS only)
    and never a database port: Docker publishes container ports past the host's own firewall,
    so this cloud firewall is the boundary (the private network's traffic does not cross it).
    A server that serves no web traffic (the database server) opens 80 and 443 neither.
    Outbound stays open (apt, image pulls, git)."""
    rules = [FirewallRule("SSH from the admin networks", "tcp", "22", tuple(ssh.admin_cidrs))]
    if web:
        rules += [
            FirewallRule("HTTP (redirects, ACME)", "tcp", "80", ANYWHERE),
            FirewallRule("HTTPS", "tcp", "443", ANYWHERE),
        ]
    return [*rules, FirewallRule("ICMP (ping, path MTU discovery)", "icmp", None, ANYWHERE)]


def label_value(text: str) -> str:
    """Hetzner label values: at most 63 characters of [a-zA-Z0-9-_.], alphanumeric at the ends."""
    return re.sub(r"[^a-zA-Z0-9_.-]", "-", text)[:63].strip("-_.")


def server_name(server: ServerConfig, project: str, stack: str) -> str:
    """The configured name, or <project>-<stack> made into a hostname."""
    if server.name:
        return server.name
    return re.sub(r"[^a-z0-9-]+", "-", f"{project}-{stack}".lower()).strip("-")[:63]


class Server(pulumi.ComponentResource):
    """One Hetzner server, hardened by cloud-init on its first boot.

    A cloud-init or SSH-key edit never replaces the live server (`ignore_changes`): both apply
    to a new server only. With delete protection (the default) Pulumi refuses to delete it and
    Hetzner refuses to delete or rebuild it."""

    hostname: str
    ipv4: pulumi.Output[str]
    ipv6: pulumi.Output[str]
    server_id: pulumi.Output[str]
    host_public_key: pulumi.Output[str]  # its SSH host key ("ssh-ed25519 AAAA..."), to pin
    user_data: pulumi.Output[str]  # secret: cloud-init's document, with the host key
    instance: hcloud.Server  # what lives only on it (Coolify's resources) is deleted with it
    automation_private_key: pulumi.Output[str]  # secret: root's key for automation

    def __init__(
        self,
        name: str,
        *,
        server: ServerConfig,
        ssh: SshConfig,
        hostname: str,
        docker_address_pool: str,
        labels: dict[str, str],
        private_network: tuple[pulumi.Input[str], str] | None = None,
        web: bool = True,
        keys_from: Server | None = None,
        role: str = "platform",
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`private_network`: (the subnet's id, this server's fixed address in it), if any;
        `web`: whether it serves HTTP(S); `keys_from`: the stack's first server, whose
        automation key and registered SSH keys this one takes (Hetzner registers a public key
        once per project, and Coolify reaches every server with the one automation key)."""
        super().__init__("platform:index:Server", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.hostname = hostname

        # A new public key replaces the SSH key, and Hetzner refuses a second key of the same
        # name: the old one goes first. (The server keeps running: its ssh_keys are ignored.)
        replaced_by_name = pulumi.ResourceOptions(parent=self, delete_before_replace=True)
        if keys_from is None:
            # The stack's own key for pulumi-command and the Coolify tunnel: nobody's laptop key
            # is needed to run `pulumi up`, and its private half lives only in the encrypted
            # state.
            automation = tls.PrivateKey(f"{name}-automation-key", algorithm="ED25519", opts=child)
            automation_key = hcloud.SshKey(
                f"{name}-key-automation",
                name=f"{hostname}-automation",
                public_key=automation.public_key_openssh.apply(str.strip),
                labels=labels,
                opts=replaced_by_name,
            )
            keys = [
                hcloud.SshKey(
                    f"{name}-key-{key.name}",
                    # Names are unique per Hetzner project; the hostname keeps stacks apart.
                    name=f"{hostname}-{key.name}",
                    public_key=key.public_key,
                    labels=labels,
                    opts=replaced_by_name,
                )
                for key in ssh.authorized_keys
            ]
            self.ssh_key_ids: list[pulumi.Output[str]] = [automation_key.id, *(k.id for k in keys)]
            self.automation_private_key = automation.private_key_openssh
        else:
            self.ssh_key_ids = keys_from.ssh_key_ids
            self.automation_private_key = keys_from.automation_private_key
        firewall = hcloud.Firewall(
            f"{name}-firewall",
            name=hostname,
            labels=labels,
            rules=[
                hcloud.FirewallRuleArgs(
                    direction="in",
                    protocol=rule.protocol,
                    port=rule.port,
                    source_ips=list(rule.source_ips),
                    description=rule.description,
                )
                for rule in firewall_rules(ssh, web)
            ],
            opts=child,
        )
        # Its SSH host key, made here so that the first contact already pins it (no trust on
        # first use); the user data carries its private half, so the user data is secret.
        host_key = tls.PrivateKey(f"{name}-host-key", algorithm="ED25519", opts=child)
        self.host_public_key = host_key.public_key_openssh.apply(
            lambda text: " ".join(text.split()[:2])
        )
        # Coolify installs Docker on the other servers itself: they get Docker's settings here.
        self.user_data = pulumi.Output.all(
            host_key.private_key_openssh, host_key.public_key_openssh
        ).apply(
            lambda keys: dump_user_data(
                cloud_init(
                    server, ssh, docker_address_pool, HostKey(*keys),
                    docker_settings=keys_from is not None,
                )
            )
        )  # fmt: skip
        protected = server.delete_protection
        instance = hcloud.Server(
            f"{name}-server",
            name=hostname,
            server_type=server.type,
            image=server.image,
            location=server.location,
            ssh_keys=self.ssh_key_ids,
            # Attached at creation, so the server never boots without its firewall.
            firewall_ids=[firewall.id.apply(int)],
            user_data=self.user_data,
            backups=server.backups,
            delete_protection=protected,
            rebuild_protection=protected,
            public_nets=[hcloud.ServerPublicNetArgs(ipv4_enabled=True, ipv6_enabled=True)],
            labels={**labels, "role": role},
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=protected,
                # Either change would replace the server and lose its data; both only matter
                # on the first boot anyway.
                ignore_changes=["user_data", "ssh_keys"],
                # The explicit name would collide if the new server were created first.
                delete_before_replace=True,
            ),
        )
        self.private_ipv4: str | None = None
        if private_network is not None:
            subnet_id, address = private_network
            # Its own resource, not the server's `networks` input: attaching or detaching
            # never touches the server (pulumi-hcloud#170: inline networks replace it).
            hcloud.ServerNetwork(
                f"{name}-private-network",
                server_id=instance.id.apply(int),
                subnet_id=subnet_id,
                ip=address,
                opts=child,
            )
            self.private_ipv4 = address
        self.ipv4 = instance.ipv4_address
        self.ipv6 = instance.ipv6_address
        self.server_id = instance.id
        self.instance = instance
        self.register_outputs({"ipv4": self.ipv4, "ipv6": self.ipv6, "serverId": self.server_id})
