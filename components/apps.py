"""The team's apps as Coolify applications, with their environments wired by reference and
deployed in dependency order (data services first; an app after the apps it names).

A variable is a plain value, a reference to what the platform knows (database.url,
redis.url, s3.*, apps.<name>.url), a generated secret (32 random bytes, one per variable name
per stack, shared by every app that names it), or an external secret from the config bag
`secrets`. Everything that carries a secret stays secret: the variables go to Coolify as one
secret input, and deployments are triggered by a hash of them, not the values.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_github as github
import pulumi_random as random
import pulumi_tls as tls

from components.data import REDIS_PORT, limits_cpus
from config import AppConfig, EnvValue, GeneratedValue, GitSource, SecretValue, StackConfig
from config.fields import image_name_and_tag
from coolify.resources import Application, Connection, Deploy, EnvVars, PrivateKey
from render.urls import without_pgbouncer_flag

# The settings of an app that reach its container only through a deploy (with its source):
# Coolify writes the proxy labels, port, health check and limits when it deploys.
RUNNING_FROM = (
    "domains", "ports_exposes", "limits_memory", "limits_cpus", "health_check_enabled",
    "health_check_path", "health_check_port", "health_check_method", "health_check_scheme",
    "health_check_return_code", "health_check_interval", "health_check_timeout",
    "health_check_retries", "health_check_start_period",
    # Run by a deploy: a changed command runs at the next one, which this one is.
    "pre_deployment_command", "post_deployment_command",
)  # fmt: skip
WORKER_PORT = "80"  # Coolify needs a port for git apps; a worker has no domain routed to it


def _slug(text: str) -> str:
    """A part of a resource name: "Acme/Tour-CRM" -> "acme-tour-crm"."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _build_settings(git: GitSource) -> dict[str, Any]:
    """What Coolify builds a Nixpacks, Railpack or static app with; only what the config sets,
    so a Dockerfile app's source stays as it was."""
    settings = {
        "install_command": git.install_command,
        "build_command": git.build_command,
        "start_command": git.start_command,
        "publish_directory": git.publish_directory,
        # Built, then its publishDirectory served by Coolify's web server (is_static).
        "is_static": git.publish_directory is not None and git.pack != "static",
        "is_spa": git.spa,
    }
    return {key: value for key, value in settings.items() if value}


@dataclass(frozen=True)
class AppServers:
    """Where the apps run at the master plan's stage 4: `placement` names the first app server,
    `others` are the other app servers' uuids in Coolify, and with
    `tls_at_load_balancer` the apps' proxies serve plain HTTP behind the load balancer (an
    https domain would make Traefik redirect the load balancer's own requests, forever)."""

    placement: Mapping[str, pulumi.Input[str]]
    others: list[pulumi.Output[str]]
    tls_at_load_balancer: bool


@dataclass
class PlatformValues:
    """What references resolve to; None where the stack has no such thing."""

    database_url: pulumi.Output[str] | None = None
    direct_url: pulumi.Output[str] | None = None
    redis_url: pulumi.Output[str] | None = None
    redis_host: pulumi.Output[str] | None = None
    redis_password: pulumi.Output[str] | None = None
    s3_endpoint: pulumi.Output[str] | None = None
    s3_public_url: str | None = None
    s3_keys: Mapping[str, pulumi.Output[dict[str, str]]] | None = None  # app -> its S3 key
    secrets: pulumi.Output[Any] | None = None  # the config bag of external secrets


def _required(value: pulumi.Output[Any] | str | None) -> pulumi.Output[Any]:
    # The config loader has checked every reference, so a missing value is a bug here.
    assert value is not None
    return pulumi.Output.from_input(value)


class Apps(pulumi.ComponentResource):
    urls: dict[str, str]
    deploy_keys: dict[str, pulumi.Output[str]]  # app -> public deploy key, to add to the repo
    # repository -> {url, secret, apps} of the push webhook to add to it (secret): one per
    # repository, so that one push deploys every app built from it
    webhooks: dict[str, pulumi.Output[dict[str, Any]]]

    def __init__(
        self,
        name: str,
        *,
        config: StackConfig,
        values: PlatformValues,
        connection: Connection,
        placement: Mapping[str, pulumi.Input[str]],
        after: list[pulumi.Resource],
        app_servers: AppServers | None = None,
        github_token: pulumi.Output[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`placement`: Coolify's server, project and environment; `app_servers`: the app
        servers the apps run on instead of Coolify's server; `github_token`: a token that may
        add the push webhooks to the GitHub repositories (none: they are added by hand)."""
        super().__init__("platform:index:Apps", name, None, opts)
        self._name, self._connection, self._values = name, connection, values
        self._generated: dict[str, random.RandomBytes] = {}
        self.urls = {app.name: url for app in config.apps if (url := config.app_url(app))}
        self.deploy_keys = {}
        # repository -> (forge, webhook URL, secret), filled as the apps are declared
        self._webhook_secrets: dict[str, tuple[str, str, pulumi.Output[str]]] = {}
        deploys: dict[str, Deploy] = {}
        servers = app_servers or AppServers(placement, [], tls_at_load_balancer=False)
        others = servers.others
        for app in config.deploy_order():
            application, running_from = self._application(config, app, servers)
            variables = self._variables(app)
            env = EnvVars(
                f"{name}-{app.name}-env",
                connection=connection,
                resource="applications",
                resource_uuid=application.id,
                variables=variables,
                sources={
                    key: _source(value) for key, value in {**app.build_args, **app.env}.items()
                },
                opts=pulumi.ResourceOptions(parent=self),
            )
            waits = [*after, *(deploys[other] for other in config.deploy_dependencies(app))]
            deploys[app.name] = Deploy(
                f"{name}-{app.name}-deploy",
                connection=connection,
                resource_uuid=application.id,
                # A change of any variable redeploys; the hash carries none of the values. So
                # does a change of what the app is built or started from (Coolify stores a
                # PATCH and applies it at the next deploy), and another app server: the new
                # one needs the app. Only values a preview knows (inputs and ids, never a
                # dynamic resource's computed output), so a pull request's preview shows a
                # redeploy only where `up` makes one.
                triggers=[variables.apply(_digest), _digest(running_from), *others],
                servers=1 + len(others),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[env, *waits]),
            )
        self.webhooks = {
            repository: pulumi.Output.secret({
                "url": url, "secret": secret,
                "apps": [a.name for a in config.apps if a.auto_deploy and a.git
                         and a.git.repository_path == repository],
            })
            for repository, (_, url, secret) in self._webhook_secrets.items()
        }  # fmt: skip
        if github_token is not None:
            self._add_github_webhooks(github_token)
        self.register_outputs({"urls": self.urls})

    def _application(
        self, config: StackConfig, app: AppConfig, servers: AppServers
    ) -> tuple[Application, dict[str, Any]]:
        """The app in Coolify, and the settings it runs from: what reaches the running app only
        through a deploy (the source, domains, port, health check and memory limit; not its
        name or the auto-deploy flag)."""
        child = pulumi.ResourceOptions(parent=self)
        source: dict[str, Any]
        if app.image is not None:
            image, tag = image_name_and_tag(app.image)
            source = {"kind": "image", "docker_registry_image_name": image,
                      "docker_registry_image_tag": tag}  # fmt: skip
        else:
            git = app.git
            assert git is not None  # one source, checked by the config
            source = {
                "kind": "public",
                "git_repository": git.repository,
                "git_branch": git.branch,
                "build_pack": git.pack,
                **({"dockerfile_location": git.dockerfile} if git.pack == "dockerfile" else {}),
                "base_directory": git.base_directory,
                **_build_settings(git),
            }
            if git.private:
                key = tls.PrivateKey(
                    f"{self._name}-{app.name}-deploy-key", algorithm="ED25519", opts=child
                )
                stored = PrivateKey(
                    f"{self._name}-{app.name}-coolify-key",
                    connection=self._connection,
                    key_name=f"{app.name} deploy key",
                    private_key=key.private_key_openssh,
                    opts=child,
                )
                source |= {"kind": "deploy-key", "private_key_uuid": stored.id}
                self.deploy_keys[app.name] = key.public_key_openssh.apply(str.strip)
        url = config.app_url(app)
        if url is not None and servers.tls_at_load_balancer:
            url = "http://" + url.removeprefix("https://")
        props: dict[str, Any] = {
            **servers.placement,
            **({"other_servers": servers.others} if servers.others else {}),
            "source": source,
            "name": app.name,
            "description": f"{app.name} (managed by Pulumi)",
            "domains": url,
            "ports_exposes": str(app.port) if app.port else WORKER_PORT,
            "is_auto_deploy_enabled": app.auto_deploy,
            "limits_memory": f"{app.memory_mb}m",
            "limits_cpus": limits_cpus(app.cpus),
            "health_check_enabled": app.health is not None,
            "pre_deployment_command": app.pre_deploy_command,
            "post_deployment_command": app.post_deploy_command,
            "delete_volumes": True,  # apps keep their data in the data services
        }
        forge = app.git.webhook_forge if app.git is not None and app.auto_deploy else None
        if app.git is not None and forge is not None:
            props[f"manual_webhook_secret_{forge}"] = self._webhook_secret(config, app.git, forge)
        if (health := app.health) is not None:
            props |= {
                "health_check_path": health.path,
                "health_check_port": health.port,
                "health_check_method": health.method,
                "health_check_scheme": health.scheme,
                "health_check_return_code": health.return_code,
                "health_check_interval": health.interval,
                "health_check_timeout": health.timeout,
                "health_check_retries": health.retries,
                "health_check_start_period": health.start_period,
            }
        application = Application(
            f"{self._name}-{app.name}", connection=self._connection, props=props, opts=child
        )
        running_from = {
            "source": {k: v for k, v in source.items() if k != "private_key_uuid"},
            **{key: props.get(key) for key in RUNNING_FROM},
        }
        return application, running_from

    def _variables(self, app: AppConfig) -> pulumi.Output[dict[str, dict[str, Any]]]:
        """A variable in env is for run time, in buildArgs for build time, in both for both
        (as Next.js's NEXT_PUBLIC_* are: inlined by the build, read by the server)."""
        entries = {
            key: self._entry(
                app, key, value, runtime=key in app.env, buildtime=key in app.build_args
            )
            for key, value in {**app.build_args, **app.env}.items()
        }
        return pulumi.Output.all(**entries)

    def _entry(
        self, app: AppConfig, key: str, value: EnvValue, *, runtime: bool, buildtime: bool
    ) -> pulumi.Output[dict[str, Any]]:
        resolved = self._resolve(app, key, value)
        # Literal: Coolify must not interpolate `$` in generated or external secrets.
        return resolved.apply(
            lambda text: {
                "value": text,
                "is_buildtime": buildtime,
                "is_runtime": runtime,
                "is_literal": True,
                "is_multiline": "\n" in text,
                "is_shown_once": False,
                "is_preview": False,
            }
        )

    def _resolve(self, app: AppConfig, key: str, value: EnvValue) -> pulumi.Output[str]:
        values = self._values
        if isinstance(value, str):
            return pulumi.Output.from_input(value)
        if isinstance(value, GeneratedValue):
            return pulumi.Output.secret(self._generate(key).base64)
        if isinstance(value, SecretValue):
            return pulumi.Output.secret(
                _required(values.secrets).apply(lambda bag: bag[value.secret])
            )
        ref = value.ref
        if ref.startswith("apps."):
            return pulumi.Output.from_input(self.urls[ref.split(".")[1]])
        s3_key = {"s3.accessKey": "accessKey", "s3.secretKey": "secretKey"}.get(ref)
        if s3_key is not None:
            assert values.s3_keys is not None  # checked by the config loader, as in _required
            own_key = values.s3_keys[app.name]
            return pulumi.Output.secret(own_key.apply(lambda k: k[s3_key]))
        simple = {
            "database.url": values.database_url,
            "database.pooledUrl": (
                values.database_url.apply(without_pgbouncer_flag) if values.database_url else None
            ),
            "database.directUrl": values.direct_url,
            "redis.url": values.redis_url,
            "redis.host": values.redis_host,
            "redis.port": str(REDIS_PORT),
            "redis.password": values.redis_password,
            "s3.endpoint": values.s3_endpoint,
            "s3.publicUrl": values.s3_public_url,
            "s3.bucket": app.buckets[0] if app.buckets else None,
        }
        resolved = _required(simple[ref])
        secret = ref.startswith("database.") or ref in ("redis.url", "redis.password")
        return pulumi.Output.secret(resolved) if secret else resolved

    def _webhook_secret(
        self, config: StackConfig, git: GitSource, forge: str
    ) -> pulumi.Output[str]:
        """The secret the repository's push webhook is signed with. Coolify deploys a push
        to every app of that repository and branch whose secret matches the signature
        (app/Http/Controllers/Webhook/Github.php:78-120 at v4.3.10, and its siblings): one
        secret per repository, so that one webhook deploys them all."""
        repository = git.repository_path
        if repository not in self._webhook_secrets:
            url = f"{config.dashboard_url}/webhooks/source/{forge}/events/manual"
            self._webhook_secrets[repository] = (forge, url, random.RandomPassword(
                f"{self._name}-webhook-secret-{_slug(repository)}", length=40, special=False,
                opts=pulumi.ResourceOptions(parent=self),
            ).result)  # fmt: skip
        return self._webhook_secrets[repository][2]

    def _add_github_webhooks(self, token: pulumi.Output[str]) -> None:
        """Each GitHub repository's push webhook, added with the stack's token: JSON bodies
        (Coolify reads `ref` and `repository.full_name` from them), signed with the secret."""
        providers: dict[str, github.Provider] = {}
        for repository, (forge, url, secret) in self._webhook_secrets.items():
            if forge != "github":
                continue
            owner, name = repository.split("/", 1)
            if owner not in providers:
                providers[owner] = github.Provider(
                    f"{self._name}-github-{_slug(owner)}", token=token, owner=owner,
                    opts=pulumi.ResourceOptions(parent=self),
                )  # fmt: skip
            github.RepositoryWebhook(
                f"{self._name}-webhook-{_slug(repository)}",
                repository=name,
                events=["push"],
                active=True,
                configuration=github.RepositoryWebhookConfigurationArgs(
                    url=url, content_type="json", secret=secret, insecure_ssl=False
                ),
                opts=pulumi.ResourceOptions(parent=self, provider=providers[owner]),
            )

    def _generate(self, key: str) -> random.RandomBytes:
        if key not in self._generated:
            self._generated[key] = random.RandomBytes(
                f"{self._name}-secret-{key.lower().replace('_', '-')}",
                length=32,
                opts=pulumi.ResourceOptions(parent=self),
            )
        return self._generated[key]


def _source(value: EnvValue) -> str:
    """Where a variable's value comes from, known at preview (the values may not be yet), so
    that the policy pack can tell a secret typed into the stack file from a generated one."""
    if isinstance(value, str):
        return "literal"
    if isinstance(value, GeneratedValue):
        return "generated"
    if isinstance(value, SecretValue):
        return "secret"
    return f"ref {value.ref}"


def _digest(variables: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(variables, sort_keys=True).encode()).hexdigest()
