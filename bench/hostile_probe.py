"""Build one crafted file, or time one inspection of it, each in its own process.

    python bench/hostile_probe.py build NAME SCALE FOLDER   # prints the target's path
    python bench/hostile_probe.py inspect PATH              # prints one JSON object
Two processes, so the builder's own memory does not hide the inspection's peak:
the inspection reports seconds and peak-RSS growth (MB) from a fresh interpreter.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from peak_rss import rss_mb  # a sibling module: the probes run as scripts

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def build(name: str, scale: int, folder: Path) -> Path:
    from bench.hostile import BUILDERS

    return BUILDERS[name](folder, scale)


def inspect(target: Path) -> dict[str, object]:
    from regtui.inspect import inspect_path

    base = rss_mb()
    t0 = time.perf_counter()
    facts = inspect_path(target)
    seconds = time.perf_counter() - t0
    return {
        "inspect_s": seconds,
        "extra_mb": rss_mb() - base,
        "warnings": [w[:200] for w in facts.warnings][:5],
        "damage": facts.damage,
        "refused": facts.refused,
    }


if __name__ == "__main__":
    if sys.argv[1] == "build":
        print(build(sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])))
    else:
        print(json.dumps(inspect(Path(sys.argv[2]))))
