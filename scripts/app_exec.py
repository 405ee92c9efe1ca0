#!/usr/bin/env python3
"""Run a one-off command in an app's running container: a seed, the first admin user, a
migration by hand.

    python3 scripts/app_exec.py --stack production crm -- npx prisma db seed
    python3 scripts/app_exec.py --stack production api -- node scripts/create-admin.js < admin.json

It reads the stack's outputs with the Pulumi CLI (the server's address), connects over SSH as
the admin user (`server.adminUser`) with your own key, finds the app's container by the labels
Coolify gives it (the project, environment and app by name: bootstrap/helpers/docker.php:373-394
as app/Jobs/ApplicationDeploymentJob.php:3250 calls it, at v4.3.10) and runs the command there
with `docker exec`. This terminal's stdin becomes the command's stdin: pipe a secret in (a
file, a password manager's CLI), never put it on the command line, where `ps` and the shell's
history would show it. The command's exit status is this script's.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Any

NO_CONTAINER = 3  # the exit status when the app has no running container


def slug(text: str) -> str:
    """Laravel's Str::slug, as Coolify writes its labels (ASCII names)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def remote_script(project: str, stack: str, app: str, command: Sequence[str], tty: bool) -> str:
    """The shell script the server runs: the newest running container of the app, then the
    command in it, its stdin passed through."""
    labels = {
        "coolify.type": "application",
        "coolify.projectName": slug(project),
        "coolify.environmentName": slug(stack),
        "coolify.resourceName": slug(app),
        "coolify.pullRequestId": "0",
    }
    filters = " ".join(f"--filter label={key}={value}" for key, value in labels.items())
    exec_flags = "-it" if tty else "-i"
    return (
        "set -eu\n"
        f"id=$(sudo -n docker ps -q {filters} | head -n 1)\n"
        f'if [ -z "$id" ]; then echo "app {app} has no running container" >&2; '
        f"exit {NO_CONTAINER}; fi\n"
        f'exec sudo -n docker exec {exec_flags} "$id" {shlex.join(command)}\n'
    )


def stack_outputs(
    stack: str, run: Callable[..., subprocess.CompletedProcess[str]]
) -> dict[str, Any]:
    result = run(
        ["pulumi", "stack", "output", "--json", "--stack", stack],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def main(
    argv: Sequence[str] | None = None,
    run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run,
) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", required=True, help="the Pulumi stack (production)")
    parser.add_argument("--project", default="platform", help="the Pulumi project's name")
    parser.add_argument("--user", default="deploy", help="server.adminUser (default: deploy)")
    parser.add_argument("--host", help="the server's address (default: from the outputs)")
    parser.add_argument("--port", type=int, default=22, help="its SSH port")
    parser.add_argument("app", help="the app's name (apps[].name)")
    parser.add_argument("command", nargs="+", help="the command, after --")
    args = parser.parse_args(argv)
    host = args.host
    if host is None:
        outputs = stack_outputs(args.stack, run)
        # With app servers, every app runs on each: the first one will do.
        host = (outputs.get("appServerIpv4s") or [outputs["serverIpv4"]])[0]
    tty = sys.stdin.isatty()
    script = remote_script(args.project, args.stack, args.app, args.command, tty)
    ssh = ["ssh", "-p", str(args.port), *(["-t"] if tty else []), f"{args.user}@{host}"]
    # ssh hands the server one line for its shell: the script, quoted as one word for sh -c.
    return run([*ssh, "sh -c " + shlex.quote(script)], check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
