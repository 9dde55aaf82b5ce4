"""Run as a process: register (and now and then approve and promote) artifacts
until killed. Prints "ready" once it is about to start writing."""

from __future__ import annotations

import sys
from pathlib import Path

from regtui.catalog.service import Catalog
from regtui.errors import RegtuiError


def main() -> int:
    url, folder = sys.argv[1], Path(sys.argv[2])
    cat = Catalog(url, user="victim")
    files = sorted(folder.glob("*.bin"))
    print("ready", flush=True)
    for i, path in enumerate(files):
        v = cat.register(path, "crashy")
        if i % 7 == 3:
            try:
                if v.approval.status != "approved":
                    cat.approve(v.ref, "auto")
                cat.promote(v.ref, "production", "auto")
            except RegtuiError:
                pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
