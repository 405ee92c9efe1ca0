"""Measurements, not tests: each module prints its figures and keeps them in bench/results/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def report(figures: dict[str, Any], results: Path) -> None:
    """Print the figures, one per line, and write them to `results` as JSON."""
    for name, value in figures.items():
        print(f"{name}: {value}")
    results.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
