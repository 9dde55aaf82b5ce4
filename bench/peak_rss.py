"""Peak memory of the current process, for the probes that run in their own process."""

from __future__ import annotations

import resource
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
