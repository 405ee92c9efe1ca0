"""Reading the config from the engine: the whole namespace, once, before any resource."""

from __future__ import annotations

import json

import pytest

from config import ConfigError
from offline.engine import evaluate
from offline.stack_files import PROGRAM
from tests.support import config_strings, evaluate_config, evaluate_ok, minimal_config


def test_invalid_config_fails_before_any_resource_is_declared() -> None:
    recording = evaluate_config({**minimal_config(), "sever": {"type": "cx33"}})
    assert isinstance(recording.error, ConfigError)
    assert "platform:sever: unknown key" in str(recording.error)
    assert recording.resources == []


def test_a_missing_stack_config_names_every_required_key() -> None:
    recording = evaluate_config({})
    assert isinstance(recording.error, ConfigError)
    assert [p.split(":")[1] for p in recording.error.problems] == ["domain", "server", "ssh"]


def test_a_setting_stored_as_a_secret_is_refused_without_showing_it() -> None:
    recording = evaluate_config(minimal_config(), secret_keys=["platform:domain"])
    assert isinstance(recording.error, ConfigError)
    (problem,) = recording.error.problems
    assert problem.startswith("platform:domain: stored as a secret")
    assert "example.com" not in problem


def test_other_namespaces_are_not_the_programs_business() -> None:
    extra = {"hcloud:token": "t" * 64, "cloudflare:apiToken": "c" * 40}
    evaluate_ok(minimal_config(), extra=extra, secret_keys=list(extra))


def test_config_from_the_clis_environment_bag_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI hands config to the program in PULUMI_CONFIG; typos there must fail too."""
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(config_strings(minimal_config())))
    recording = evaluate(PROGRAM, project="platform", stack="test", config={})
    assert recording.error is None
    assert recording.of_type("hcloud:index/server:Server")
    monkeypatch.setenv(
        "PULUMI_CONFIG", json.dumps(config_strings({**minimal_config(), "apss": []}))
    )
    recording = evaluate(PROGRAM, project="platform", stack="test", config={})
    assert "platform:apss: unknown key" in str(recording.error)


def test_scalars_set_with_config_set_are_read_as_their_type() -> None:
    """`pulumi config set --path server.backups true` reaches the program as text."""
    values = config_strings(minimal_config())
    values["platform:server"] = json.dumps({"type": "cx33", "location": "fsn1", "backups": "true"})
    recording = evaluate(PROGRAM, project="platform", stack="test", config=values)
    assert recording.error is None
    (server,) = recording.of_type("hcloud:index/server:Server")
    assert server.inputs["backups"] is True


def test_secret_keys_from_the_clis_environment_are_honoured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(config_strings(minimal_config())))
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", json.dumps(["platform:ssh"]))
    recording = evaluate(PROGRAM, project="platform", stack="test", config={})
    assert isinstance(recording.error, ConfigError)
    assert recording.error.problems[0].startswith("platform:ssh: stored as a secret")


@pytest.mark.parametrize("stack", ["qa", "x" * 256])
def test_a_stack_name_coolify_refuses_is_a_config_error(stack: str) -> None:
    """The stack names the Coolify environment: Coolify wants 3 to 255 characters."""
    recording = evaluate(
        PROGRAM, project="platform", stack=stack, config=config_strings(minimal_config())
    )
    assert isinstance(recording.error, ConfigError)
    (problem,) = recording.error.problems
    assert problem.startswith(f"stack name {stack!r}: Coolify names its environment after it")
    assert problem.endswith("rename the stack: pulumi stack rename <new name>")
    assert recording.resources == []


def test_a_misspelled_key_stored_as_a_secret_is_still_an_unknown_key() -> None:
    values = {**minimal_config(), "domian": "example.com"}
    recording = evaluate_config(values, secret_keys=["platform:domian"])
    assert isinstance(recording.error, ConfigError)
    assert any(p.startswith("platform:domian: unknown key") for p in recording.error.problems)
