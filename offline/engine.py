"""Evaluate the Pulumi program without the CLI, a backend or any cloud: Pulumi's mocks stand in
for the engine and the providers, and every registration is recorded for the tests and the
offline plan.

The recording keeps what the real engine would store in state: every resource's inputs and
outputs with secret values still wrapped as secrets, its resource options, the stack outputs,
the invokes and the log. Where the engine, not the SDK, makes a value secret, the mock monitor
does the same: `additionalSecretOutputs` (RandomPassword.result, RandomBytes.hex, ...) and an
output whose input of the same name was secret.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import random
import runpy
import string
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pulumi
from pulumi.runtime import mocks, rpc, set_all_config
from pulumi.runtime.settings import get_root_resource, reset_options
from pulumi.runtime.stack import Stack, massage
from pulumi.runtime.sync_await import _sync_await  # the SDK's own mock monitor uses it too

from coolify import resources as coolify_resources
from offline.stack_files import PROGRAM, StackFile, read_stack_file

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"
GET_ZONE_INVOKE = "cloudflare:index/getZone:getZone"
DYNAMIC_TYPE_PREFIX = "pulumi-python:dynamic"
# What each dynamic resource's provider adds to its inputs. No provider runs under mocks, so
# each gets a stand-in ("mock-<output>-of-<resource>"), which shows in any input built from it.
DYNAMIC_COMPUTED: dict[str, tuple[str, ...]] = {
    f"pulumi-python:{cls._resource_type_name}": getattr(cls, "computed", ())
    for cls in vars(coolify_resources).values()
    if isinstance(cls, type) and issubclass(cls, pulumi.dynamic.Resource)
    and "provider" in vars(cls)
}  # fmt: skip


@dataclass
class RecordedResource:
    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    id: str | None
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    protect: bool
    ignore_changes: list[str]
    delete_before_replace: bool
    dependencies: list[str]
    additional_secret_outputs: list[str]
    replace_on_changes: list[str]
    deleted_with: str  # the URN of the resource it is deleted with, or ""
    provider: str  # its explicit provider ("<urn>::<id>"), or "" for the package's default


@dataclass
class Recording:
    project: str
    stack: str
    resources: list[RecordedResource] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    stack_outputs: dict[str, Any] = field(default_factory=dict)
    log: list[tuple[str, str]] = field(default_factory=list)
    secret_config: dict[str, str] = field(default_factory=dict)
    error: Exception | None = None
    """What the program raised, if it failed; what it registered until then is kept."""

    def of_type(self, type_: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_]

    def named(self, name: str) -> RecordedResource:
        (match,) = [r for r in self.resources if r.name == name]
        return match

    def children_of(self, parent: RecordedResource) -> list[RecordedResource]:
        return [r for r in self.resources if r.parent == parent.urn]


# --- secrets as the engine stores them --------------------------------------------------------


def is_secret(value: Any) -> bool:
    return bool(rpc.is_rpc_secret(value))


def reveal(value: Any) -> Any:
    """The value with every secret wrapper removed (what a `--show-secrets` export would show)."""
    if is_secret(value):
        return reveal(value["value"])
    if isinstance(value, dict):
        return {key: reveal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [reveal(item) for item in value]
    return value


def plain_strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, text) for every string stored in plain text, i.e. outside any secret wrapper."""
    if is_secret(value):
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield from plain_strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from plain_strings(item, f"{path}[{index}]")
    elif isinstance(value, str):
        yield path, value
    elif hasattr(value, "text"):  # a StringAsset, e.g. a file uploaded by CopyToRemote
        yield path, str(value.text)


def secret_strings(value: Any) -> Iterator[str]:
    """Every string inside a secret wrapper."""
    if is_secret(value):
        yield from (text for _, text in plain_strings(reveal(value)))
    elif isinstance(value, dict):
        for item in value.values():
            yield from secret_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from secret_strings(item)


MIN_SECRET_LENGTH = 8  # shorter strings (a port, "true") would match by accident
# Where secrets are born: the outputs these resources mark secret. A bundle that merely holds
# a secret (a connection with a token and a host address) makes none of its other parts secret.
SECRET_SOURCES = frozenset({
    "random:index/randomPassword:RandomPassword",
    "random:index/randomBytes:RandomBytes",
    "tls:index/privateKey:PrivateKey",
})  # fmt: skip


def generated_secrets(recording: Recording) -> set[str]:
    """The secret values of the stack: what pulumi-random and pulumi-tls generated, and the
    config values read as secrets."""
    found = set(recording.secret_config.values())
    for resource in recording.resources:
        if resource.type in SECRET_SOURCES:
            for name in resource.additional_secret_outputs:
                found |= set(secret_strings(resource.outputs.get(name)))
    return {text for text in found if len(text) >= MIN_SECRET_LENGTH}


def find_leaks(recording: Recording) -> list[str]:
    """Where a secret value of the stack appears in plain text: in a resource's inputs or
    outputs, a stack output or the log. Empty when every secret stays secret."""
    stores: list[tuple[str, Any]] = []
    for resource in recording.resources:
        stores.append((f"{resource.name} inputs", resource.inputs))
        stores.append((f"{resource.name} outputs", resource.outputs))
    stores.append(("stack outputs", recording.stack_outputs))
    stores.append(("log", [message for _, message in recording.log]))
    secrets = generated_secrets(recording)
    return [
        f"{where}: {path}"
        for where, store in stores
        for path, text in plain_strings(store)
        if any(secret in text for secret in secrets)
    ]


# --- the mocks ---------------------------------------------------------------------------------


def _digest(args: mocks.MockResourceArgs) -> int:
    text = f"{args.typ}:{args.name}".encode()
    return int(hashlib.sha256(text).hexdigest()[:12], 16)


class PlatformMocks(pulumi.runtime.Mocks):
    """Computed outputs for the resource types the program uses. Resources register from
    several threads in no fixed order, so ids, addresses and random values derive from each
    resource's type and name, never from a counter: every run gives the same values. Ids are
    numeric because the hcloud SDK takes ids as ints."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        outputs = dict(args.inputs)
        computed = _COMPUTED.get(args.typ)
        if computed is not None:
            outputs.update(computed(args))
        return str(1000 + _digest(args) % 10**9), outputs

    def call(self, args: mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        self.calls.append((args.token, dict(args.args)))
        if args.token == GET_ZONE_INVOKE:
            name = args.args["filter"]["name"]
            zone_id = hashlib.md5(name.encode(), usedforsecurity=False).hexdigest()
            return {"id": zone_id, "zoneId": zone_id, "name": name, "status": "active"}, []
        raise NotImplementedError(f"no mock for the invoke {args.token}")


def _seeded(args: mocks.MockResourceArgs) -> random.Random:
    return random.Random(_digest(args))  # noqa: S311 -- stand-in values, not secrets


def _server(args: mocks.MockResourceArgs) -> dict[str, Any]:
    """Addresses from the documentation ranges (RFC 5737, RFC 3849)."""
    n = _digest(args)
    return {
        "ipv4Address": f"203.0.113.{10 + n % 240}",
        "ipv6Address": f"2001:db8:{n % 0xFFFF:x}::1",
        "ipv6Network": f"2001:db8:{n % 0xFFFF:x}::/64",
        "status": "running",
    }


def _load_balancer(args: mocks.MockResourceArgs) -> dict[str, Any]:
    n = _digest(args)
    return {"ipv4": f"198.51.100.{10 + n % 240}", "ipv6": f"2001:db8:1b:{n % 0xFFFF:x}::1"}


def _random_password(args: mocks.MockResourceArgs) -> dict[str, Any]:
    inputs = reveal(args.inputs)
    alphabet = ""
    if inputs.get("upper", True):
        alphabet += string.ascii_uppercase
    if inputs.get("lower", True):
        alphabet += string.ascii_lowercase
    if inputs.get("numeric", True):
        alphabet += string.digits
    if inputs.get("special", True):
        alphabet += inputs.get("overrideSpecial", "!@#$%&*()-_=+[]{}<>:?")
    generator = _seeded(args)
    result = "".join(generator.choice(alphabet) for _ in range(int(inputs["length"])))
    return {"result": result, "bcryptHash": f"$2a$10${generator.getrandbits(160):040x}"}


def _random_bytes(args: mocks.MockResourceArgs) -> dict[str, Any]:
    data = _seeded(args).randbytes(int(reveal(args.inputs)["length"]))
    return {"base64": base64.b64encode(data).decode(), "hex": data.hex()}


def _ssh_key(args: mocks.MockResourceArgs) -> dict[str, Any]:
    blob = base64.b64decode(args.inputs["publicKey"].split()[1])
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return {"fingerprint": ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))}


def _pem(kind: str, args: mocks.MockResourceArgs) -> str:
    body = base64.b64encode(_seeded(args).randbytes(48)).decode()
    return f"-----BEGIN {kind}-----\n{body}\n-----END {kind}-----\n"


def _private_key(args: mocks.MockResourceArgs) -> dict[str, Any]:
    """A key of the shape tls.PrivateKey returns (not a usable key)."""
    blob = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + _seeded(args).randbytes(32)
    return {
        "privateKeyPem": _pem("PRIVATE KEY", args),
        "privateKeyOpenssh": _pem("OPENSSH PRIVATE KEY", args),
        "publicKeyOpenssh": f"ssh-ed25519 {base64.b64encode(blob).decode()}\n",
        "publicKeyPem": _pem("PUBLIC KEY", args),
    }


_COMPUTED: dict[str, Callable[[mocks.MockResourceArgs], dict[str, Any]]] = {
    "tls:index/privateKey:PrivateKey": _private_key,
    "tls:index/certRequest:CertRequest": lambda a: {
        "certRequestPem": _pem("CERTIFICATE REQUEST", a)
    },
    "cloudflare:index/originCaCertificate:OriginCaCertificate": lambda a: {
        "certificate": _pem("CERTIFICATE", a),
        "expiresOn": "2041-11-22T00:00:00Z",
    },
    # What a remote command printed; a test can see which command an output came from.
    "command:remote:Command": lambda a: {"stdout": f"stdout of {a.name}", "stderr": ""},
    "hcloud:index/server:Server": _server,
    "hcloud:index/sshKey:SshKey": _ssh_key,
    "hcloud:index/loadBalancer:LoadBalancer": _load_balancer,
    "random:index/randomPassword:RandomPassword": _random_password,
    "random:index/randomBytes:RandomBytes": _random_bytes,
    "cloudflare:index/dnsRecord:DnsRecord": lambda _: {"proxiable": True},
}


class DynamicProviders(Protocol):
    """Runs the dynamic resources' providers as the engine would (tests/simulated_up.py)."""

    def register(self, urn: str, request: Any) -> tuple[str, dict[str, Any]]:
        """A dynamic resource's registration (`request.object`: its inputs as the program
        serialized them) -> its id and outputs."""
        ...


class RecordingMonitor(mocks.MockMonitor):
    """The SDK's mock monitor, plus what the real engine does with secrets, plus a record."""

    def __init__(
        self,
        platform_mocks: PlatformMocks,
        recording: Recording,
        dynamic: DynamicProviders | None = None,
    ) -> None:
        super().__init__(platform_mocks)
        self.recording = recording
        self.dynamic = dynamic
        self.stack_urn = ""

    def RegisterResource(self, request: Any) -> Any:  # the gRPC method's name
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type == ROOT_STACK_TYPE:
            self.stack_urn = response.urn
            return response
        registration = self.resources[response.urn]
        inputs = rpc.deserialize_properties(request.object)
        secret_names = set(request.additionalSecretOutputs)
        secret_names |= {name for name, value in inputs.items() if is_secret(value)}
        state = dict(registration.state)
        if self.dynamic is not None and request.type.startswith(DYNAMIC_TYPE_PREFIX):
            id_, state = self.dynamic.register(response.urn, request)
            registration = registration._replace(id=id_)
            response.id = id_
        elif request.type.startswith(DYNAMIC_TYPE_PREFIX):
            # No dynamic provider runs under mocks: its computed outputs get stand-ins.
            for name in (*request.additionalSecretOutputs, *DYNAMIC_COMPUTED[request.type]):
                state.setdefault(name, f"mock-{name}-of-{request.name}")
        state = {
            name: rpc.wrap_rpc_secret(value) if name in secret_names else value
            for name, value in state.items()
        }
        self.resources[response.urn] = registration._replace(state=state)
        response.object.CopyFrom(_sync_await(rpc.serialize_properties(state, {})))
        self.recording.resources.append(
            RecordedResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                parent=request.parent,
                custom=bool(request.custom),
                id=registration.id,
                inputs=inputs,
                outputs=state,
                protect=bool(request.protect),
                ignore_changes=list(request.ignoreChanges),
                delete_before_replace=bool(request.deleteBeforeReplace),
                dependencies=list(request.dependencies),
                additional_secret_outputs=list(request.additionalSecretOutputs),
                replace_on_changes=list(request.replaceOnChanges),
                deleted_with=request.deletedWith,
                provider=request.provider,
            )
        )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if request.urn == self.stack_urn:
            self.recording.stack_outputs = rpc.deserialize_properties(request.outputs)
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


class _LogCollector(logging.Handler):
    def __init__(self, recording: Recording) -> None:
        super().__init__(logging.DEBUG)
        self.recording = recording

    def emit(self, record: logging.LogRecord) -> None:
        self.recording.log.append((record.levelname, record.getMessage()))


def _give_thread_a_loop(loops: list[asyncio.AbstractEventLoop]) -> None:
    thread_loop = asyncio.new_event_loop()
    asyncio.set_event_loop(thread_loop)
    loops.append(thread_loop)


def _run_program(program: Path) -> None:
    runpy.run_path(str(program), run_name="__main__")
    # Under set_mocks the root stack is finished before the program runs; registering its
    # outputs now is what Stack._finish does at the end of a real run.
    root = get_root_resource()
    if isinstance(root, Stack):
        root.register_outputs(massage(root.outputs, []))


def evaluate(
    program: Path,
    *,
    project: str,
    stack: str,
    config: dict[str, str],
    secret_keys: list[str] | None = None,
    preview: bool = False,
    platform_mocks: PlatformMocks | None = None,
    dynamic: DynamicProviders | None = None,
) -> Recording:
    """Run `program` (a Pulumi `__main__.py`) under the mocks with `config` ("project:key" ->
    value, objects as JSON text) and return what it registered, and in `error` what it raised.
    Each call gets a fresh event loop and fresh runtime settings, so evaluations never see each
    other's state. `dynamic`: runs the dynamic resources' providers (else they get stand-ins)."""
    recording = Recording(project=project, stack=stack)
    recording.secret_config = {key: config[key] for key in secret_keys or [] if key in config}
    platform_mocks = platform_mocks or PlatformMocks()
    logger = logging.getLogger(f"offline.{id(recording)}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(_LogCollector(recording))
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # The SDK calls the monitor from executor threads, and its mock monitor makes an event loop
    # in each and never closes it; give those threads loops this function can close.
    thread_loops: list[asyncio.AbstractEventLoop] = []
    loop.set_default_executor(
        ThreadPoolExecutor(initializer=lambda: _give_thread_a_loop(thread_loops))
    )
    try:
        pulumi.runtime.set_mocks(
            platform_mocks,
            project=project,
            stack=stack,
            preview=preview,
            logger=logger,
            monitor=RecordingMonitor(platform_mocks, recording, dynamic),
        )
        set_all_config(config, secret_keys or [])
        pulumi.runtime.test(lambda: _run_program(program))()  # type: ignore[no-untyped-call]
    except Exception as error:  # handed to the caller, with what was recorded until then
        recording.error = error
    finally:
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_default_executor())
        for thread_loop in thread_loops:
            thread_loop.close()
        loop.close()
        asyncio.set_event_loop(None)
        set_all_config({}, [])
        reset_options()
        logger.handlers.clear()
    recording.calls = platform_mocks.calls
    return recording


def evaluate_stack(stack: str) -> Recording:
    """Evaluate the program for one of the project's stacks, or a stack file's path."""
    return evaluate_stack_file(read_stack_file(stack))


def evaluate_stack_file(stack_file: StackFile) -> Recording:
    return evaluate(
        PROGRAM,
        project=stack_file.project,
        stack=stack_file.stack,
        config=stack_file.config,
        secret_keys=stack_file.secret_keys,
    )
