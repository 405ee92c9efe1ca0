"""Stack files as the CLI writes them: `pulumi config set --secret KEY` puts ciphertext at the
top level, `--secret --path 'secrets.x'` nests it in an object, and the CLI hands the program
the whole key as one secret. The offline engine reads them the same way (a stand-in of the
key's own form per encrypted leaf), and the plan lists every secret a real preview demands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from config import ConfigError
from offline.engine import evaluate_stack_file, find_leaks
from offline.plan import plan
from offline.stack_files import PROJECT_DIR, read_stack_file, set_secret_command

CIPHERTEXT = {"secure": "AAABAGb1pjTBvRjq3Cg4mq0DmlOqiLn0JCGFa4i3mV1uQ5gd7Q=="}  # as the CLI writes


def stack_file(tmp_path: Path, source: str, **config: Any) -> Path:
    """`source` (a stack file of this repository) with more config, written as `pulumi config
    set` would."""
    document = yaml.safe_load((PROJECT_DIR / source).read_text())
    document["config"].update(config)
    path = tmp_path / Path(source).name.replace("Pulumi.", "")
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_a_stack_file_holding_ciphertext_plans_with_every_secret_set(tmp_path: Path) -> None:
    names = read_stack_file("production").secrets
    bag = {path.split(".", 1)[1]: CIPHERTEXT for path in names if path.startswith("secrets.")}
    keys = {
        name if ":" in name else f"platform:{name}": CIPHERTEXT
        for name in names
        if not name.startswith("secrets.")
    }
    path = stack_file(tmp_path, "Pulumi.production.yaml", **keys, **{"platform:secrets": bag})
    read = read_stack_file(str(path))
    assert set(read.secrets.values()) == {"set"}
    assert {"platform:secrets", "platform:backupAccessKeyId", "hcloud:token"} <= set(
        read.secret_keys
    )  # a key with an encrypted leaf is a secret key, as the CLI passes it
    recording = evaluate_stack_file(read)
    assert recording.error is None
    assert find_leaks(recording) == []
    text = plan(str(path)).text
    assert f"Secrets the stack needs: {len(names)} set, 0 missing" in text
    assert CIPHERTEXT["secure"] not in text


def test_the_plan_names_each_missing_secret_and_how_to_set_it(tmp_path: Path) -> None:
    path = stack_file(
        tmp_path, "Pulumi.production.yaml",
        **{"platform:secrets": {"stripeSecretKey": CIPHERTEXT}},
    )  # fmt: skip
    text = plan(str(path)).text
    lines = {line.split()[0]: line for line in text.splitlines() if line.startswith("  secrets.")}
    assert lines["secrets.stripeSecretKey"].split()[1] == "set"
    assert lines["secrets.clerkSecretKey"].split()[1:] == [
        "missing", "pulumi", "config", "set", "--secret", "--path", "'secrets.clerkSecretKey'"
    ]  # fmt: skip
    assert "export HCLOUD_TOKEN=...  (or pulumi config set --secret hcloud:token)" in text


def test_an_encrypted_url_gets_a_stand_in_that_passes_its_format_check(tmp_path: Path) -> None:
    path = stack_file(
        tmp_path, "examples/wms.yaml",
        **{"platform:externalDatabaseUrl": CIPHERTEXT, "platform:externalDirectUrl": CIPHERTEXT},
    )  # fmt: skip
    read = read_stack_file(str(path))
    assert (read.secrets["externalDatabaseUrl"], read.secrets["externalDirectUrl"]) == ("set",) * 2
    assert evaluate_stack_file(read).error is None


def test_a_misspelled_secret_is_an_error_as_for_real(tmp_path: Path) -> None:
    names = read_stack_file("production").secrets
    bag = {path.split(".", 1)[1]: CIPHERTEXT for path in names if path.startswith("secrets.")}
    bag["stripeSecretKy"] = bag.pop("stripeSecretKey")
    path = stack_file(tmp_path, "Pulumi.production.yaml", **{"platform:secrets": bag})
    with pytest.raises(ConfigError) as raised:
        plan(str(path))
    assert "platform:secrets.stripeSecretKy: nothing uses it" in str(raised.value)
    assert CIPHERTEXT["secure"] not in str(raised.value)


def test_a_bag_that_is_not_an_object_is_refused_as_for_real(tmp_path: Path) -> None:
    path = stack_file(tmp_path, "Pulumi.staging.yaml", **{"platform:secrets": "not-an-object"})
    with pytest.raises(ConfigError, match="platform:secrets"):
        plan(str(path))


def test_a_setting_stored_encrypted_is_refused_as_for_real(tmp_path: Path) -> None:
    path = stack_file(tmp_path, "Pulumi.staging.yaml", **{"platform:domain": CIPHERTEXT})
    with pytest.raises(ConfigError, match="platform:domain"):
        plan(str(path))


STACK_FILES = [
    *(f"Pulumi.{stack}.yaml" for stack in ("production", "staging")),
    *(str(path.relative_to(PROJECT_DIR)) for path in sorted(PROJECT_DIR.glob("examples/*.yaml"))),
]


@pytest.mark.parametrize("name", STACK_FILES)
def test_every_stack_file_ends_with_how_to_set_each_secret_it_needs(name: str) -> None:
    """The committed files show where each secret goes (the CLI writes it there, encrypted)."""
    text = (PROJECT_DIR / name).read_text()
    listed = [
        line[4:] for line in text.splitlines() if line.startswith(("#   pulumi", "#   export"))
    ]
    stack = name if name.startswith("examples/") else name.split(".")[1]
    needed = read_stack_file(str(PROJECT_DIR / name) if "/" in name else stack).secrets
    assert listed == [set_secret_command(path) for path in needed]
