"""Turn pydantic's validation errors into messages that name the config key and the fix."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

import pulumi
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from config.stack import StackConfig

_MAX_SHOWN_INPUT = 60


class ConfigError(pulumi.RunError):
    """The stack config is invalid. A RunError, so the Pulumi CLI prints the message without a
    Python traceback."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(
            f"the stack config has {len(problems)} problem(s):\n{lines}\n"
            "Fix them in Pulumi.<stack>.yaml (or with `pulumi config set --path <key> <value>`); "
            "every key is described in docs/configuration.md."
        )


def nested_model(annotation: Any) -> type[BaseModel] | None:
    """The model class inside an annotation such as `list[AppConfig]` or `HostEntry | None`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is None:
        return None
    if origin is typing.Annotated:
        return nested_model(typing.get_args(annotation)[0])
    if origin in (list, typing.Union, types.UnionType):
        for argument in typing.get_args(annotation):
            found = nested_model(argument)
            if found is not None:
                return found
    return None


def _field(model: type[BaseModel], alias: str) -> FieldInfo | None:
    for name, info in model.model_fields.items():
        if (info.alias or name) == alias:
            return info
    return None


def _model_at(loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] | None = StackConfig
    for part in loc:
        if isinstance(part, int):
            continue
        if model is None:
            return None
        info = _field(model, part)
        model = None if info is None else nested_model(info.annotation)
    return model


def key_path(namespace: str, loc: tuple[str | int, ...]) -> str:
    """("apps", 1, "name") -> "platform:apps[1].name"."""
    if not loc:
        return f"{namespace}:<root>"
    path = f"{namespace}:{loc[0]}"
    for part in loc[1:]:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _join(base: str, relative: str) -> str:
    if base.endswith(":<root>"):
        head, _, rest = relative.partition(".")
        return base.replace("<root>", head) + (f".{rest}" if rest else "")
    return base + (relative if relative.startswith("[") else f".{relative}")


def _description(loc: tuple[str | int, ...]) -> str:
    """ " -- what the key is for", from the field's description, to say what a value should be."""
    key_positions = [i for i, part in enumerate(loc) if isinstance(part, str)]
    if not key_positions:
        return ""
    last = key_positions[-1]
    model = _model_at(loc[:last])
    info = _field(model, str(loc[last])) if model else None
    return f" -- {info.description}" if info is not None and info.description else ""


def _shown(value: Any) -> str:
    if isinstance(value, dict | list) or value is None:
        return ""
    text = repr(value)
    return f", got {text}" if len(text) <= _MAX_SHOWN_INPUT else ""


def _describe_one(error: Any, namespace: str) -> str:
    loc = tuple(error["loc"])
    path = key_path(namespace, loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        allowed = sorted(
            info.alias or name for name, info in (model.model_fields.items() if model else [])
        )
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"{path}: unknown key; the keys allowed here are {', '.join(allowed)}{hint}"
    if kind == "missing":
        return f"{path}: required key is missing{_description(loc)}"
    context = error.get("ctx") or {}
    if context.get("at"):
        path = _join(path, context["at"])
    if kind == "config":  # our own messages quote the offending value and say what to do
        return f"{path}: {error['msg']}"
    return f"{path}: {error['msg']}{_shown(error.get('input'))}{_description(loc)}"


def describe(error: ValidationError, namespace: str) -> list[str]:
    return [_describe_one(item, namespace) for item in error.errors()]
