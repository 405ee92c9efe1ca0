"""Benchmark: the whole test suite's wall time, as scripts/test runs it (lint, format check,
type check, pytest), with pytest's ten slowest tests.

    .venv/bin/python -m bench.suite             (as root, like the suite)

Prints the figures and writes them to bench/results/suite.json. Target: under 15 minutes on
2 cores (DEVELOPERS.md).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "suite.json"
TARGET_S = 15 * 60


def main() -> int:
    start = time.perf_counter()
    result = subprocess.run(
        [str(ROOT / "scripts" / "test"), "-q", "--durations=10", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "VENV": str(Path(sys.executable).parent.parent)},
    )
    seconds = time.perf_counter() - start
    summary = re.search(r"(\d+) passed.* in ([\d.]+)s", result.stdout)
    slowest = re.findall(r"^([\d.]+)s (call|setup|teardown)\s+(\S+)$", result.stdout, re.M)
    figures = {
        "exit_code": result.returncode,
        "cpus": os.cpu_count(),
        "whole_suite_s": round(seconds, 1),
        "pytest_s": float(summary.group(2)) if summary else None,
        "tests_passed": int(summary.group(1)) if summary else None,
        "slowest": [{"seconds": float(s), "phase": p, "test": t} for s, p, t in slowest],
    }
    print(f"scripts/test: exit {result.returncode}, {seconds:.1f} s on {os.cpu_count()} CPUs "
          f"(target < {TARGET_S // 60} min); pytest {figures['pytest_s']} s for "
          f"{figures['tests_passed']} tests")  # fmt: skip
    for row in figures["slowest"]:
        print(f"  {row['seconds']:6.2f} s  {row['phase']:<8}  {row['test']}")
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0 if result.returncode == 0 and seconds < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
