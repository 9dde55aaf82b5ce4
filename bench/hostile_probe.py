"""Time and extra memory of inspecting one crafted file, in its own process.

    python bench/hostile_probe.py PATH
Prints one JSON object: seconds, peak-RSS growth over the imports (MB), and what
the inspection said. Its own process, so no other work hides the peak.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from peak_rss import rss_mb  # type: ignore[import-not-found]  # a sibling: probes run as scripts


def inspect(target: Path) -> dict[str, object]:
    from regtui.inspect import inspect_path

    base = rss_mb()
    t0 = time.perf_counter()
    facts = inspect_path(target)
    seconds = time.perf_counter() - t0
    return {
        "inspect_s": seconds,
        "extra_mb": rss_mb() - base,
        "said": [*(w[:200] for w in facts.warnings[:3]), facts.refused or facts.damage or ""],
    }


if __name__ == "__main__":
    print(json.dumps(inspect(Path(sys.argv[1]))))
