#!/usr/bin/env python3
"""Set every secret a stack still needs, one prompt each: the one command behind the README's
"Using it for real".

    .venv/bin/python scripts/set_secrets.py production          # prompts for each missing one
    .venv/bin/python scripts/set_secrets.py production --list   # only lists them

It reads Pulumi.<stack>.yaml as the offline plan does (which secrets the config needs, and
which the file already holds) and runs `pulumi config set --secret` for each one missing; the
CLI prompts for the value with the input hidden, and writes it encrypted into the stack file.
No value passes through this script or any command line. The providers' tokens are left to
the environment (HCLOUD_TOKEN, CLOUDFLARE_API_TOKEN): in the stack file, the passphrase that
every CI preview holds would open them (docs/security.md, "Delivery").
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from offline.stack_files import (  # noqa: E402 -- after the project is on the path
    PROVIDER_TOKENS,
    StackFileError,
    read_stack_file,
)


def set_command(path: str, stack: str) -> list[str]:
    """The CLI's own command for one secret: `--path` for an entry of an object."""
    return [
        "pulumi", "config", "set", "--secret", *(["--path"] if "." in path else []), path,
        "--stack", stack,
    ]  # fmt: skip


def main(
    argv: Sequence[str] | None = None,
    run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run,
) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/set_secrets.py", description=__doc__.split("\n")[0]
    )
    parser.add_argument("stack", help="the stack (production, staging)")
    parser.add_argument("--list", action="store_true", help="list the missing ones, set none")
    args = parser.parse_args(argv)
    if args.stack.endswith(".yaml"):
        # The CLI sets secrets in a stack's own file, Pulumi.<stack>.yaml, and nowhere else.
        sys.stderr.write(
            f"{args.stack}: give a stack's name; to use an example, copy it to "
            f"Pulumi.{Path(args.stack).stem}.yaml and run `pulumi stack init "
            f"{Path(args.stack).stem}` first\n"
        )
        return 1
    try:
        secrets = read_stack_file(args.stack).secrets
    except (FileNotFoundError, StackFileError) as error:
        sys.stderr.write(f"{error}\n")
        return 1
    missing = [path for path, status in secrets.items() if status == "missing"]
    to_set = [path for path in missing if path not in PROVIDER_TOKENS]
    for path in missing:
        if path in PROVIDER_TOKENS:
            print(f"{path}: export {PROVIDER_TOKENS[path]} (kept out of the stack file)")
    print(f"{len(to_set)} secret(s) to set in Pulumi.{args.stack}.yaml")
    for path in to_set:
        if args.list:
            print(f"  {path}")
            continue
        print(f"{path}:", flush=True)
        if run(set_command(path, args.stack), cwd=PROJECT_DIR, check=False).returncode != 0:
            sys.stderr.write(f"`pulumi config set` failed for {path}; the rest are not set\n")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
