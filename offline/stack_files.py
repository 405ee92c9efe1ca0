"""Read Pulumi.yaml and Pulumi.<stack>.yaml the way the CLI hands them to the program."""

from __future__ import annotations

import ipaddress
import json
import os
import re
from dataclasses import dataclass, field
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
    # Every secret the stack needs (a config path: "backupAccessKeyId", "secrets.stripeKey",
    # "hcloud:token") -> whether the file holds it ("set") or not ("missing").
    secrets: dict[str, str] = field(default_factory=dict)
    # Values the committed files carry until the user gives their own: (key, value).
    placeholders: list[tuple[str, str]] = field(default_factory=list)


# The providers' tokens: a stack file holds them encrypted, or the environment gives them.
PROVIDER_TOKENS = {"hcloud:token": "HCLOUD_TOKEN", "cloudflare:apiToken": "CLOUDFLARE_API_TOKEN"}


# What marks a value as the committed files' stand-in for the user's own: the word, the
# domains and networks reserved for documentation (RFC 2606, 6761, 5737, 3849), a phone number
# of zeros.
PLACEHOLDER_WORD = re.compile(r"replace[-_]?me|your-org|changeme", re.IGNORECASE)
DOCUMENTATION_DOMAIN = re.compile(
    r"(?:^|[.@/])(?:example\.(?:com|net|org)|[a-z0-9-]+\.(?:example|test|invalid))(?![\w.-])",
    re.IGNORECASE,
)
DOCUMENTATION_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)
ZEROS_PHONE = re.compile(r"^\+\d0{6,}$")


def in_documentation_network(value: str) -> bool:
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return any(
        network.version == documentation.version and network.subnet_of(documentation)  # type: ignore[arg-type]
        for documentation in DOCUMENTATION_NETWORKS
    )


def is_placeholder(value: str) -> bool:
    return bool(
        PLACEHOLDER_WORD.search(value)
        or DOCUMENTATION_DOMAIN.search(value)
        or ZEROS_PHONE.match(value)
        or in_documentation_network(value)
    )


def placeholders(project: str, raw: dict[str, Any]) -> list[tuple[str, str]]:
    """Every plain value of the stack file's config that is a placeholder, by key (as
    `pulumi config set --path` names it); encrypted values are not read."""
    found: list[tuple[str, str]] = []

    def walk(path: str, value: Any) -> None:
        if _is_secure(value):
            return
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{path}.{key}", item)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(f"{path}[{index}]", item)
        elif isinstance(value, str) and is_placeholder(value):
            found.append((path, value))

    for key, value in raw.items():
        walk(key.removeprefix(f"{project}:"), value)
    return found


def project_name(project_dir: Path = PROJECT_DIR) -> str:
    return str(yaml.safe_load((project_dir / "Pulumi.yaml").read_text())["name"])


def stack_names(project_dir: Path = PROJECT_DIR) -> list[str]:
    return sorted(path.name[len("Pulumi.") : -len(".yaml")] for path in _stack_paths(project_dir))


def _stack_paths(project_dir: Path) -> list[Path]:
    return [p for p in project_dir.glob("Pulumi.*.yaml") if p.name != "Pulumi.yaml"]


def set_secret_command(path: str) -> str:
    """How to set a secret: `--path` for an entry of an object (`secrets.<name>`)."""
    if "." in path:
        return f"pulumi config set --secret --path '{path}'"
    if path in PROVIDER_TOKENS:  # kept out of the file that CI previews decrypt
        return f"export {PROVIDER_TOKENS[path]}=...  (or pulumi config set --secret {path})"
    return f"pulumi config set --secret {path}"


def _is_secure(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


def secure_stand_in(project: str, path: str) -> str:
    """What the offline engine reads for an encrypted value at `path` ("key" or "key.sub"),
    which it cannot decrypt: a value of the key's own form, where the key has one."""
    from config.secrets import SECRET_KEYS, SECRETS_BAG  # noqa: PLC0415 -- only offline

    key, _, rest = path.partition(".")
    if ":" not in key and key in SECRET_KEYS and not rest:
        return SECRET_KEYS[key].stand_in
    if key == SECRETS_BAG and rest:
        return f"offline-placeholder-{rest}"
    return f"offline-placeholder-for-{project}:{path}" if ":" not in key else f"offline-{path}"


def _decrypted(project: str, path: str, value: Any, secure: list[str]) -> Any:
    """`value` with every encrypted leaf replaced by its stand-in; their paths go to `secure`."""
    if _is_secure(value):
        secure.append(path)
        return secure_stand_in(project, path)
    if isinstance(value, dict):
        return {k: _decrypted(project, f"{path}.{k}", v, secure) for k, v in value.items()}
    if isinstance(value, list):
        return [_decrypted(project, f"{path}[{n}]", v, secure) for n, v in enumerate(value)]
    return value


def config_values(
    project: str, raw: dict[str, Any], secure: list[str] | None = None
) -> tuple[dict[str, str], list[str]]:
    """Stack-file config -> ("project:key" -> string, secret keys), as the CLI passes it:
    objects and lists become JSON text and scalars strings, and a key that holds an encrypted
    value anywhere (`pulumi config set --secret`, or with `--path` for a nested one) is a
    secret key. An encrypted value cannot be read offline: it becomes a stand-in of the same
    form; the paths of those that were set go to `secure` (without the project's prefix)."""
    values: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in raw.items():
        full_key = key if ":" in key else f"{project}:{key}"
        path = full_key.removeprefix(f"{project}:")
        found: list[str] = []
        plain = _decrypted(project, path, value, found)
        values[full_key] = plain if isinstance(plain, str) else json.dumps(plain)
        if found:
            secret_keys.append(full_key)
        if secure is not None:
            secure += found
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


def _needed_secrets(
    project: str, config: dict[str, str], secret_keys: list[str], secure: list[str]
) -> dict[str, str]:
    """Every secret the stack needs, "set" where the file holds it (a provider's token also
    where its variable is in the environment, as the quick start gives it), else "missing"; a
    stand-in is added for each missing one, so that the offline plan runs without them. (A
    secret the file holds and nothing needs is left for the program to refuse, as it does for
    real.)"""
    from config import ConfigError  # noqa: PLC0415 -- only offline
    from config.secrets import SECRET_KEYS, SECRETS_BAG  # noqa: PLC0415

    prefix = f"{project}:"
    status = {
        key: "set" if key in secure else "set in the environment" if os.environ.get(variable)
        else "missing"
        for key, variable in PROVIDER_TOKENS.items()
    }  # fmt: skip
    try:
        parsed = stack_config(project, config)
    except ConfigError:
        return status  # the evaluation reports the problems
    for key, spec in SECRET_KEYS.items():
        if spec.needed_by(parsed):
            status[key] = "set" if key in secure else "missing"
            if f"{prefix}{key}" not in config:
                config[f"{prefix}{key}"] = spec.stand_in
                secret_keys.append(f"{prefix}{key}")
    bag_key = f"{prefix}{SECRETS_BAG}"
    try:
        bag = json.loads(config.get(bag_key, "{}"))
    except ValueError:
        bag = None  # not an object: the program says so, as it does for real
    for name in parsed.secret_names():
        path = f"{SECRETS_BAG}.{name}"
        status[path] = "set" if path in secure else "missing"
        if isinstance(bag, dict):
            bag.setdefault(name, secure_stand_in(project, path))
    if bag:
        if bag_key not in config:  # else it is secret as the file has it (plain text is refused)
            secret_keys.append(bag_key)
        config[bag_key] = json.dumps(bag)
    return status


class StackFileError(ValueError):
    """A stack file that is not valid YAML: where, and what the parser expected."""


def _yaml_document(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        context = f" ({error.context})" if error.context else ""
        raise StackFileError(f"{path.name}{where}: {error.problem}{context}") from None
    except yaml.YAMLError as error:
        raise StackFileError(f"{path.name}: {error}") from None
    if not isinstance(document, dict):
        raise StackFileError(f"{path.name}: a stack file is a mapping with a `config:` key")
    return document


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
    document = _yaml_document(path)
    secure: list[str] = []
    config, secret_keys = config_values(project, document.get("config") or {}, secure)
    secrets = _needed_secrets(project, config, secret_keys, secure)
    found = placeholders(project, document.get("config") or {})
    return StackFile(project, stack, config, secret_keys, secrets, found)
