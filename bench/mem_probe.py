"""Peak memory of inspecting (and hashing) one big file, run in its own process.

    python bench/mem_probe.py FILE
Prints one JSON object: ru_maxrss before and after, in MB.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def rss_mb() -> float:
    """Peak RSS of this process image (VmHWM). Not ru_maxrss: on Linux that keeps the
    parent's peak across fork+exec, so a child of a big parent would report the parent's."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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
