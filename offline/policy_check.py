"""The policy pack run on a recording, as `pulumi preview --policy-pack policy` runs it on the
engine's resources: inputs with secrets revealed (the engine hands policies plain values) and
each policy's default config."""

from __future__ import annotations

from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from offline.engine import RecordedResource, Recording, reveal
from policy.rules import POLICIES


def default_config(policy: ResourceValidationPolicy) -> dict[str, Any]:
    schema = policy.config_schema
    properties = schema.properties if schema is not None else {}
    return {key: spec["default"] for key, spec in properties.items() if "default" in spec}


def validation_args(
    resource: RecordedResource, config: dict[str, Any] | None = None
) -> ResourceValidationArgs:
    opts = PolicyResourceOptions(
        protect=resource.protect,
        ignore_changes=resource.ignore_changes,
        delete_before_replace=resource.delete_before_replace,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=resource.additional_secret_outputs,
        parent=resource.parent or None,
    )
    return ResourceValidationArgs(
        resource.type, reveal(resource.inputs), resource.urn, resource.name, opts, None, config
    )


def violations(
    policy: ResourceValidationPolicy,
    resource: RecordedResource,
    config: dict[str, Any] | None = None,
) -> list[str]:
    found: list[str] = []

    def report(message: str, _urn: str | None = None) -> None:
        found.append(message)

    policy.validate(validation_args(resource, default_config(policy) | (config or {})), report)
    return found


def check(recording: Recording) -> list[str]:
    """Every violation of every policy by every resource: `policy-name: message`."""
    return [
        f"{policy.name}: {message}"
        for resource in recording.resources
        if resource.custom
        for policy in POLICIES
        for message in violations(policy, resource)
    ]
