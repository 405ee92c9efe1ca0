"""Coolify resources for Pulumi programs, over the dynamic providers in coolify.providers.

Each takes the `connection` (a Connection) and its inputs as keyword arguments. Whatever
holds a secret is listed in `additional_secret_outputs`, so it stays secret in state even
where the engine would not carry the secrecy of an input over to the output.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import ResourceProvider

from coolify.providers import (
    WEBHOOK_SECRET_FIELDS,
    ApplicationProvider,
    DatabaseProvider,
    DeployProvider,
    EnvironmentProvider,
    EnvVarsProvider,
    PrivateKeyProvider,
    ProjectProvider,
    RemoteServerProvider,
    ServerProvider,
    ServiceProvider,
)


@dataclass(frozen=True)
class Connection:
    """How the resources reach Coolify, and where Coolify lives.

    `value`: {url, token} or {url, token, ssh: {host, port, user, private_key, host_key}} (see
    coolify.connection); usually a secret Output, as it holds the token. `host`: the server
    Coolify runs on. Every resource is deleted with it (`deleted_with`): when that server is
    replaced, the engine replaces them too, so the new Coolify gets its own, and neither that
    nor a destroy tries to delete what died with the old server through a tunnel to nowhere.
    `long_waits`: a provider of our own (`long_wait_provider`) for the resources whose
    operations wait for Coolify (a deploy, a server's validation), or None for the default one.
    """

    value: pulumi.Input[dict[str, Any]]
    host: pulumi.Resource | None = None
    long_waits: pulumi.ProviderResource | None = None


def long_wait_provider(name: str, opts: pulumi.ResourceOptions) -> pulumi.ProviderResource:
    """A second instance of the dynamic provider, for the operations that wait.

    The engine starts one provider process per provider resource, and the SDK's process serves
    four operations at a time. A deploy waits up to 30 minutes for its build, a server up to 15
    for its validation: four of them in the default process would hold every other Coolify
    operation of the stack until one ends. In a process of their own, they only queue behind
    each other (Coolify builds two at a time per server anyway).
    """
    return pulumi.ProviderResource("pulumi-python", name, {}, opts)


class _CoolifyResource(pulumi.dynamic.Resource):
    provider: ResourceProvider
    secret_outputs: tuple[str, ...] = ()
    computed: tuple[str, ...] = ()
    waits_long = False  # its operations wait for Coolify: they run in `long_waits`

    def __init__(
        self,
        name: str,
        connection: Connection,
        props: dict[str, Any],
        opts: pulumi.ResourceOptions | None,
    ) -> None:
        ours = pulumi.ResourceOptions(
            additional_secret_outputs=["connection", *self.secret_outputs],
            deleted_with=connection.host,
            provider=connection.long_waits if self.waits_long else None,
        )
        super().__init__(
            self.provider,
            name,
            {"connection": connection.value, **props, **dict.fromkeys(self.computed)},
            pulumi.ResourceOptions.merge(opts, ours),
        )


class _PropsResource(_CoolifyResource):
    """A resource whose inputs are given whole, as Coolify's API names them (`props`)."""

    def __init__(
        self,
        name: str,
        *,
        connection: Connection,
        props: dict[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, connection, props, opts)


class Project(_CoolifyResource, module="coolify", name="Project"):
    provider = ProjectProvider()

    def __init__(
        self,
        name: str,
        *,
        connection: Connection,
        project_name: pulumi.Input[str],
        description: pulumi.Input[str] = "",
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, connection, {"name": project_name, "description": description}, opts)


class Environment(_CoolifyResource, module="coolify", name="Environment"):
    provider = EnvironmentProvider()

    def __init__(
        self,
        name: str,
        *,
        connection: Connection,
        project_uuid: pulumi.Input[str],
        environment_name: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"project_uuid": project_uuid, "name": environment_name}
        super().__init__(name, connection, props, opts)


class Server(_CoolifyResource, module="coolify", name="Server"):
    """Coolify's own server ("localhost"), to place databases, services and apps on."""

    provider = ServerProvider()

    def __init__(
        self,
        name: str,
        *,
        connection: Connection,
        server_name: str = "localhost",
        settings: dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"name": server_name, "settings": settings or {}}
        super().__init__(name, connection, props, opts)


class RemoteServer(_PropsResource, module="coolify", name="RemoteServer"):
    """Another server for Coolify (a database or app server): see RemoteServerProvider."""

    provider = RemoteServerProvider()
    waits_long = True  # for its validation


class Database(_PropsResource, module="coolify", name="Database"):
    provider = DatabaseProvider()
    secret_outputs = ("credentials", "internal_db_url")
    computed = ("internal_db_url",)
    internal_db_url: pulumi.Output[str]


class Service(_PropsResource, module="coolify", name="Service"):
    provider = ServiceProvider()
    secret_outputs = ("compose",)  # a compose file may carry a service's secrets


class PrivateKey(_CoolifyResource, module="coolify", name="PrivateKey"):
    provider = PrivateKeyProvider()
    secret_outputs = ("private_key",)

    def __init__(
        self,
        name: str,
        *,
        connection: Connection,
        key_name: pulumi.Input[str],
        private_key: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, connection, {"name": key_name, "private_key": private_key}, opts)


class Application(_PropsResource, module="coolify", name="Application"):
    provider = ApplicationProvider()
    secret_outputs = WEBHOOK_SECRET_FIELDS


class EnvVars(_CoolifyResource, module="coolify", name="EnvVars"):
    provider = EnvVarsProvider()
    secret_outputs = ("variables",)

    def __init__(
        self,
        name: str,
        *,
        connection: Connection,
        resource: str,
        resource_uuid: pulumi.Input[str],
        variables: pulumi.Input[dict[str, Any]],
        sources: Mapping[str, str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        # sources ({KEY: literal|generated|secret|ref <name>}) only informs the policy pack.
        props = {
            "resource": resource,
            "resource_uuid": resource_uuid,
            "variables": variables,
            "sources": dict(sources or {}),
        }
        super().__init__(name, connection, props, opts)


class Deploy(_CoolifyResource, module="coolify", name="Deploy"):
    provider = DeployProvider()
    waits_long = True  # for the build
    computed = ("deployment_uuid",)
    deployment_uuid: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        connection: Connection,
        resource_uuid: pulumi.Input[str],
        triggers: pulumi.Input[list[Any]],
        force: bool = False,
        servers: int = 1,
        timeout_seconds: int = 1800,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "resource_uuid": resource_uuid,
            "triggers": triggers,
            "force": force,
            # Only when there are more: a single-server stack's deploys stay as they were.
            **({"servers": servers} if servers > 1 else {}),
            "timeout_seconds": timeout_seconds,
            "poll_seconds": 5,
        }
        super().__init__(name, connection, props, opts)
