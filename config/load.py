"""Read the project's whole config namespace and validate it once, before any resource."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi.runtime.config as runtime_config
from pydantic import ValidationError

from config.errors import ConfigError, describe
from config.secrets import (
    SECRET_KEYS,
    SECRETS_BAG,
    bag_problems,
    secret_problems,
    secret_warnings,
)
from config.stack import StackConfig


def _project_config(namespace: str) -> dict[str, tuple[str, bool]]:
    """Every `<namespace>:<key>` the engine handed the program, as key -> (raw value, secret).

    `pulumi.Config` can only be asked for keys by name, and typos must not pass silently, so the
    keys are enumerated where the SDK keeps them: set explicitly (tests, automation) or in the
    PULUMI_CONFIG bag the CLI passes to the program (with PULUMI_CONFIG_SECRET_KEYS).
    """
    merged: dict[str, Any] = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret_in_env = set(runtime_config.get_config_secret_keys_env())
    prefix = f"{namespace}:"
    return {
        key[len(prefix) :]: (
            str(value),
            runtime_config.is_config_secret(key) or key in secret_in_env,
        )
        for key, value in merged.items()
        if key.startswith(prefix)
    }


def _parse(raw: str) -> Any:
    """Config values arrive as strings; objects and lists as JSON text (as `get_object` reads)."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def parse_stack_config(values: dict[str, Any], namespace: str) -> StackConfig:
    """Validate already-parsed top-level values (key without namespace -> value)."""
    try:
        return StackConfig.model_validate(values)
    except ValidationError as error:
        raise ConfigError(describe(error, namespace)) from None


# Coolify's rule for project and environment names (app/Support/ValidationPatterns.php:13,
# :417-433; ProjectController.php:249, :638 at v4.3.10): 3 to 255 characters.
COOLIFY_NAME_LENGTH = (3, 255)


def coolify_name_problems(project: str, stack: str) -> list[str]:
    """The stack's Coolify project is named after the Pulumi project, its environment after the
    stack: a name Coolify refuses would fail the first `up` halfway."""
    low, high = COOLIFY_NAME_LENGTH
    named = [
        ("project", project, "project", "rename it in Pulumi.yaml (`name:`)"),
        ("stack", stack, "environment", "rename the stack: pulumi stack rename <new name>"),
    ]
    return [
        f"{what} name {name!r}: Coolify names its {coolify} after it and refuses names "
        f"shorter than {low} or longer than {high} characters; {fix}"
        for what, name, coolify, fix in named
        if not low <= len(name) <= high
    ]


def load_stack_config() -> StackConfig:
    namespace = pulumi.get_project()
    raw = _project_config(namespace)
    secret_keys = {*SECRET_KEYS, SECRETS_BAG}
    secrets = {key: value for key, value in raw.items() if key in SECRET_KEYS}
    settings = {key: value for key, value in raw.items() if key not in secret_keys}
    problems = coolify_name_problems(namespace, pulumi.get_stack())
    # (A key that is no setting at all stays an unknown key, secret or not.)
    stored_as_secret = [
        key for key, (_, secret) in sorted(settings.items()) if secret and key in MODEL_KEYS
    ]
    problems += [
        f"{namespace}:{key}: stored as a secret, but it holds no secret and would be "
        f"read as plain text; set it again without --secret"
        for key in stored_as_secret
    ]
    try:
        config = parse_stack_config(
            {key: _parse(value) for key, (value, _) in settings.items()}, namespace
        )
    except ConfigError as error:
        # What else is wrong with such a key's value waits until it is set again: the value
        # is not shown (where the CLI cannot decrypt it, it would be a stand-in of ours).
        rest = [
            problem
            for problem in error.problems
            if not any(_about(problem, f"{namespace}:{key}") for key in stored_as_secret)
        ]
        raise ConfigError(problems + rest) from None
    problems += secret_problems(namespace, config, secrets)
    problems += bag_problems(namespace, config, raw.get(SECRETS_BAG))
    if problems:
        raise ConfigError(problems)
    for warning in secret_warnings(namespace, secrets):
        pulumi.log.warn(warning)
    return config


def _about(problem: str, key: str) -> bool:
    """Whether `problem` is about `key` ("platform:server") or a key inside it."""
    return problem.startswith(key) and problem[len(key) : len(key) + 1] in (":", ".", "[")


MODEL_KEYS = frozenset(info.alias for info in StackConfig.model_fields.values())
