"""Read Pulumi.yaml and Pulumi.<stack>.yaml the way the CLI hands them to the program."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from config import StackConfig

PROJECT_DIR = Path(__file__).resolve().parent.parent
PROGRAM = PROJECT_DIR / "__main__.py"


@dataclass(frozen=True)
class StackFile:
    project: str
    stack: str
    config: dict[str, str]
    secret_keys: list[str]


def project_name(project_dir: Path = PROJECT_DIR) -> str:
    return str(yaml.safe_load((project_dir / "Pulumi.yaml").read_text())["name"])


def stack_names(project_dir: Path = PROJECT_DIR) -> list[str]:
    return sorted(path.name[len("Pulumi.") : -len(".yaml")] for path in _stack_paths(project_dir))


def _stack_paths(project_dir: Path) -> list[Path]:
    return [p for p in project_dir.glob("Pulumi.*.yaml") if p.name != "Pulumi.yaml"]


def config_values(project: str, raw: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """Stack-file config -> ("project:key" -> string, secret keys). Objects and lists become
    JSON text and scalars strings, as the CLI passes them. An encrypted value cannot be read
    offline: it becomes a placeholder that is marked secret, like the real value would be."""
    values: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in raw.items():
        full_key = key if ":" in key else f"{project}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            values[full_key] = f"offline-placeholder-for-{full_key}"
            secret_keys.append(full_key)
        elif isinstance(value, str):
            values[full_key] = value
        else:
            values[full_key] = json.dumps(value)
    return values, secret_keys


def stack_config(project: str, config: dict[str, str]) -> StackConfig:
    """The validated model of a stack file's settings (its secrets left out), as the program
    would load it; raises ConfigError."""
    from config import parse_stack_config  # noqa: PLC0415 -- only offline
    from config.secrets import SECRET_KEYS, SECRETS_BAG  # noqa: PLC0415

    prefix = f"{project}:"
    settings = {
        key[len(prefix) :]: json.loads(value) if value[:1] in "{[" else value
        for key, value in config.items()
        if key.startswith(prefix) and key[len(prefix) :] not in {*SECRET_KEYS, SECRETS_BAG}
    }
    return parse_stack_config(settings, project)


def _secret_stand_ins(project: str, config: dict[str, str], secret_keys: list[str]) -> None:
    """Add stand-ins for the secret config the stack needs and the file does not hold: a
    stack file never holds secrets, and the offline plan must run without them."""
    from config import ConfigError  # noqa: PLC0415 -- only offline
    from config.secrets import SECRET_KEYS, SECRETS_BAG  # noqa: PLC0415

    prefix = f"{project}:"
    try:
        parsed = stack_config(project, config)
    except ConfigError:
        return  # the evaluation reports the problems
    for key, spec in SECRET_KEYS.items():
        if spec.needed_by(parsed) and f"{prefix}{key}" not in config:
            config[f"{prefix}{key}"] = spec.stand_in
            secret_keys.append(f"{prefix}{key}")
    names = parsed.secret_names()
    if names and f"{prefix}{SECRETS_BAG}" not in config:
        config[f"{prefix}{SECRETS_BAG}"] = json.dumps(
            {n: f"offline-placeholder-{n}" for n in names}
        )
        secret_keys.append(f"{prefix}{SECRETS_BAG}")


def read_stack_file(stack: str, project_dir: Path = PROJECT_DIR) -> StackFile:
    """The stack `stack` (Pulumi.<stack>.yaml), or a stack file given by its path (an example:
    the stack is named after the file)."""
    path = Path(stack) if stack.endswith(".yaml") else project_dir / f"Pulumi.{stack}.yaml"
    if not path.exists():
        known = ", ".join(stack_names(project_dir)) or "none"
        raise FileNotFoundError(f"no stack file {path.name}; the stacks here are: {known}")
    if stack.endswith(".yaml"):
        stack = path.stem
    project = project_name(project_dir)
    document = yaml.safe_load(path.read_text()) or {}
    config, secret_keys = config_values(project, document.get("config") or {})
    _secret_stand_ins(project, config, secret_keys)
    return StackFile(project=project, stack=stack, config=config, secret_keys=secret_keys)
