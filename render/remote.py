"""Scripts that run on the server over SSH, rendered from the files in render/scripts/.

A script takes its parameters as shell variables set on top of it; they are never secret.
Secrets reach a script on stdin only, so they appear neither in a command line (where
pulumi-command's error messages would quote them) nor in an SSH session's environment.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

SCRIPTS = Path(__file__).parent / "scripts"
_REQUIRED = re.compile(r"\$\{(\w+):\?\}")


def script_file(name: str) -> str:
    """The text of render/scripts/`name`.sh."""
    return (SCRIPTS / f"{name}.sh").read_text()


def required_params(name: str) -> set[str]:
    """The parameters a script insists on (`: "${NAME:?}"`)."""
    return set(_REQUIRED.findall(script_file(name)))


def remote_script(name: str, **params: str) -> str:
    """The script `name` with its parameters set, ready to run as an SSH command."""
    required = required_params(name)
    if set(params) != required:
        missing, extra = sorted(required - set(params)), sorted(set(params) - required)
        raise ValueError(f"script {name}: missing parameters {missing}, unknown {extra}")
    settings = "".join(f"{key}={shlex.quote(value)}\n" for key, value in sorted(params.items()))
    return "#!/usr/bin/env bash\n" + settings + script_file(name)
