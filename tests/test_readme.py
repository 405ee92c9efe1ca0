"""The README and docs/ document what the code does: the commands, the figures, the
placeholders; and their links and the code's references to them lead somewhere (docs/
configuration.md's key table and the schema: test_docs)."""

from __future__ import annotations

import json
import re

import pytest

from offline.costs import monthly_cost
from offline.stack_files import PROJECT_DIR, read_stack_file
from tests.conftest import PIP_PACKAGES, install_hint
from tests.support import config_of

# The README and the pages beside it, by their path in the repository, as references name them.
DOCS = {
    path.relative_to(PROJECT_DIR).as_posix(): path.read_text()
    for path in (PROJECT_DIR / "README.md", *sorted((PROJECT_DIR / "docs").glob("*.md")))
}
README = DOCS["README.md"]
ARCHITECTURE = DOCS["docs/architecture.md"]


def test_the_readme_gives_the_commands_ci_runs() -> None:
    assert "scripts/test" in README
    assert "scripts/test" in (PROJECT_DIR / ".ci" / "run").read_text()
    assert ".venv/bin/python -m offline.plan production" in README
    for command in (
        "pulumi stack init",
        "pulumi config set --secret",
        "pulumi preview",
        "pulumi up",
    ):
        assert command in README


INDEX = re.compile(r"\[\d+\]")
# `README, "Name"` or `docs/operations.md, "Name"`; a reference may wrap across comment lines,
# and sit in a shell string with its quotes escaped.
REFERENCE = re.compile(r'(README(?:\.md)?|docs/[\w-]+\.md),[\s#]+(?:section )?\\?"([^"\\]+)\\?"')
CODE_BLOCK = re.compile(r"^```.*?^```", re.M | re.S)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def headings(page: str) -> list[str]:
    return re.findall(r"^#+ (.+)$", CODE_BLOCK.sub("", page), re.M)


def section_names(page: str) -> set[str]:
    """What a reference may name: a heading, or a paragraph's bold title."""
    return set(headings(page)) | set(re.findall(r"\*\*([^*]+)\*\*", CODE_BLOCK.sub("", page)))


def anchor(heading: str) -> str:
    """GitHub's id for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def test_every_reference_to_the_docs_names_one_of_their_sections() -> None:
    """Code, scripts and workflows point readers at a section of a page by name: it must exist."""
    files = [
        path
        for pattern in ("**/*.py", "**/*.sh", "**/*.yml", "**/*.yaml", "scripts/*", ".ci/run")
        for path in PROJECT_DIR.glob(pattern)
        if not {".venv", "node_modules", ".git", "tests"} & set(path.relative_to(PROJECT_DIR).parts)
    ]
    named = {
        (
            page if page.startswith("docs/") else "README.md",
            " ".join(name.replace("#", " ").split()),  # a name may wrap across comment lines
        )
        for path in files
        for page, name in REFERENCE.findall(path.read_text())
    }
    assert ("README.md", "Run the tests") in named
    assert ("docs/security.md", "Delivery") in named
    assert ("docs/configuration.md", "Server types") in named
    missing = {
        (page, name)
        for page, name in named
        if not any(
            h in (name, f"{name}.") or h.startswith(f"{name} (")
            for h in section_names(DOCS.get(page, ""))
        )
    }
    assert missing == set()


@pytest.mark.parametrize("page", sorted(DOCS))
def test_every_relative_link_leads_to_a_file_and_heading(page: str) -> None:
    for target in LINK.findall(CODE_BLOCK.sub("", DOCS[page])):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        path, _, fragment = target.partition("#")
        linked = (PROJECT_DIR / page).parent / path if path else PROJECT_DIR / page
        assert linked.is_file(), target
        if fragment:
            assert fragment in {anchor(h) for h in headings(linked.read_text())}, target


@pytest.mark.parametrize("page", sorted(set(DOCS) - {"README.md"}))
def test_every_page_says_what_it_is_and_the_readme_links_it(page: str) -> None:
    title, summary = DOCS[page].split("\n\n")[:2]
    assert title.startswith("# ")
    assert "[README](../README.md)" in summary
    assert f"]({page})" in README


def test_the_test_command_lists_every_package_and_npm_folder_ci_installs() -> None:
    ci = (PROJECT_DIR / ".ci" / "run").read_text().replace("\\\n", " ")
    packages = {
        word
        for line in re.findall(r"apt-get install (.*)", ci)
        for word in line.split()
        if not word.startswith("-") and word not in (">/dev/null", "nodejs", "npm")
    }
    section = README[README.index("**Run the tests**") : README.index("## Using it for real")]
    listed = set(section[section.index("apt-get install") :].split("\n\n")[0].split())
    assert packages <= listed, packages - listed
    for folder in re.findall(r"npm ci --prefix (\S+)", ci):
        assert f"npm ci --prefix {folder}" in section


def test_a_missing_program_fails_saying_how_to_install_it() -> None:
    """Every program the suite starts is named with its package: apt's, or PyPI's into the
    venv (conftest.py turns the FileNotFoundError into this message)."""
    missing = install_hint(FileNotFoundError(2, "No such file or directory", "sshd"))
    assert missing == "sshd is not installed: apt-get install openssh-server"
    missing = install_hint(FileNotFoundError(2, "No such file", "/w/.venv/bin/ssh-audit"))
    assert missing is not None
    assert ".venv/bin/pip install -r requirements-dev.txt" in missing
    requirements = (PROJECT_DIR / "requirements-dev.txt").read_text().split()
    for package in PIP_PACKAGES.values():
        assert any(line.startswith(f"{package}==") for line in requirements), package
    assert install_hint(FileNotFoundError(2, "No such file", "/srv/data.json")) is None


def test_the_figures_are_the_ones_the_bench_scripts_wrote() -> None:
    suite = json.loads((PROJECT_DIR / "bench" / "results" / "suite.json").read_text())
    plan = json.loads((PROJECT_DIR / "bench" / "results" / "plan.json").read_text())
    for page in (README, ARCHITECTURE):
        assert f"{suite['whole_suite_s']:.0f} s for {suite['tests_passed']} tests" in page
    assert f"takes {plan['production_command_s']:.1f} s as a new process" in ARCHITECTURE
    assert f"production\n{plan['production_s']:.2f} s" in ARCHITECTURE


def test_the_intro_quotes_the_plans_price() -> None:
    intro = " ".join(README[: README.index("## Two commands")].split())
    for stack, quoted in (("production", "about €{:.2f}/month"), ("staging", "staging €{:.2f}")):
        total = sum(line.eur_per_month for line in monthly_cost(config_of(stack)))
        assert quoted.format(total) in intro


def test_every_placeholder_of_the_committed_stacks_is_in_the_readme_table() -> None:
    table = README[README.index("| key | placeholder | what to put there |") :].split("\n\n")[0]
    for stack in ("production", "staging"):
        for key, value in read_stack_file(stack).placeholders:
            # A list of values is listed by its own key (ssh.adminCidrs).
            assert f"`{INDEX.sub('[]', key).removesuffix('[]')}`" in table, (key, value)
