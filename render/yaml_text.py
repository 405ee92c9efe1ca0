"""YAML as the files on the server should read: multi-line strings as `|` blocks, keys in
the order given, and Compose's `!override` / `!reset` list tags."""

from __future__ import annotations

from typing import Any

import yaml


class Override(list[str]):
    """A compose list that replaces the base file's list (`!override`, Compose >= 2.24)."""


class Reset(list[str]):
    """A compose list that removes the base file's list (`!reset`)."""


class _Dumper(yaml.SafeDumper):
    pass


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(Override, lambda d, v: d.represent_sequence("!override", v))
_Dumper.add_representer(Reset, lambda d, v: d.represent_sequence("!reset", v))


def dump_yaml(document: dict[str, Any]) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=100)
