"""The apps: Coolify applications from git or an image, environments wired by reference, the
deploy order, and secrets that stay secret."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from config import ConfigError
from offline.engine import Recording, find_leaks, is_secret, reveal
from tests.support import evaluate_config, evaluate_ok, evaluate_stack, tour_crm_config, with_value


@cache
def production() -> Recording:
    return evaluate_stack("production")


def variables(app: str, recording: Recording | None = None) -> dict[str, dict[str, Any]]:
    env = (recording or production()).named(f"apps-{app}-env")
    return reveal(env.inputs["variables"])  # type: ignore[no-any-return]


def test_variables_holding_secrets_are_secret_in_state() -> None:
    for app in ("crm", "book", "worker"):
        assert is_secret(production().named(f"apps-{app}-env").inputs["variables"])
        assert is_secret(production().named(f"apps-{app}-env").outputs["variables"])


def application(app: str, recording: Recording | None = None) -> dict[str, Any]:
    return (recording or production()).named(f"apps-{app}").inputs


def test_apps_build_from_the_guides_repository_and_dockerfiles() -> None:
    for app, dockerfile, domain, port in [("crm", "/apps/crm/Dockerfile", "https://crm.example.com", "3000"),
                                          ("book", "/apps/web/Dockerfile", "https://book.example.com", "3001")]:  # fmt: skip
        inputs = application(app)
        assert inputs["source"] == {"kind": "public", "git_repository": "https://github.com/your-org/tour-crm",
                                    "git_branch": "main", "build_pack": "dockerfile",
                                    "dockerfile_location": dockerfile, "base_directory": "/"}  # fmt: skip
        assert (inputs["domains"], inputs["ports_exposes"]) == (domain, port)
        assert (
            inputs["health_check_enabled"],
            inputs["health_check_path"],
            inputs["health_check_interval"],
        ) == (True, "/api/health", 60)
        assert inputs["is_auto_deploy_enabled"] is True


def test_the_worker_is_reached_by_inngest_and_checked_at_its_endpoint() -> None:
    worker = application("worker")
    assert (worker["domains"], worker["ports_exposes"]) == ("https://jobs.example.com", "3002")
    assert (worker["health_check_enabled"], worker["health_check_path"]) == (True, "/api/inngest")
    assert worker["limits_memory"] == "256m"


def test_references_resolve_to_the_platforms_values() -> None:
    outputs = production().stack_outputs
    crm = variables("crm")
    assert crm["DATABASE_URL"]["value"] == reveal(outputs["databaseUrl"])
    assert crm["DIRECT_URL"]["value"] == reveal(outputs["directUrl"])
    assert crm["REDIS_URL"]["value"] == reveal(outputs["redisUrl"])
    assert crm["S3_ENDPOINT"]["value"] == outputs["s3Endpoint"]
    assert crm["S3_PUBLIC_URL"]["value"] == "https://files.example.com"
    assert crm["S3_BUCKET"]["value"] == "tour-images"
    assert crm["NEXT_PUBLIC_WEB_URL"]["value"] == "https://book.example.com"
    assert crm["NODE_ENV"]["value"] == "production"
    assert crm["TWILIO_PHONE_NUMBER"]["value"] == "+10000000000"


def test_each_app_gets_its_own_s3_key() -> None:
    keys = reveal(production().stack_outputs["s3Credentials"])
    for app in ("crm", "book"):
        assert variables(app)["S3_ACCESS_KEY"]["value"] == keys[app]["accessKey"]
        assert variables(app)["S3_SECRET_KEY"]["value"] == keys[app]["secretKey"]
    assert keys["crm"]["accessKey"] != keys["book"]["accessKey"]


def test_external_secrets_come_from_the_secret_bag() -> None:
    assert variables("crm")["STRIPE_SECRET_KEY"]["value"] == "offline-placeholder-stripeSecretKey"
    assert (
        variables("worker")["INNGEST_SIGNING_KEY"]["value"]
        == "offline-placeholder-inngestSigningKey"
    )


def test_build_time_and_run_time_flags() -> None:
    crm = variables("crm")
    assert (
        crm["NEXT_PUBLIC_APP_URL"]["is_buildtime"],
        crm["NEXT_PUBLIC_APP_URL"]["is_runtime"],
    ) == (True, True)
    assert (crm["DATABASE_URL"]["is_buildtime"], crm["DATABASE_URL"]["is_runtime"]) == (False, True)
    assert all(entry["is_literal"] for entry in crm.values())  # no `$` interpolation by Coolify


def test_deploys_follow_the_data_services_and_deploy_after() -> None:
    crm_deploy = production().named("apps-crm-deploy")
    running = {
        production().named(f"data-{name}").urn
        for name in ("postgres", "pgbouncer", "redis", "minio")
    }
    for app in ("crm", "book", "worker"):
        assert running <= set(production().named(f"apps-{app}-deploy").dependencies)
    # The services themselves, not every random value beside them (the other apps' S3 keys).
    assert not any("minio-book" in urn for urn in crm_deploy.dependencies)
    for app in ("book", "worker"):
        assert crm_deploy.urn in production().named(f"apps-{app}-deploy").dependencies
    assert production().named("apps-crm-env").urn in crm_deploy.dependencies


def test_a_deploy_is_triggered_by_a_hash_of_the_variables_not_their_values() -> None:
    variables, settings = reveal(production().named("apps-crm-deploy").inputs["triggers"])
    assert len(variables) == len(settings) == 64  # sha256 of the variables, of the settings
    assert find_leaks(production()) == []


def generated_stack() -> Recording:
    values = tour_crm_config()
    values = with_value(values, "apps[0].env", {"JWT_SECRET": {"generate": "secret"}})
    values = with_value(
        values,
        "apps[2].env",
        {"JWT_SECRET": {"generate": "secret"}, "AUTH_SECRET": {"generate": "secret"}},
    )
    return evaluate_ok(values)


def test_a_generated_secret_is_shared_by_every_app_naming_it() -> None:
    recording = generated_stack()
    generated = recording.of_type("random:index/randomBytes:RandomBytes")
    assert sorted(r.name for r in generated) == [
        "apps-secret-auth-secret",
        "apps-secret-jwt-secret",
    ]
    assert all(r.inputs["length"] == 32 for r in generated)
    jwt = reveal(recording.named("apps-secret-jwt-secret").outputs["base64"])
    assert variables("crm", recording)["JWT_SECRET"]["value"] == jwt
    assert variables("worker", recording)["JWT_SECRET"]["value"] == jwt
    assert find_leaks(recording) == []


def test_a_private_repository_gets_a_generated_deploy_key() -> None:
    private = {"repository": "git@github.com:acme/crm.git", "private": True}
    recording = evaluate_ok(with_value(tour_crm_config(), "apps[0].git", private))
    key = recording.named("apps-crm-deploy-key")
    stored = recording.named("apps-crm-coolify-key")
    assert reveal(stored.inputs["private_key"]) == reveal(key.outputs["privateKeyOpenssh"])
    assert is_secret(stored.inputs["private_key"])
    assert application("crm", recording)["source"]["kind"] == "deploy-key"
    assert application("crm", recording)["source"]["private_key_uuid"] == stored.id
    public = reveal(key.outputs["publicKeyOpenssh"]).strip()
    assert recording.stack_outputs["deployKeys"] == {"crm": public}


def test_a_prebuilt_image_is_deployed_as_is() -> None:
    values = with_value(
        tour_crm_config(), "apps[2]", {"name": "worker", "image": "ghcr.io/acme/worker:1.4.2"}
    )
    source = application("worker", evaluate_ok(values))["source"]
    assert source == {
        "kind": "image",
        "docker_registry_image_name": "ghcr.io/acme/worker",
        "docker_registry_image_tag": "1.4.2",
    }


@pytest.mark.parametrize(
    ("image", "name", "tag"),
    [
        ("registry.example.com:5000/team/api:2.0.1", "registry.example.com:5000/team/api", "2.0.1"),
        # As Coolify's DockerImageParser stores a digest: the name with @sha256, the hex.
        (f"ghcr.io/acme/api:1.2@sha256:{'a' * 64}", "ghcr.io/acme/api@sha256", "a" * 64),
        (f"ghcr.io/acme/api@sha256:{'b' * 64}", "ghcr.io/acme/api@sha256", "b" * 64),
    ],
)
def test_an_image_is_split_into_repository_and_tag(image: str, name: str, tag: str) -> None:
    values = with_value(tour_crm_config(), "apps[2]", {"name": "worker", "image": image})
    source = application("worker", evaluate_ok(values))["source"]
    assert (source["docker_registry_image_name"], source["docker_registry_image_tag"]) == (
        name,
        tag,
    )


def problems(values: dict[str, Any], **kwargs: Any) -> list[str]:
    recording = evaluate_config(values, **kwargs)
    assert isinstance(recording.error, ConfigError), recording.error
    assert recording.resources == []
    return recording.error.problems


def test_an_unknown_reference_names_the_app_and_variable() -> None:
    (problem,) = problems(
        with_value(tour_crm_config(), "apps[0].env", {"QUEUE_URL": {"ref": "rabbit.url"}})
    )
    assert problem.startswith(
        "platform:apps[0].env.QUEUE_URL.ref: app 'crm', variable QUEUE_URL: 'rabbit.url' is not something the platform provides"
    )


def test_every_broken_reference_is_reported_at_once() -> None:
    values = with_value(
        tour_crm_config(), "apps[0].env", {"A_URL": {"ref": "rabbit.url"}, "B": {"ref": "x.y"}}
    )
    values = with_value(values, "apps[2].deployAfter", ["nope"])
    found = problems(values)
    assert [problem.split(": ")[0] for problem in found] == [
        "platform:apps[0].env.A_URL.ref",
        "platform:apps[0].env.B.ref",
        "platform:apps[2].deployAfter[0]",
    ]


def test_a_reference_to_a_missing_service_says_what_is_missing() -> None:
    values = with_value(tour_crm_config(), "services.redis", None)
    values = with_value(values, "apps[2].env", {"REDIS_URL": {"ref": "redis.url"}})
    (problem,) = problems(values)
    assert "app 'worker', variable REDIS_URL: there is no services.redis" in problem


def test_a_missing_external_secret_names_where_it_is_used() -> None:
    values = with_value(
        tour_crm_config(), "apps[1].env", {"STRIPE_SECRET_KEY": {"secret": "stripeSecretKey"}}
    )
    (problem,) = problems(values)
    assert problem == ("platform:secrets.stripeSecretKey: required by apps[1].env.STRIPE_SECRET_KEY -- set it with "
                       "`pulumi config set --secret --path 'secrets.stripeSecretKey' '<value>'`")  # fmt: skip


def test_the_secret_bag_must_be_secret_and_fully_used() -> None:
    values = with_value(
        tour_crm_config(), "apps[1].env", {"STRIPE_SECRET_KEY": {"secret": "stripeSecretKey"}}
    )
    bag = {"platform:secrets": '{"stripeSecretKey": "sk_live_abc123456", "stale": "x1234567"}'}
    assert problems(values, extra=bag) == [
        "platform:secrets: holds secrets but is stored in plain text; set each entry with "
        "`pulumi config set --secret --path 'secrets.<name>' '<value>'`"
    ]
    (unused,) = problems(values, extra=bag, secret_keys=["platform:secrets"])
    assert unused.startswith("platform:secrets.stale: nothing uses it")
    assert "sk_live" not in unused


def test_apps_that_wait_for_each_other_are_refused() -> None:
    values = with_value(tour_crm_config(), "apps[0].deployAfter", ["book"])
    values = with_value(values, "apps[1].deployAfter", ["crm"])
    (problem,) = problems(values)
    assert "the apps wait for each other (crm -> book -> crm)" in problem


def test_an_app_needs_exactly_one_source() -> None:
    (problem,) = problems(with_value(tour_crm_config(), "apps[0].image", "nginx:1.27.3"))
    assert problem.startswith("platform:apps[0].git: app 'crm' needs exactly one source")
    (problem,) = problems(with_value(tour_crm_config(), "apps[0].git", None))
    assert "needs exactly one source" in problem


def test_a_variable_in_env_and_build_args_has_one_value() -> None:
    values = with_value(tour_crm_config(), "apps[0].env", {"NEXT_PUBLIC_X": "a"})
    values = with_value(values, "apps[0].buildArgs", {"NEXT_PUBLIC_X": "b"})
    (problem,) = problems(values)
    assert problem.startswith(
        "platform:apps[0].buildArgs.NEXT_PUBLIC_X: NEXT_PUBLIC_X is in env and buildArgs with different values"
    )


def test_env_names_are_checked() -> None:
    (problem,) = problems(with_value(tour_crm_config(), "apps[0].env", {"lower-case": "x"}))
    assert problem.startswith("platform:apps[0].env.lower-case")


def test_yaml_scalars_become_text() -> None:
    recording = evaluate_ok(
        with_value(tour_crm_config(), "apps[0].env", {"PORT": 3000, "DEBUG": False})
    )
    crm = variables("crm", recording)
    assert (crm["PORT"]["value"], crm["DEBUG"]["value"]) == ("3000", "false")


def test_health_check_cpu_limit_and_commands_go_to_coolify_and_a_change_redeploys() -> None:
    values = with_value(tour_crm_config(), "apps[0].health", {
        "path": "/api/health", "port": 3100, "method": "HEAD", "returnCode": 204,
        "interval": 20, "timeout": 3, "retries": 5, "startPeriod": 60,
    })  # fmt: skip
    values = with_value(values, "apps[0].cpus", 1.5)
    values = with_value(values, "apps[0].postDeployCommand", "npx prisma migrate deploy")
    recording = evaluate_ok(values)
    crm = application("crm", recording)
    assert {key: crm[key] for key in crm if key.startswith(("health_check_", "limits_cpus"))} == {
        "health_check_enabled": True, "health_check_path": "/api/health",
        "health_check_port": 3100, "health_check_method": "HEAD", "health_check_scheme": "http",
        "health_check_return_code": 204, "health_check_interval": 20, "health_check_timeout": 3,
        "health_check_retries": 5, "health_check_start_period": 60, "limits_cpus": "1.5",
    }  # fmt: skip
    assert crm["post_deployment_command"] == "npx prisma migrate deploy"
    assert "pre_deployment_command" not in crm
    assert application("worker")["limits_cpus"] == "0"  # no limit
    # Each of them is something the running app is started from: a change redeploys it.
    for path, value in [("apps[0].cpus", 2), ("apps[0].health.retries", 6),
                        ("apps[0].postDeployCommand", "npx drizzle-kit migrate")]:  # fmt: skip
        changed = evaluate_ok(with_value(values, path, value))
        before = reveal(recording.named("apps-crm-deploy").inputs["triggers"])
        after = reveal(changed.named("apps-crm-deploy").inputs["triggers"])
        assert before[0] == after[0]  # the same variables
        assert before[1] != after[1], path


def test_apps_built_from_their_code_by_nixpacks_or_served_as_a_static_site() -> None:
    """As Render and Vercel build them: no Dockerfile, the commands the team gave (or what
    Nixpacks detects), and a built folder served by Coolify's web server."""
    values = with_value(tour_crm_config(), "apps[0].git", {
        "repository": "https://github.com/your-org/tour-crm", "pack": "nixpacks",
        "installCommand": "npm ci", "startCommand": "npm run start:api",
    })  # fmt: skip
    values = with_value(values, "apps[1].git", {
        "repository": "https://github.com/your-org/tour-crm", "pack": "nixpacks",
        "baseDirectory": "/apps/web", "buildCommand": "npm run build",
        "publishDirectory": "/dist", "spa": True,
    })  # fmt: skip
    recording = evaluate_ok(values)
    assert application("crm", recording)["source"] == {
        "kind": "public", "git_repository": "https://github.com/your-org/tour-crm",
        "git_branch": "main", "build_pack": "nixpacks", "base_directory": "/",
        "install_command": "npm ci", "start_command": "npm run start:api",
    }  # fmt: skip
    assert application("book", recording)["source"] == {
        "kind": "public", "git_repository": "https://github.com/your-org/tour-crm",
        "git_branch": "main", "build_pack": "nixpacks", "base_directory": "/apps/web",
        "build_command": "npm run build", "publish_directory": "/dist", "is_static": True,
        "is_spa": True,
    }  # fmt: skip
    # The worker still builds from its Dockerfile, its source as before.
    assert application("worker", recording)["source"]["build_pack"] == "dockerfile"


def test_apps_deployed_on_push_share_their_repositorys_webhook_secret() -> None:
    secrets = {
        app: application(app)["manual_webhook_secret_github"] for app in ("crm", "book", "worker")
    }
    assert all(is_secret(value) for value in secrets.values())
    assert len({reveal(value) for value in secrets.values()}) == 1  # one webhook deploys all
    webhooks = production().stack_outputs["webhooks"]
    assert is_secret(webhooks)
    webhook = reveal(webhooks)["your-org/tour-crm"]
    assert webhook["url"] == "https://coolify.example.com/webhooks/source/github/events/manual"
    assert webhook["secret"] == reveal(secrets["crm"])
    assert find_leaks(production()) == []
    manual = evaluate_ok(with_value(tour_crm_config(), "apps[0].autoDeploy", False))
    assert "manual_webhook_secret_github" not in application("crm", manual)
    (webhook,) = reveal(manual.stack_outputs["webhooks"]).values()
    assert webhook["apps"] == ["book", "worker"]


def test_an_unknown_forge_must_be_named_for_a_push_to_deploy() -> None:
    values = with_value(tour_crm_config(), "apps[0].git.repository", "https://git.acme.dev/crm")
    error = evaluate_config(values).error
    assert isinstance(error, ConfigError)
    assert "apps[0].git.forge" in str(error)
    assert "(github, gitlab, gitea or bitbucket), or set autoDeploy: false" in str(error)
    gitea = evaluate_ok(with_value(values, "apps[0].git.forge", "gitea"))
    assert "manual_webhook_secret_gitea" in application("crm", gitea)


GITHUB_TOKEN = {"platform:githubToken": "github_pat_11AAAAAAA0abcdefghijklmnopqrstuvwxyz"}


def test_with_a_github_token_each_repository_gets_its_webhook() -> None:
    """One webhook per repository (all three apps build from one), JSON, for pushes, signed
    with the apps' secret, through a provider holding the token; the token stays secret."""
    values = {**tour_crm_config(), "githubWebhooks": True}
    recording = evaluate_ok(values, extra=GITHUB_TOKEN, secret_keys=list(GITHUB_TOKEN))
    (hook,) = recording.of_type("github:index/repositoryWebhook:RepositoryWebhook")
    assert (hook.inputs["repository"], hook.inputs["events"], hook.inputs["active"]) == (
        "tour-crm", ["push"], True,
    )  # fmt: skip
    configuration = reveal(hook.inputs["configuration"])
    assert configuration["url"] == (
        "https://coolify.example.com/webhooks/source/github/events/manual"
    )
    assert (configuration["contentType"], configuration["insecureSsl"]) == ("json", False)
    assert configuration["secret"] == reveal(
        application("crm", recording)["manual_webhook_secret_github"]
    )
    (provider,) = recording.of_type("pulumi:providers:github")
    assert provider.inputs["owner"] == "acme"
    assert is_secret(provider.inputs["token"])
    assert hook.provider.startswith(provider.urn)
    assert find_leaks(recording) == []


def test_without_the_flag_no_webhook_is_added_and_the_token_is_not_asked_for() -> None:
    recording = evaluate_ok(tour_crm_config())
    assert recording.of_type("github:index/repositoryWebhook:RepositoryWebhook") == []
    error = evaluate_config({**tour_crm_config(), "githubWebhooks": True}).error
    assert "githubToken: required because githubWebhooks is true" in str(error)


def test_a_libpq_app_takes_the_pooled_url_without_prismas_flag() -> None:
    values = tour_crm_config()
    values["apps"][0]["env"] = {
        "DATABASE_URL": {"ref": "database.pooledUrl"},  # a Python app: psycopg
        "PRISMA_URL": {"ref": "database.url"},
    }
    env = variables("crm", evaluate_ok(values))
    pooled, prisma = env["DATABASE_URL"]["value"], env["PRISMA_URL"]["value"]
    assert prisma == pooled + "?pgbouncer=true"  # the same pooled URL, with and without the flag
    assert ":6432/" in pooled
