"""The offline engine behaves like the real one where it matters: secrets, isolation, errors."""

from __future__ import annotations

from pathlib import Path

import pulumi.runtime.settings

from offline.engine import Recording, evaluate, find_leaks, is_secret, reveal
from tests.support import evaluate_ok, evaluate_stack, tour_crm_config, write

SECRETS_PROGRAM = """
import pulumi
import pulumi_random as random

password = random.RandomPassword("db-password", length=32, special=False)
token = random.RandomBytes("api-token", length=32)
pulumi.export("password", password.result)
pulumi.export("tokenHex", token.hex)
pulumi.export("passwordIsSecret", pulumi.Output.from_input(password.result.is_secret()))
"""

LEAKY_PROGRAM = """
import pulumi
import pulumi_random as random

password = random.RandomPassword("db-password", length=32, special=False)
plain = pulumi.Output.unsecret(password.result)
pulumi.export("databaseUrl", pulumi.Output.concat("postgres://app:", plain, "@db/app"))
random.RandomId("suffix", byte_length=4, keepers={"password": plain})
password.result.apply(lambda value: pulumi.log.info(f"generated {value}"))
"""

SECRET_INPUT_PROGRAM = """
import pulumi
import pulumi_random as random

random.RandomId("suffix", byte_length=4, keepers={"seed": pulumi.Output.secret("s3cr3t-seed")})
"""

FAILING_PROGRAM = """
import pulumi_random as random

random.RandomId("before", byte_length=4)
raise RuntimeError("the program failed half-way")
"""


def run_program(tmp_path: Path, source: str) -> Recording:
    program = write(tmp_path / "__main__.py", source)
    return evaluate(program, project="platform", stack="test", config={})


def test_generated_secrets_are_secret_in_state_and_outputs(tmp_path: Path) -> None:
    recording = run_program(tmp_path, SECRETS_PROGRAM)
    assert recording.error is None
    password = recording.named("db-password")
    assert is_secret(password.outputs["result"])
    assert is_secret(password.outputs["bcryptHash"])
    assert not is_secret(password.outputs["length"])
    token = recording.named("api-token")
    assert is_secret(token.outputs["hex"])
    assert is_secret(token.outputs["base64"])
    assert is_secret(recording.stack_outputs["password"])
    assert is_secret(recording.stack_outputs["tokenHex"])
    assert find_leaks(recording) == []


def test_the_program_sees_generated_secrets_as_secret(tmp_path: Path) -> None:
    recording = run_program(tmp_path, SECRETS_PROGRAM)
    assert recording.stack_outputs["passwordIsSecret"] is True


def test_generated_values_honour_the_arguments(tmp_path: Path) -> None:
    recording = run_program(tmp_path, SECRETS_PROGRAM)
    password = reveal(recording.named("db-password").outputs["result"])
    assert len(password) == 32
    assert password.isalnum()
    assert len(reveal(recording.named("api-token").outputs["hex"])) == 64


def test_a_secret_stored_in_plain_text_is_found_wherever_it_lands(tmp_path: Path) -> None:
    recording = run_program(tmp_path, LEAKY_PROGRAM)
    assert recording.error is None
    leaks = find_leaks(recording)
    assert "stack outputs: databaseUrl" in leaks
    assert "suffix inputs: keepers.password" in leaks
    assert "log: [" in " ".join(leaks)


def test_a_secret_input_makes_the_output_of_the_same_name_secret(tmp_path: Path) -> None:
    recording = run_program(tmp_path, SECRET_INPUT_PROGRAM)
    suffix = recording.named("suffix")
    assert is_secret(suffix.inputs["keepers"])
    assert is_secret(suffix.outputs["keepers"])
    assert find_leaks(recording) == []


def test_a_failing_program_returns_its_error_and_what_it_registered(tmp_path: Path) -> None:
    recording = run_program(tmp_path, FAILING_PROGRAM)
    assert isinstance(recording.error, RuntimeError)
    assert [r.name for r in recording.resources] == ["before"]


def test_evaluations_do_not_share_state() -> None:
    first = evaluate_ok(tour_crm_config())
    second = evaluate_ok(tour_crm_config())
    assert [r.urn for r in first.resources] != []
    assert sorted(r.urn for r in first.resources) == sorted(r.urn for r in second.resources)
    assert pulumi.runtime.settings.get_root_resource() is None


def test_preview_declares_the_same_graph_as_an_update() -> None:
    update = evaluate_ok(tour_crm_config())
    preview = evaluate_ok(tour_crm_config(), preview=True)
    assert sorted(r.urn for r in preview.resources) == sorted(r.urn for r in update.resources)


def test_invokes_are_recorded() -> None:
    recording = evaluate_stack("production")
    assert recording.calls == [
        ("cloudflare:index/getZone:getZone", {"filter": {"match": "all", "name": "example.com"}})
    ]


def test_secret_config_values_are_secrets_too(tmp_path: Path) -> None:
    program = write(
        tmp_path / "__main__.py",
        "import pulumi\n"
        "token = pulumi.Config().require_secret('apiToken')\n"
        "pulumi.export('leaked', pulumi.Output.unsecret(token))\n",
    )
    recording = evaluate(
        program,
        project="platform",
        stack="test",
        config={"platform:apiToken": "sk-from-config-0123"},
        secret_keys=["platform:apiToken"],
    )
    assert find_leaks(recording) == ["stack outputs: leaked"]


def test_a_plain_value_inside_a_secret_bundle_is_not_a_secret(tmp_path: Path) -> None:
    """A connection holds a token (secret) and a host address (not): the address may appear
    in plain text elsewhere, the token may not."""
    program = write(
        tmp_path / "__main__.py",
        "import pulumi\nimport pulumi_random as random\n"
        "token = random.RandomPassword('token', length=32, special=False)\n"
        "bundle = {'host': '203.0.113.10', 'token': token.result}\n"
        "pulumi.export('connection', pulumi.Output.secret(bundle))\n"
        "pulumi.export('host', '203.0.113.10')\n",
    )
    recording = evaluate(program, project="platform", stack="test", config={})
    assert find_leaks(recording) == []
