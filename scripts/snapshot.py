#!/usr/bin/env python3
"""Write what the program does for every stack and example into a folder, to compare two
commits of a refactoring that must change nothing:

    git stash; .venv/bin/python scripts/snapshot.py /tmp/before; git stash pop
    .venv/bin/python scripts/snapshot.py /tmp/after && diff -r /tmp/before /tmp/after

Per stack file: every registration as the offline engine records it (inputs, outputs, options,
dependencies), the invokes, the stack outputs and the log, once as for `up` and once as for
`preview`; and the offline plan's text, error output and exit status. Everything is sorted
where the engine's order is not part of the behaviour (the SDK registers from threads).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from offline import engine  # noqa: E402
from offline.stack_files import read_stack_file  # noqa: E402


def stack_files() -> list[str]:
    examples = sorted(
        str(path.relative_to(PROJECT_DIR)) for path in PROJECT_DIR.glob("examples/*.yaml")
    )
    return ["production", "staging", *examples]


def _encoded(value: Any) -> Any:
    if hasattr(value, "text"):  # a StringAsset
        return {"asset": str(value.text)}
    return repr(value)


def registrations(stack: str, *, preview: bool) -> str:
    stack_file = read_stack_file(stack)
    recording = engine.evaluate(
        engine.PROGRAM,
        project=stack_file.project,
        stack=stack_file.stack,
        config=stack_file.config,
        secret_keys=stack_file.secret_keys,
        preview=preview,
    )
    resources = [
        {**dataclasses.asdict(resource), "dependencies": sorted(resource.dependencies)}
        for resource in recording.resources
    ]
    recorded = {
        "error": repr(recording.error),
        "resources": sorted(resources, key=lambda resource: resource["urn"]),
        "calls": recording.calls,
        "outputs": recording.stack_outputs,
        "log": sorted(recording.log),
    }
    return json.dumps(recorded, indent=1, sort_keys=True, default=_encoded)


def plan_text(stack: str) -> str:
    ran = subprocess.run(
        [sys.executable, "-m", "offline.plan", stack],
        capture_output=True, text=True, cwd=PROJECT_DIR, check=False,
    )  # fmt: skip
    return f"{ran.stdout}\n--- stderr\n{ran.stderr}\n--- exit status {ran.returncode}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="where to write the snapshot (created)")
    parser.add_argument(
        "stacks", nargs="*", help="stack names or stack files (default: every committed one)"
    )
    args = parser.parse_args()
    folder: Path = args.folder
    folder.mkdir(parents=True, exist_ok=True)
    # A stack file's path from here, where the plan (run in the project) finds it too.
    stacks = [str(Path(s).resolve()) if s.endswith(".yaml") else s for s in args.stacks]
    for stack in stacks or stack_files():
        name = Path(stack).stem
        (folder / f"{name}.json").write_text(registrations(stack, preview=False))
        (folder / f"{name}.preview.json").write_text(registrations(stack, preview=True))
        (folder / f"{name}.plan.txt").write_text(plan_text(stack))


if __name__ == "__main__":
    main()
