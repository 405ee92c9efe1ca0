"""The stack file's reference says what the code does: docs/configuration.md and
schema/stack.schema.json are what `python -m offline.reference` makes of the models, the schema
takes every committed stack file and refuses what the program refuses, and the page's
hand-written parts name every server type, reference and example."""

from __future__ import annotations

import json
import re
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator
from pydantic import BaseModel

from config import ConfigError, StackConfig, parse_stack_config
from config.errors import nested_model
from config.hetzner import SERVER_TYPES
from config.secrets import SECRET_KEYS
from offline.reference import (
    DOCS_PATH,
    REGENERATE,
    SCHEMA_PATH,
    configuration_page,
    key_rows,
    schema_text,
)
from offline.stack_files import PROJECT_DIR, PROVIDER_TOKENS, project_name
from tests.support import PROJECT, tour_crm_config, with_value

PAGE = DOCS_PATH.read_text()
SCHEMA = json.loads(SCHEMA_PATH.read_text())
STACK_FILES = [
    *sorted(p for p in PROJECT_DIR.glob("Pulumi.*.yaml") if p.name != "Pulumi.yaml"),
    *sorted((PROJECT_DIR / "examples").glob("*.yaml")),
]
CIPHERTEXT = {"secure": "AAABAGb1pjTBvRjq3Cg4mq0DmlOqiLn0JCGFa4i3mV1uQ5gd7Q=="}  # as the CLI writes
MODELINE = re.compile(r"# yaml-language-server: \$schema=(\S+)")


def test_the_schema_is_what_the_models_make() -> None:
    assert SCHEMA_PATH.read_text() == schema_text(project_name()), (
        f"{SCHEMA_PATH.relative_to(PROJECT_DIR)} is out of date: run {REGENERATE}"
    )


def test_the_keys_table_is_what_the_models_make() -> None:
    assert configuration_page(PAGE, key_rows()) == PAGE, (
        f"{DOCS_PATH.relative_to(PROJECT_DIR)} is out of date: run {REGENERATE}"
    )


def test_every_key_says_what_it_is() -> None:
    assert [row.path for row in key_rows() if not row.description] == []


def test_the_schema_is_a_json_schema() -> None:
    Draft7Validator.check_schema(SCHEMA)


def problems(document: dict[str, Any]) -> list[str]:
    return [error.message for error in Draft7Validator(SCHEMA).iter_errors(document)]


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda path: path.name)
def test_the_schema_takes_every_committed_stack_file(path: Path) -> None:
    assert problems(yaml.safe_load(path.read_text())) == []


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda path: path.name)
def test_every_stack_file_names_the_schema_on_its_first_line(path: Path) -> None:
    found = MODELINE.fullmatch(path.read_text().splitlines()[0])
    assert found, f"{path.name}: the first line is not the yaml-language-server modeline"
    assert (path.parent / found.group(1)).resolve() == SCHEMA_PATH


def stack_document(config: dict[str, Any]) -> dict[str, Any]:
    """A stack file holding `config` (top-level key -> value) as settings of the project."""
    return {
        "encryptionsalt": "v1:salt",
        "config": {f"{PROJECT}:{key}": value for key, value in config.items()},
    }


def test_the_schema_takes_ciphertext_for_every_secret_and_the_keys_of_other_namespaces() -> None:
    document = stack_document(tour_crm_config())
    document["config"] |= {f"{PROJECT}:{key}": CIPHERTEXT for key in SECRET_KEYS}
    document["config"] |= dict.fromkeys(PROVIDER_TOKENS, CIPHERTEXT)
    document["config"][f"{PROJECT}:secrets"] = {"stripeSecretKey": CIPHERTEXT}
    document["config"]["hcloud:endpoint"] = "https://api.hetzner.cloud/v1"
    assert problems(document) == []


def test_the_schema_takes_top_level_values_as_the_cli_writes_them() -> None:
    """`pulumi config set platform:githubWebhooks true` stores the text "true", and
    `pulumi config set platform:network '{}'` the text "{}": the program reads both as JSON."""
    config = tour_crm_config()
    document = stack_document(config)
    document["config"][f"{PROJECT}:githubWebhooks"] = "true"
    document["config"][f"{PROJECT}:network"] = "{}"
    document["config"][f"{PROJECT}:apps"] = json.dumps(config["apps"])
    assert problems(document) == []
    parse_stack_config(
        {**config, "githubWebhooks": json.loads("true"), "network": json.loads("{}")}, PROJECT
    )  # the program takes what it parses
    document["config"][f"{PROJECT}:githubWebhooks"] = "yes"
    assert problems(document) != []


def test_the_schema_says_nothing_only_the_docs_need() -> None:
    assert "default_text" not in json.dumps(SCHEMA)


def test_the_schema_takes_a_hostname_as_a_bare_name_or_an_object() -> None:
    config = tour_crm_config()
    config["coolify"] = {"hostname": {"host": "admin", "proxied": True}}
    config["services"]["minio"] = {"hostname": "files", "consoleHostname": "files-console"}
    StackConfig.model_validate(config)  # the program takes it
    assert problems(stack_document(config)) == []


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("domian", "example.com"),  # a misspelt top-level key
        ("server.tpye", "cx33"),  # ... and one inside
        ("server.type", "CX43"),  # not in Hetzner's catalogue (types are lower case)
        ("server.location", "FSN1"),
        ("server.backups", [True]),  # a wrong type
        ("apps[0].domains", "crm"),  # ... a name for the list of names
        ("apps[0].port", 70000),  # out of range
        ("apps[0].env.lower_case", "x"),  # not a variable's name
        ("apps[0].domains", [{"host": "crm", "proxy": False}]),  # a misspelt key of an entry
    ],
)
def test_the_schema_refuses_what_the_program_refuses(key: str, value: Any) -> None:
    config = with_value(tour_crm_config(), key, value)
    with pytest.raises(ConfigError):
        parse_stack_config(config, PROJECT)
    assert problems(stack_document(config)) != []


@pytest.mark.parametrize(
    ("key", "value"),
    [
        (f"{PROJECT}:backupAccessKeyId", "K0012345678901234567890"),
        (f"{PROJECT}:secrets", {"stripeSecretKey": "sk_live_123"}),
        ("hcloud:token", "plain-token"),
        ("cloudflare:apiToken", {"secure": 42}),
    ],
)
def test_the_schema_refuses_a_secret_in_plain_text(key: str, value: Any) -> None:
    document = stack_document(tour_crm_config())
    document["config"][key] = value
    assert problems(document) != []


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
    assert f"| `{key}` |" in PAGE


@pytest.mark.parametrize("server_type", sorted(SERVER_TYPES))
def test_every_server_type_is_in_the_table(server_type: str) -> None:
    spec = SERVER_TYPES[server_type]
    assert f"`{server_type}` {spec.vcpus}/{spec.memory_gb}/{spec.disk_gb}" in PAGE


APP_URL = re.compile(r"^apps\.\w+\.")


def test_every_reference_an_app_can_make_is_in_the_environment_table() -> None:
    config = StackConfig.model_validate(
        {**tour_crm_config(), "apps": [{**tour_crm_config()["apps"][0], "buckets": ["files"]}],
         "services": {**tour_crm_config()["services"], "minio": {"buckets": [{"name": "files"}]}}}
    )  # fmt: skip
    problem = config.ref_problem(config.apps[0], "nothing.here")
    assert problem is not None
    known = problem.split("known here: ")[1].split(", ")
    table = PAGE[PAGE.index("**Environment values.**") :].split("\n\n")[1]
    for ref in known:
        shown = APP_URL.sub("apps.api.", ref)  # the table's example app
        assert f"`{shown}`" in table or f"{{ref: {shown}}}" in table, ref


def test_the_examples_section_counts_the_files() -> None:
    examples = sorted(p.name for p in (PROJECT_DIR / "examples").glob("*.yaml"))
    section = PAGE[PAGE.index("## The seed systems as examples") :]
    section = section[: section.index("\n## ")]
    assert [name for name in examples if f"| `{name}` |" in section] == examples
    assert "the five systems of `../shared/seeds/`" in section
    assert "and a sixth" in section
    assert len(examples) == 6
