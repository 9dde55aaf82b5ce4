"""Peak memory of inspecting (and hashing) one big file, run in its own process.

    python bench/mem_probe.py FILE
Prints one JSON object: ru_maxrss before and after, in MB.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from peak_rss import rss_mb  # a sibling module: the probes run as scripts


def main(path: Path) -> dict[str, float | str]:
    from regtui.hashing import hash_path
    from regtui.inspect import inspect_path

    base = rss_mb()
    t0 = time.perf_counter()
    facts = inspect_path(path)
    inspect_s = time.perf_counter() - t0
    after_inspect = rss_mb()
    hash_path(path)
    after_hash = rss_mb()
    return {
        "base_mb": base,
        "inspect_delta_mb": after_inspect - base,
        "inspect_s": inspect_s,
        "hash_delta_mb": after_hash - base,
        "peak_mb": after_hash,
        "format": str(getattr(facts, "format", "?")),
    }


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]))))
