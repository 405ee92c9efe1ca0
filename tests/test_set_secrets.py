"""scripts/set_secrets.py: the one command that sets what a stack still needs, each value
typed at the CLI's own prompt."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from offline.stack_files import PROJECT_DIR, read_stack_file
from scripts.set_secrets import main, set_command
from tests.support import run


def recorder(status: int = 0) -> tuple[list[list[str]], Any]:
    asked: list[list[str]] = []

    def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        assert kwargs["cwd"] == PROJECT_DIR  # where Pulumi.<stack>.yaml is
        asked.append(command)
        return subprocess.CompletedProcess(command, status)

    return asked, run


def test_every_missing_secret_but_the_tokens_is_set_with_the_clis_command() -> None:
    asked, run = recorder()
    assert main(["production"], run=run) == 0
    needed = read_stack_file("production").secrets
    assert [command[-3] for command in asked] == [
        path for path in needed if path not in ("hcloud:token", "cloudflare:apiToken")
    ]
    assert asked[0] == [
        "pulumi", "config", "set", "--secret", "backupAccessKeyId", "--stack", "production"
    ]  # fmt: skip
    assert set_command("secrets.stripeSecretKey", "production") == [
        "pulumi", "config", "set", "--secret", "--path", "secrets.stripeSecretKey",
        "--stack", "production",
    ]  # fmt: skip


def test_list_sets_nothing_and_the_tokens_go_to_the_environment(
    capsys: pytest.CaptureFixture[str],
) -> None:
    asked, run = recorder()
    assert main(["staging", "--list"], run=run) == 0
    assert asked == []
    out = capsys.readouterr().out
    assert "hcloud:token: export HCLOUD_TOKEN (kept out of the stack file)" in out
    assert "  secrets.stripeSecretKey" in out


def test_a_failed_set_stops_and_says_which(capsys: pytest.CaptureFixture[str]) -> None:
    asked, run = recorder(status=255)
    assert main(["production"], run=run) == 1
    assert len(asked) == 1
    assert "`pulumi config set` failed for backupAccessKeyId" in capsys.readouterr().err


def test_it_runs_as_the_readme_says(tmp_path: Path) -> None:
    """From the project's venv, by path: its imports resolve without installing anything."""
    script = PROJECT_DIR / "scripts" / "set_secrets.py"
    result = run([sys.executable, str(script), "production", "--list"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "13 secret(s) to set in Pulumi.production.yaml" in result.stdout


def test_an_example_file_is_refused_with_the_way_to_make_it_a_stack(
    capsys: pytest.CaptureFixture[str],
) -> None:
    asked, run = recorder()
    assert main(["examples/wms.yaml"], run=run) == 1
    assert asked == []
    assert "copy it to Pulumi.wms.yaml and run `pulumi stack init wms`" in capsys.readouterr().err
