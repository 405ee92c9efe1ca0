"""Coolify on the server: installed over SSH, bootstrapped for the API, and its project.

Every step is a script from render/scripts/ run by pulumi-command as root with the stack's
automation key; each is safe to run again and runs again when the server is replaced
(`triggers`). The first step pins the server's host key for all later ones. Secrets (the root
user's password, the API token, the origin certificate's key) travel on stdin only; the steps
that read them log nothing.
"""

from __future__ import annotations

import pulumi
import pulumi_command as command
import pulumi_random as random

from components.remote import remote_step
from components.server import Server as HetznerServer
from components.tls import OriginCertificate
from config import CoolifyConfig
from coolify.providers import b64
from coolify.resources import (
    Connection,
    Environment,
    Project,
    RemoteServer,
    Server,
    long_wait_provider,
)
from render.coolify_files import (
    COOLIFY_DIR,
    compose_override,
    origin_certificate_config,
)
from render.remote import remote_script
from render.yaml_text import dump_yaml

# Coolify's rules for the root password: mixed case, digits and symbols; and install.sh
# writes it with sed into an .env file, so none of | & \ $ # quotes or spaces.
ROOT_PASSWORD_SYMBOLS = "-_.+:,@%!"  # noqa: S105 -- the alphabet, not a password


def _line(secret: pulumi.Output[str]) -> pulumi.Output[str]:
    return secret.apply(lambda value: f"{value}\n")


def cloud_init_done(
    name: str,
    *,
    host: pulumi.Input[str],
    host_key: pulumi.Input[str],
    private_key: pulumi.Input[str],
    server_id: pulumi.Input[str],
    parent: pulumi.Resource,
) -> tuple[command.remote.Command, command.remote.ConnectionArgs]:
    """The first contact with a new server: wait over SSH until cloud-init has finished; then
    the connection for every later step. Both pin `host_key`, the host key the stack made for
    the server (cloud-init installed it), so no connection trusts an unverified key."""
    pinned = command.remote.ConnectionArgs(
        host=host, user="root", private_key=private_key, host_key=host_key,
        dial_error_limit=20, per_dial_timeout=10,
    )  # fmt: skip
    wait = command.remote.Command(
        name,
        # A new server takes a while to answer SSH: more tries than a later step's.
        connection=command.remote.ConnectionArgs(
            host=host,
            user="root",
            private_key=private_key,
            host_key=host_key,
            dial_error_limit=60,
            per_dial_timeout=10,
        ),
        create=remote_script("wait-cloud-init"),
        add_previous_output_in_env=False,  # sshd refuses PULUMI_COMMAND_STDOUT (AcceptEnv)
        triggers=[server_id],
        opts=pulumi.ResourceOptions(
            parent=parent, custom_timeouts=pulumi.CustomTimeouts(create="25m", update="25m")
        ),
    )
    return wait, pinned


def install_origin_certificate(
    name: str,
    *,
    connection: command.remote.ConnectionArgs,
    certificate: OriginCertificate,
    server_id: pulumi.Input[str],
    after: list[pulumi.Resource],
    parent: pulumi.Resource,
) -> command.remote.Command:
    """Put the Cloudflare origin certificate where the server's Traefik serves it; the key
    travels on stdin and the step logs nothing."""
    return remote_step(
        name,
        connection=connection,
        create=remote_script(
            "install-origin-cert",
            COOLIFY_DIR=COOLIFY_DIR,
            DYNAMIC_CONFIG=b64(origin_certificate_config()),
        ),
        server_id=server_id,
        after=after,
        parent=parent,
        stdin=pulumi.Output.concat(certificate.private_key_pem, certificate.certificate_pem),
    )


class CoolifyInstall(pulumi.ComponentResource):
    # secret: what the coolify resources connect with; it carries the API bootstrap as a
    # dependency, so nothing reaches Coolify before it is installed and its token stored
    connection: Connection
    root_password: pulumi.Output[str]  # secret: the dashboard's root user logs in with it
    ssh: command.remote.ConnectionArgs  # root on the server, its host key pinned

    def __init__(
        self,
        name: str,
        *,
        coolify: CoolifyConfig,
        root_email: str,
        dashboard_url: str,
        server: HetznerServer,
        origin_certificate: OriginCertificate | None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`server`: where Coolify goes (reached as root with the stack's automation key)."""
        super().__init__("platform:index:CoolifyInstall", name, None, opts)
        host, server_id = server.ipv4, server.server_id
        private_key = server.automation_private_key
        child = pulumi.ResourceOptions(parent=self)
        root_password = random.RandomPassword(
            f"{name}-root-password", length=32, override_special=ROOT_PASSWORD_SYMBOLS,
            min_upper=2, min_lower=2, min_numeric=2, min_special=2, opts=child,
        )  # fmt: skip
        # Only its sha256 reaches Coolify's database; the plain value stays in the state.
        api_token = random.RandomPassword(f"{name}-api-token", length=48, special=False, opts=child)

        wait, pinned = cloud_init_done(
            f"{name}-wait-cloud-init",
            host=host,
            host_key=server.host_public_key,
            private_key=private_key,
            server_id=server_id,
            parent=self,
        )
        self.installed = install = remote_step(
            f"{name}-install",
            connection=pinned,
            create=remote_script(
                "install-coolify",
                VERSION=coolify.version,
                SCRIPT_SHA256=coolify.installer_sha256,
                ROOT_USERNAME=coolify.root_username,
                ROOT_USER_EMAIL=root_email,
                POOL_BASE=coolify.docker_address_pool,
                COOLIFY_DIR=COOLIFY_DIR,
                CUSTOM_COMPOSE=b64(dump_yaml(compose_override())),
            ),
            server_id=server_id,
            after=[wait],
            parent=self,
            stdin=_line(root_password.result),
            timeout="30m",
        )
        bootstrap = remote_step(
            f"{name}-bootstrap-api",
            connection=pinned,
            create=remote_script("bootstrap-api", INSTANCE_URL=dashboard_url),
            server_id=server_id,
            after=[install],
            parent=self,
            stdin=_line(api_token.result),
        )
        if origin_certificate is not None:
            install_origin_certificate(
                f"{name}-origin-certificate",
                connection=pinned,
                certificate=origin_certificate,
                server_id=server_id,
                after=[install],
                parent=self,
            )
        connection = pulumi.Output.from_input(
            {
                "url": dashboard_url,
                "token": api_token.result,
                "ssh": {
                    "host": host,
                    "port": 22,
                    "user": "root",
                    "private_key": private_key,
                    "host_key": server.host_public_key,
                },
            }
        )
        # The connection carries the bootstrap as a dependency: whatever takes it (a deploy
        # key, a project) waits for the API and its token, without having to say so.
        self.connection = Connection(
            value=pulumi.Output.secret(
                pulumi.Output.all(connection, bootstrap.id).apply(lambda both: both[0])
            ),
            host=server.instance,
            long_waits=long_wait_provider(
                f"{name}-long-waits", pulumi.ResourceOptions(parent=self)
            ),
        )
        self.root_password = root_password.result
        self.ssh = pinned
        self.register_outputs({"dashboardUrl": dashboard_url})


class CoolifyProject(pulumi.ComponentResource):
    """The stack's Coolify project and environment, where its databases, services and apps go,
    and the settings of the server they run on (its disk-usage alert)."""

    server_uuid: pulumi.Output[str]  # Coolify's own server, where resources are placed
    project_uuid: pulumi.Output[str]
    environment_uuid: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        connection: Connection,
        project_name: str,
        environment_name: str,
        disk_alert_percent: int,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("platform:index:CoolifyProject", name, None, opts)
        project = Project(
            f"{name}-project",
            connection=connection,
            project_name=project_name,
            description="Managed by Pulumi",
            opts=pulumi.ResourceOptions(parent=self),
        )
        environment = Environment(
            f"{name}-environment",
            connection=connection,
            project_uuid=project.id,
            environment_name=environment_name,
            opts=pulumi.ResourceOptions(parent=self),
        )
        server = Server(
            f"{name}-server",
            connection=connection,
            settings={"server_disk_usage_notification_threshold": disk_alert_percent},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.server_uuid = server.id
        self.project_uuid = project.id
        self.environment_uuid = environment.id
        self.register_outputs({"projectUuid": project.id, "environmentUuid": environment.id})


class CoolifyServer(pulumi.ComponentResource):
    """Another server of the stack in Coolify (the database server, an app server): once
    cloud-init has finished on it, Coolify adds it at its private address with the stack's
    automation key, installs Docker on it and validates it, which starts its proxy if it has
    one. Coolify's own server reaches it over the private network, so its firewall needs no
    port but SSH from the admins. An app server that ends TLS itself gets the origin
    certificate."""

    uuid: pulumi.Output[str]
    ssh: command.remote.ConnectionArgs  # root on that server, its host key pinned

    def __init__(
        self,
        name: str,
        *,
        connection: Connection,
        server: HetznerServer,
        key_uuid: pulumi.Input[str],
        proxy_type: str,
        disk_alert_percent: int,
        origin_certificate: OriginCertificate | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`server`: the server to add, on the private network; `key_uuid`: the stack's
        automation key in Coolify."""
        super().__init__("platform:index:CoolifyServer", name, None, opts)
        assert server.private_ipv4 is not None  # on the private network, by the config
        wait, self.ssh = cloud_init_done(
            f"{name}-wait-cloud-init",
            host=server.ipv4,
            host_key=server.host_public_key,
            private_key=server.automation_private_key,
            server_id=server.server_id,
            parent=self,
        )
        self.ready = wait  # cloud-init is done: later steps find the server set up
        remote = RemoteServer(
            f"{name}-server",
            connection=connection,
            props={
                "machine_id": server.server_id,
                "name": server.hostname,
                "description": "Managed by Pulumi",
                "ip": server.private_ipv4,
                "port": 22,
                "user": "root",
                "private_key_uuid": key_uuid,
                "proxy_type": proxy_type,
                "settings": {"server_disk_usage_notification_threshold": disk_alert_percent},
            },
            # The server component holds its private network attachment, which Coolify needs.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[wait, server]),
        )
        if origin_certificate is not None:
            install_origin_certificate(
                f"{name}-origin-certificate",
                connection=self.ssh,
                certificate=origin_certificate,
                server_id=server.server_id,
                after=[wait],
                parent=self,
            )
        self.uuid = remote.id
        self.register_outputs({"uuid": remote.id})
