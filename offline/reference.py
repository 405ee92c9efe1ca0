"""The stack file's reference, generated from the models so that it cannot drift from them:

    .venv/bin/python -m offline.reference

writes schema/stack.schema.json (the JSON Schema of Pulumi.<stack>.yaml, which each stack file
names on its first line, so that an editor completes and checks its keys) and the table of
every key between the markers of docs/configuration.md (the rest of that page is written by
hand). The program's own validation stays the authority: the schema is for editors.
"""

from __future__ import annotations

import json
import typing
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import core_schema

from config.base import HostEntry, SecretValue
from config.errors import nested_model
from config.secrets import SECRET_KEYS, SECRETS_BAG
from config.stack import StackConfig
from offline.stack_files import PROJECT_DIR, PROVIDER_TOKENS, project_name

SCHEMA_PATH = PROJECT_DIR / "schema" / "stack.schema.json"
DOCS_PATH = PROJECT_DIR / "docs" / "configuration.md"
REGENERATE = ".venv/bin/python -m offline.reference"
BEGIN = "<!-- generated: keys -->"
END = "<!-- end generated -->"

# Models the page describes as one value, in its own words (a hostname entry; `{secret: name}`),
# rather than key by key.
ONE_VALUE_MODELS = (HostEntry, SecretValue)

# What the CLI writes for a value set with `pulumi config set --secret`.
SECURE_VALUE = {
    "type": "object",
    "description": "a value the Pulumi CLI encrypted (pulumi config set --secret)",
    "properties": {"secure": {"type": "string", "description": "its ciphertext"}},
    "required": ["secure"],
    "additionalProperties": False,
}


# `pulumi config set <key> <value>` writes a top-level value as a string, which the program
# reads as JSON (config/load.py): an object or a list as JSON text, true, false, a number.
CLI_TEXT = {
    "type": "string",
    "pattern": r"^\s*(\{[\s\S]*\}|\[[\s\S]*\]|true|false|-?[0-9]+(\.[0-9]+)?)\s*$",
    "description": "as `pulumi config set` writes it: JSON text",
}
# What a field's JSON schema carries for this generator alone (the docs' computed defaults).
DOCS_ONLY = ("default_text",)


def _setting(field: dict[str, Any]) -> dict[str, Any]:
    """A top-level setting: as the models have it, or, for anything but text, as the CLI
    writes it."""
    if field.get("type") == "string":
        return field
    return {"description": field.get("description", ""), "anyOf": [field, CLI_TEXT]}


def _without_docs_only(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _without_docs_only(v) for k, v in schema.items() if k not in DOCS_ONLY}
    if isinstance(schema, list):
        return [_without_docs_only(item) for item in schema]
    return schema


class _WithoutFieldTitles(GenerateJsonSchema):
    """Pydantic titles a field after its Python name ("Memorymb"); an editor shows the key."""

    def field_title_should_be_set(self, schema: core_schema.CoreSchema) -> bool:
        return False


def _secure(description: str) -> dict[str, Any]:
    return {"$ref": "#/$defs/SecureValue", "description": description}


def stack_file_schema(project: str) -> dict[str, Any]:
    """The JSON Schema of a stack file of `project`, as the Pulumi CLI reads it: its settings
    are `<project>:<key>`, each the StackConfig field of that key; its secret keys, the bag of
    the apps' secrets and the providers' tokens are encrypted values; other namespaces' keys
    are the CLI's and the providers' business."""
    models = _without_docs_only(
        StackConfig.model_json_schema(by_alias=True, schema_generator=_WithoutFieldTitles)
    )
    settings = {f"{project}:{key}": _setting(field) for key, field in models["properties"].items()}
    secrets = {
        f"{project}:{key}": _secure(
            f"{spec.description}; needed when {spec.needed_because} "
            f"(pulumi config set --secret {key})"
        )
        for key, spec in SECRET_KEYS.items()
    }
    bag_entries = {
        "type": "object",
        "propertyNames": {"$ref": "#/$defs/SecretValue/properties/secret"},
        "additionalProperties": {"$ref": "#/$defs/SecureValue"},
    }
    secrets[f"{project}:{SECRETS_BAG}"] = {
        "description": "the apps' external secrets, by the name a {secret: <name>} value gives "
        f"(pulumi config set --secret --path '{SECRETS_BAG}.<name>')",
        "anyOf": [bag_entries, {"$ref": "#/$defs/SecureValue"}],
    }
    tokens = {
        key: _secure(f"the provider's token; or {variable} in the environment")
        for key, variable in PROVIDER_TOKENS.items()
    }
    config = {
        "type": "object",
        "description": f"the stack's config: the settings under {project}:, validated by the "
        "program; encrypted values where the CLI writes them",
        "properties": settings | secrets | tokens,
        "required": [f"{project}:{key}" for key in models["required"]],
        # Any other namespace ("pulumi:", a provider's); an unknown key of ours is refused.
        "patternProperties": {f"^(?!{project}:)[^:]+:.+$": {}},
        "additionalProperties": False,
    }
    return {
        # Draft 7: what the YAML language server supports in full (its $refs name $defs by
        # path, which draft 7 resolves alike).
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": f"Pulumi.<stack>.yaml of the {project} project",
        "description": f"Generated from the models by `{REGENERATE}`: every key, its type and "
        "description, for editors. The program's own validation goes further (checks across "
        "keys, the memory, disk and CPU budgets, the secrets' formats) and is the authority: "
        "`.venv/bin/python -m offline.plan <stack>` runs it without the cloud.",
        "type": "object",
        "properties": {
            "config": config,
            "secretsprovider": {"type": "string", "description": "the CLI's secrets provider"},
            "encryptedkey": {"type": "string", "description": "the CLI's encrypted data key"},
            "encryptionsalt": {"type": "string", "description": "the passphrase's salt"},
            "environment": {
                "type": ["array", "object"],
                "description": "the Pulumi ESC environments the stack imports",
            },
        },
        "required": ["config"],
        "additionalProperties": False,
        "$defs": models["$defs"] | {"SecureValue": SECURE_VALUE},
    }


def schema_text(project: str) -> str:
    return json.dumps(stack_file_schema(project), indent=2, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class KeyRow:
    path: str  # as `pulumi config set --path` names it below the namespace: apps[].git.branch
    default: str  # Markdown
    description: str


def _shown(value: Any) -> str:
    """A default as it is written in the stack file, in Markdown."""
    if value is None:
        return "none"
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, dict | list):
        return f"`{yaml.safe_dump(value, default_flow_style=True, width=200).strip()}`"
    return f"`{value}`"


def _default(field: FieldInfo) -> str:
    """The field's default: a computed one as its `default_text` says it, else the model's."""
    extra = field.json_schema_extra
    if isinstance(extra, dict) and "default_text" in extra:
        return str(extra["default_text"])
    if field.is_required():
        return "required"
    return _shown(field.get_default(call_default_factory=True))


def key_rows(model: type[BaseModel] = StackConfig, prefix: str = "") -> list[KeyRow]:
    """Every key of `model` and of the models inside it, in the models' order."""
    rows = []
    for name, field in model.model_fields.items():
        path = prefix + (field.alias or name)
        rows.append(KeyRow(path, _default(field), field.description or ""))
        nested = nested_model(field.annotation)
        if nested is not None and not issubclass(nested, ONE_VALUE_MODELS):
            is_list = typing.get_origin(field.annotation) is list
            rows += key_rows(nested, path + ("[]." if is_list else "."))
    return rows


def keys_table(rows: list[KeyRow]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| key | default | what it is |", "|---|---|---|"]
    lines += [f"| `{row.path}` | {cell(row.default)} | {cell(row.description)} |" for row in rows]
    return "\n".join(lines)


def configuration_page(page: str, rows: list[KeyRow]) -> str:
    """docs/configuration.md with the table between its markers made from `rows`."""
    before, begin, rest = page.partition(BEGIN)
    _, end, after = rest.partition(END)
    if not begin or not end:
        raise ValueError(f"{DOCS_PATH.name} has lost its markers {BEGIN} ... {END}")
    notice = f"<!-- Written by `{REGENERATE}` from the models' descriptions: edit those. -->"
    return f"{before}{BEGIN}\n{notice}\n\n{keys_table(rows)}\n\n{END}{after}"


def main() -> None:
    SCHEMA_PATH.parent.mkdir(exist_ok=True)
    SCHEMA_PATH.write_text(schema_text(project_name()))
    DOCS_PATH.write_text(configuration_page(DOCS_PATH.read_text(), key_rows()))


if __name__ == "__main__":
    main()
