"""The README documents what the code does: every config key, every server type, the commands."""

from __future__ import annotations

import typing

import pytest
from pydantic import BaseModel

from config.errors import nested_model
from config.hetzner import SERVER_TYPES
from config.model import StackConfig
from offline.stack_files import PROJECT_DIR

README = (PROJECT_DIR / "README.md").read_text()
# Models documented as one key: a hostname entry, a `{secret: name}` value.
LEAVES = ("HostEntry", "SecretValue")


def config_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        path = prefix + (field.alias or name)
        nested = nested_model(field.annotation)
        is_list = typing.get_origin(field.annotation) is list
        if nested is None or nested.__name__ in LEAVES or not nested.model_fields:
            keys.append(path)
        else:
            keys += config_keys(nested, path + ("[]." if is_list else "."))
    return keys


@pytest.mark.parametrize("key", config_keys(StackConfig))
def test_every_config_key_is_documented(key: str) -> None:
    assert f"| `{key}` |" in README


@pytest.mark.parametrize("server_type", sorted(SERVER_TYPES))
def test_every_server_type_is_in_the_table(server_type: str) -> None:
    spec = SERVER_TYPES[server_type]
    assert f"`{server_type}` {spec.vcpus}/{spec.memory_gb}/{spec.disk_gb}" in README


def test_the_readme_gives_the_commands_ci_runs() -> None:
    assert "scripts/test" in README
    assert "scripts/test" in (PROJECT_DIR / ".ci" / "run").read_text()
    assert ".venv/bin/python -m offline.plan production" in README
    for command in (
        "pulumi stack init",
        "pulumi config set --secret",
        "pulumi preview",
        "pulumi up",
    ):
        assert command in README
