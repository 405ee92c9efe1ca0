"""The team's apps: their git source, build, domains, health check and environment."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from config.base import HostEntry, Model, SecretValue
from config.fields import (
    BucketName,
    BuildCommand,
    CpuLimit,
    DeployCommand,
    HealthCheckPath,
    PinnedImage,
    RepositoryDirectory,
    RepositoryFile,
    ResourceName,
    config_error,
)

ENV_NAME = r"^[A-Z_][A-Z0-9_]*$"


class RefValue(Model):
    """A value the platform knows: database.url, database.pooledUrl (without Prisma's flag),
    database.directUrl, redis.url (or its parts
    redis.host, redis.port, redis.password), s3.endpoint, s3.publicUrl, s3.accessKey,
    s3.secretKey, s3.bucket, apps.<name>.url."""

    ref: str = Field(description="what the value refers to, e.g. database.url")


class GeneratedValue(Model):
    """32 random bytes (base64), generated once per variable name per stack and shared by
    every app that names it."""

    generate: Literal["secret"] = Field(description="what to generate: secret")


EnvValue = str | RefValue | GeneratedValue | SecretValue


def _plain_scalars(value: Any) -> Any:
    """YAML turns `true` and `3000` into a bool and a number; an env value is text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _env_schema(schema: dict[str, Any]) -> None:
    """The JSON schema of env and buildArgs (for editors): `_plain_scalars` takes numbers and
    booleans as text, and a name that is not ENV_NAME is refused."""
    for value in schema["patternProperties"].values():
        value["anyOf"][1:1] = [{"type": "number"}, {"type": "boolean"}]
    schema["additionalProperties"] = False


KNOWN_FORGES = {"github.com": "github", "gitlab.com": "gitlab", "bitbucket.org": "bitbucket"}


class GitSource(Model):
    repository: str = Field(
        pattern=r"^(https://\S+|git@\S+:\S+)$",
        description="https://... (public), or git@github.com:org/repo.git for a private repository",
    )
    branch: str = Field("main", description="branch to build")
    private: bool = Field(
        False,
        description="private repository: the stack generates a deploy key; add "
        "`deployKeys.<app>` (an output) to the repository",
    )
    pack: Literal["dockerfile", "nixpacks", "railpack", "static"] = Field(
        "dockerfile",
        description="how Coolify builds it: dockerfile (the repository's Dockerfile); nixpacks "
        "or railpack (from the code: package.json, composer.json..., as Render and Vercel do); "
        "static (files served as they are)",
    )
    dockerfile: RepositoryFile = Field(
        "/Dockerfile",
        description="the Dockerfile's path in the repository, e.g. /apps/web/Dockerfile (pack: "
        "dockerfile)",
    )
    base_directory: RepositoryDirectory = Field(
        "/", description="the build context, or the app's folder in a monorepo: / or /apps/web"
    )
    install_command: BuildCommand | None = Field(
        None,
        description="Nixpacks/Railpack: install the dependencies, e.g. npm ci",
        json_schema_extra={"default_text": "detected"},
    )
    build_command: BuildCommand | None = Field(
        None,
        description="Nixpacks/Railpack: build the app, e.g. npm run build",
        json_schema_extra={"default_text": "detected"},
    )
    start_command: BuildCommand | None = Field(
        None,
        description="Nixpacks/Railpack: start the app, e.g. npm run worker; a command is words, "
        "quotes, && and || only (Coolify refuses ;, |, > and $)",
        json_schema_extra={"default_text": "detected"},
    )
    publish_directory: RepositoryDirectory | None = Field(
        None,
        description="the folder of built files a web server serves (a static site or SPA: "
        "/dist, /out); none: the start command serves the app",
    )
    spa: bool = Field(
        False, description="with publishDirectory: every unknown path serves index.html"
    )
    forge: Literal["github", "gitlab", "gitea", "bitbucket"] | None = Field(
        None,
        description="where the repository lives, for its push webhook: github, gitlab, gitea or "
        "bitbucket (say it for a self-hosted forge)",
        json_schema_extra={"default_text": "from the host: github.com, gitlab.com, bitbucket.org"},
    )

    @property
    def repository_path(self) -> str:
        """owner/repo, as the forge names the repository in its webhooks."""
        path = re.sub(r"^(https://[^/]+/|git@[^:]+:)", "", self.repository)
        return re.sub(r"\.git$", "", path.strip("/"))

    @property
    def webhook_forge(self) -> str | None:
        """The forge whose push webhook Coolify is to accept for this repository."""
        if self.forge is not None:
            return self.forge
        host = re.sub(r"^(https://|git@)([^/:]+).*$", r"\2", self.repository).lower()
        return KNOWN_FORGES.get(host)

    @model_validator(mode="after")
    def _pack_fields(self) -> GitSource:
        builds_from_code = self.pack in ("nixpacks", "railpack")
        if self.pack != "dockerfile" and "dockerfile" in self.model_fields_set:
            raise config_error(
                f"a Dockerfile is only read with pack: dockerfile (this is {self.pack})",
                at="dockerfile",
            )
        for name, command in (("installCommand", self.install_command),
                              ("buildCommand", self.build_command),
                              ("startCommand", self.start_command)):  # fmt: skip
            if command is not None and not builds_from_code:
                raise config_error(
                    f"{name} is for pack: nixpacks or railpack; with pack: {self.pack} "
                    + ("the Dockerfile says how to build and start"
                       if self.pack == "dockerfile" else "nothing is built"),
                    at=name,
                )  # fmt: skip
        if self.publish_directory is not None and self.pack == "dockerfile":
            raise config_error(
                "publishDirectory is for a site built by nixpacks or railpack (or static "
                "files): a Dockerfile's image serves itself",
                at="publishDirectory",
            )
        if self.spa and self.publish_directory is None and self.pack != "static":
            raise config_error("spa: true needs the folder served (publishDirectory)", at="spa")
        if self.publish_directory is not None and self.start_command is not None:
            raise config_error(
                "with publishDirectory a web server serves the built files: there is no "
                "startCommand to run",
                at="startCommand",
            )
        return self

    @model_validator(mode="after")
    def _ssh_for_private(self) -> GitSource:
        if self.private and not self.repository.startswith("git@"):
            raise config_error(
                "a private repository is cloned with its deploy key over SSH: write it as "
                "git@github.com:org/repo.git",
                at="repository",
            )
        return self


class HealthCheck(Model):
    """The HTTP check Coolify gives the app's container (Docker's HEALTHCHECK, run inside the
    container with curl or wget against localhost): a deploy waits for it, and traffic goes to
    a new container only once it passes."""

    path: HealthCheckPath = Field(
        description="the path Coolify checks, e.g. /health; it runs the check inside the "
        "container with curl or wget against localhost: the image needs one of them"
    )
    port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="the port checked",
        json_schema_extra={"default_text": "the app's port"},
    )
    method: Literal["GET", "HEAD", "POST", "OPTIONS"] = Field(
        "GET", description="HTTP method: GET, HEAD, POST or OPTIONS"
    )
    scheme: Literal["http", "https"] = Field("http", description="http or https")
    return_code: int = Field(200, ge=100, le=599, description="the status a healthy app answers")
    interval: int = Field(30, ge=5, le=3600, description="seconds between checks")
    timeout: int = Field(5, ge=1, le=300, description="seconds a check may take")
    retries: int = Field(
        3, ge=1, le=100, description="failed checks before the container counts as unhealthy"
    )
    start_period: int = Field(
        30, ge=0, le=3600, description="seconds after start when failures do not count"
    )


class AppConfig(Model):
    name: ResourceName = Field(
        description="the app's name, 2 to 40 of a-z, 0-9 and -; also its container hostname, so "
        "not a service's name"
    )
    memory_mb: int = Field(512, ge=64, description="memory limit of the app's container")
    cpus: CpuLimit | None = Field(
        None,
        description="CPU limit of the app's container, in cores (e.g. 1.0); at most its server's "
        "vCPUs",
        json_schema_extra={"default_text": "no limit"},
    )
    domains: list[HostEntry] = Field(
        default_factory=list,
        description="the app's hostnames (hostname entries); none for a worker; proxied by default",
    )
    port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="the container port the domains route to; required with domains",
    )
    buckets: list[BucketName] = Field(
        default_factory=list,
        description="MinIO buckets the app uses; it gets its own access key, limited to these "
        "(apps never get the root key)",
    )
    git: GitSource | None = Field(None, description="build from this repository")
    image: PinnedImage | None = Field(None, description="instead of git: a prebuilt, pinned image")
    health: HealthCheck | None = Field(None, description="HTTP health check; none: no check")
    env: dict[Annotated[str, StringConstraints(pattern=ENV_NAME)], EnvValue] = Field(
        default_factory=dict,
        description="run-time environment variables: text, `{ref: ...}`, `{generate: secret}` or "
        "`{secret: <name>}`",
        json_schema_extra=_env_schema,
    )
    build_args: dict[Annotated[str, StringConstraints(pattern=ENV_NAME)], EnvValue] = Field(
        default_factory=dict,
        description="build-time variables, e.g. VITE_API_URL; one in both env and buildArgs is "
        "both (Next.js's NEXT_PUBLIC_*)",
        json_schema_extra=_env_schema,
    )
    auto_deploy: bool = Field(
        True,
        description="deploy every push to the branch, which the repository's push webhook "
        "tells Coolify: the output `webhooks.<owner/repo>` (its url, content type "
        "application/json, its secret, the push event), added by githubWebhooks or by hand; a "
        "push signed otherwise, or to another branch, deploys nothing",
    )
    pre_deploy_command: DeployCommand | None = Field(
        None,
        description="one line run in the running container before the new one starts; skipped "
        "at the first deploy, when none runs",
    )
    post_deploy_command: DeployCommand | None = Field(
        None,
        description="one line run in the new container once it is up: the migrations (npx prisma "
        "migrate deploy, php artisan migrate --force)",
    )
    deploy_after: list[ResourceName] = Field(
        default_factory=list,
        description="apps deployed before this one (e.g. the one that runs the migrations)",
    )

    @field_validator("env", "build_args", mode="before")
    @classmethod
    def _text_values(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: _plain_scalars(item) for key, item in value.items()}
        return value

    @model_validator(mode="after")
    def _push_webhook(self) -> AppConfig:
        if self.auto_deploy and self.git is not None and self.git.webhook_forge is None:
            raise config_error(
                f"app {self.name!r} deploys on push (autoDeploy), which Coolify learns from "
                "the forge's webhook: say which forge serves this repository with git.forge "
                "(github, gitlab, gitea or bitbucket), or set autoDeploy: false",
                at="git.forge",
            )
        return self

    @model_validator(mode="after")
    def _one_source(self) -> AppConfig:
        if (self.git is None) == (self.image is None):
            raise config_error(
                f"app {self.name!r} needs exactly one source: git (a repository Coolify "
                "builds) or image (a prebuilt image)",
                at="git",
            )
        if self.image is not None and self.build_args:
            raise config_error("a prebuilt image has no build step", at="buildArgs")
        for key in self.env.keys() & self.build_args.keys():
            if self.env[key] != self.build_args[key]:
                raise config_error(
                    f"{key} is in env and buildArgs with different values; a variable in both "
                    "is one variable, used at build and at run time",
                    at=f"buildArgs.{key}",
                )
        return self

    def references(self) -> Iterator[tuple[str, str, EnvValue]]:
        """(config path, variable, value) of every variable."""
        for key, value in self.env.items():
            yield f"env.{key}", key, value
        for key, value in self.build_args.items():
            yield f"buildArgs.{key}", key, value

    @model_validator(mode="after")
    def _domains_need_port(self) -> AppConfig:
        if self.domains and self.port is None:
            raise config_error(
                f"app {self.name!r} has domains but no port; set the port its container "
                "listens on, or remove the domains for a worker",
                at="port",
            )
        return self
