"""Refresh and destroy unpickle each Coolify resource's provider from the state, where the
program stored it by module path and class name (dill pickles an importable class by
reference). A rename or a move would strand every existing stack: these names are a contract,
and a renamed class keeps its old name as an alias in coolify.providers."""

from __future__ import annotations

import base64
import importlib
import pickletools

from pulumi.dynamic import ResourceProvider
from pulumi.dynamic.dynamic import serialize_provider

from coolify import resources

# Resource type in the state -> the provider class its `__provider` names. Add, never remove.
STATE_CONTRACT = {
    "pulumi-python:dynamic/coolify:Project": "coolify.providers.ProjectProvider",
    "pulumi-python:dynamic/coolify:Environment": "coolify.providers.EnvironmentProvider",
    "pulumi-python:dynamic/coolify:Server": "coolify.providers.ServerProvider",
    "pulumi-python:dynamic/coolify:RemoteServer": "coolify.providers.RemoteServerProvider",
    "pulumi-python:dynamic/coolify:Database": "coolify.providers.DatabaseProvider",
    "pulumi-python:dynamic/coolify:Service": "coolify.providers.ServiceProvider",
    "pulumi-python:dynamic/coolify:PrivateKey": "coolify.providers.PrivateKeyProvider",
    "pulumi-python:dynamic/coolify:Application": "coolify.providers.ApplicationProvider",
    "pulumi-python:dynamic/coolify:EnvVars": "coolify.providers.EnvVarsProvider",
    "pulumi-python:dynamic/coolify:Deploy": "coolify.providers.DeployProvider",
}


def _named_classes(serialized: str) -> list[str]:
    """The `module.Class` references in a serialized provider, as the unpickler reads them."""
    strings = [
        argument
        for opcode, argument, _ in pickletools.genops(base64.b64decode(serialized))
        if isinstance(argument, str) and opcode.name in ("SHORT_BINUNICODE", "BINUNICODE")
    ]
    return [f"{module}.{name}" for module, name in zip(strings[::2], strings[1::2], strict=False)]


def test_every_coolify_resource_stores_its_provider_by_the_contracted_name() -> None:
    declared = {
        f"pulumi-python:{cls._resource_type_name}": cls
        for cls in vars(resources).values()
        if isinstance(cls, type) and hasattr(cls, "_resource_type_name") and "provider" in vars(cls)
    }
    assert set(declared) == set(STATE_CONTRACT)
    for type_name, cls in declared.items():
        assert _named_classes(serialize_provider(cls.provider)) == [STATE_CONTRACT[type_name]]


def test_every_contracted_name_still_resolves_to_a_provider() -> None:
    """What an old state names must import, whatever the code is called today."""
    for path in STATE_CONTRACT.values():
        module, name = path.rsplit(".", 1)
        provider = getattr(importlib.import_module(module), name)
        assert issubclass(provider, ResourceProvider)
