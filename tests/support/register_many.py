"""Run as a process: register N distinct artifacts of one model (concurrency tests)."""

from __future__ import annotations

import sys
from pathlib import Path

from regtui.catalog.service import Catalog
from tests.unit.helpers import model_bytes


def main() -> int:
    url, folder, worker, count = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    cat = Catalog(url)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        path = folder / f"w{worker}-{i}.bin"
        path.write_bytes(model_bytes(f"worker {worker} artifact {i}"))
        cat.register(path, "shared")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
