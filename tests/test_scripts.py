"""The repository's own shell scripts pass shellcheck."""

from __future__ import annotations

import pytest

from offline.stack_files import PROJECT_DIR
from tests.support import run

SCRIPTS = ["scripts/test", "scripts/lock", ".ci/run"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_shellcheck_passes(script: str) -> None:
    result = run(["shellcheck", "--severity=style", str(PROJECT_DIR / script)])
    assert result.returncode == 0, result.stdout
