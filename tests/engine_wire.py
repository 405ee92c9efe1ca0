"""The Pulumi engine's side of a dynamic provider, for the tests: the SDK's provider host
started the way the engine starts `pulumi-resource-pulumi-python` (`python -u -m
pulumi.dynamic` in the program's directory, with the program's venv), and driven over its gRPC
interface with properties serialized by the SDK.

What the provider sees is what it sees under `pulumi up`:
- every number is a double (`22` arrives as `22.0`): protobuf's Struct has no integers;
- the program's secrets (the connection, `__provider`) are serialized as secrets, and the
  engine unwraps them before it calls a provider that does not accept secrets, as the dynamic
  provider host answers to Configure;
- a value the program does not know yet (`rpc.UNKNOWN`) reaches Check and Diff in a preview;
- Check runs before Create, Diff and Update, and what it returns is what they get;
- Diff and Update get the old outputs from the state, Read and Delete the stored outputs;
- a preview never calls Create or Update: the host does not support previews, so the engine
  takes the checked inputs as the outputs (tests/simulated_up.py);
- a provider's exception reaches the engine as the traceback text of a gRPC error.

`__provider` is serialized by the SDK's own `serialize_provider`, as `pulumi.dynamic.Resource`
does, so the host unpickles exactly what it finds in a real state.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pulumi
from google.protobuf import json_format, struct_pb2
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, ResourceProvider, UpdateResult
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from coolify.budget import DEFAULT_RATE_LIMIT, RATE_LIMIT_VARIABLE
from offline.engine import reveal

PROGRAM_DIR = Path(__file__).resolve().parent.parent
# A sitecustomize that makes the host's sleeps (Coolify's retry back-off, the providers'
# polling) a hundredth as long; nothing else in the host changes.
FAST_CLOCK = Path(__file__).resolve().parent / "provider_host"
HOST_MINUTE = 0.6  # seconds: a minute of sleeps in a host on the fast clock
PROVIDER_KEY = "__provider"


@dataclass(frozen=True)
class Secret:
    """A value the program hands the engine as a secret Output."""

    value: Any


class ProviderError(Exception):
    """A provider operation failed. The text is the host's traceback, which the engine shows
    the user; `kind` and `message` are the exception's class name and message."""

    def __init__(self, details: str) -> None:
        super().__init__(details)
        *_, last = re.finditer(r"^(?:[\w.]+\.)?(\w+): ", details, re.MULTILINE)
        self.kind = last.group(1)
        self.message = details[last.end() :].rstrip("\n")


def _program_side(value: Any) -> Any:
    if isinstance(value, Secret):
        return pulumi.Output.secret(_program_side(value.value))
    if isinstance(value, dict):
        return {key: _program_side(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_program_side(item) for item in value]
    return value


def program_serialized(props: dict[str, Any]) -> struct_pb2.Struct:
    """`props` as the program hands them to the engine (the SDK's rpc.serialize_properties)."""

    async def program() -> struct_pb2.Struct:
        return await rpc.serialize_properties(_program_side(props), {})

    return asyncio.run(program())


def to_provider(struct: struct_pb2.Struct) -> struct_pb2.Struct:
    """What the engine passes on to a dynamic provider host of what the program sent: the
    host does not accept secrets, so the engine unwraps every one."""
    wire = struct_pb2.Struct()
    wire.update(reveal(json_format.MessageToDict(struct)))
    return wire


def serialize(props: dict[str, Any]) -> struct_pb2.Struct:
    return to_provider(program_serialized(props))


def deserialize(struct: struct_pb2.Struct) -> dict[str, Any]:
    """What the engine keeps from the provider's answer (without `__provider`)."""
    values = rpc.deserialize_properties(struct, keep_unknowns=True)
    return {key: value for key, value in values.items() if key != PROVIDER_KEY}


class ProviderHost:
    """One running `python -m pulumi.dynamic`, configured as the engine configures it."""

    def __init__(self, *, fast_clock: bool = True) -> None:
        env = dict(os.environ, PULUMI_PROJECT="platform")
        if fast_clock:
            paths = [str(FAST_CLOCK), *filter(None, [env.get("PYTHONPATH")])]
            env["PYTHONPATH"] = os.pathsep.join(paths)
            # A minute of the host's sleeps lasts HOST_MINUTE: so do Coolify's 200 requests.
            env[RATE_LIMIT_VARIABLE] = str(int(DEFAULT_RATE_LIMIT * 60 / HOST_MINUTE))
        self.process = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.dynamic"],
            cwd=PROGRAM_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
        )
        assert self.process.stdout is not None
        port = int(self.process.stdout.readline())
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)
        answer = self.stub.Configure(
            provider_pb2.ConfigureRequest(
                args=struct_pb2.Struct(), acceptSecrets=True, acceptResources=True
            )
        )
        assert not answer.acceptSecrets  # why to_provider unwraps the secrets

    def close(self) -> None:
        self.channel.close()
        self.process.terminate()
        assert self.process.stdout is not None
        self.process.stdout.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def call(self, method: str, request: Any) -> Any:
        try:
            return getattr(self.stub, method)(request)
        except grpc.RpcError as error:
            raise ProviderError(error.details()) from None  # type: ignore[attr-defined]

    def provider(self, provider: ResourceProvider, type_name: str = "Resource") -> WireProvider:
        return WireProvider(self, provider, type_name)


@contextmanager
def provider_host(*, fast_clock: bool = True) -> Iterator[ProviderHost]:
    host = ProviderHost(fast_clock=fast_clock)
    try:
        yield host
    finally:
        host.close()


class WireProvider:
    """A provider seen from the engine: the same calls as a ResourceProvider, each one the
    gRPC request(s) the engine makes for it. `olds` are what the state holds (outputs)."""

    def __init__(self, host: ProviderHost, provider: ResourceProvider, type_name: str) -> None:
        self.host = host
        self.serialized = serialize_provider(provider)  # as pulumi.dynamic.Resource does
        self.type = f"pulumi-python:dynamic/coolify:{type_name}"
        self.urn = f"urn:pulumi:test::platform::{self.type}::{type_name.lower()}"

    def _props(self, props: dict[str, Any]) -> struct_pb2.Struct:
        # The resource classes mark the connection secret; the program makes __provider one.
        marked = {
            key: Secret(value) if key == "connection" and not isinstance(value, Secret) else value
            for key, value in props.items()
            if key != PROVIDER_KEY
        }
        return serialize({**marked, PROVIDER_KEY: Secret(self.serialized)})

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> struct_pb2.Struct:
        request = provider_pb2.CheckRequest(
            urn=self.urn, olds=self._props(olds) if olds else struct_pb2.Struct(),
            news=self._props(news), type=self.type,
        )  # fmt: skip
        answer = self.host.call("Check", request)
        assert not answer.failures, answer.failures
        return answer.inputs

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = self.check({}, props)
        answer = self.host.call(
            "Create", provider_pb2.CreateRequest(urn=self.urn, properties=inputs, type=self.type)
        )
        return CreateResult(answer.id, deserialize(answer.properties))

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        inputs = self.check(olds, news)
        answer = self.host.call(
            "Diff",
            provider_pb2.DiffRequest(
                id=id_, urn=self.urn, olds=self._props(olds), news=inputs, type=self.type,
                old_inputs=self._props(olds),
            ),
        )  # fmt: skip
        changes = {
            provider_pb2.DiffResponse.DIFF_SOME: True,
            provider_pb2.DiffResponse.DIFF_NONE: False,
        }.get(answer.changes)
        return DiffResult(
            changes=changes,
            replaces=list(answer.replaces),
            delete_before_replace=answer.deleteBeforeReplace,
        )

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        inputs = self.check(olds, news)
        answer = self.host.call(
            "Update",
            provider_pb2.UpdateRequest(
                id=id_, urn=self.urn, olds=self._props(olds), news=inputs, type=self.type,
                old_inputs=self._props(olds),
            ),
        )  # fmt: skip
        return UpdateResult(deserialize(answer.properties))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        stored = self._props(props)
        answer = self.host.call(
            "Read",
            provider_pb2.ReadRequest(
                id=id_, urn=self.urn, properties=stored, inputs=stored, type=self.type
            ),
        )
        return ReadResult(answer.id or None, deserialize(answer.properties))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        stored = self._props(props)
        self.host.call(
            "Delete",
            provider_pb2.DeleteRequest(
                id=id_, urn=self.urn, properties=stored, old_inputs=stored, type=self.type
            ),
        )
