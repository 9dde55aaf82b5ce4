"""Run as a process: race another process for a stage, round after round.

Each round both racers promote a different version with `expect_version` set
to the holder they both saw; the catalog must let exactly one through.
Prints one line per round: "won", or "lost: <the conflict message>".
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from regtui.catalog.service import Catalog
from regtui.errors import Conflict, RegtuiError


def main() -> int:
    url, me, rounds, sync = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
    cat = Catalog(url)
    for r in range(rounds):
        # Wait until the coordinator opens round r (a file it writes).
        while not (sync / f"go-{r}").exists():
            time.sleep(0.001)
        seen = int((sync / f"go-{r}").read_text())
        target = 2 + 2 * r + me  # racer 0 and 1 want different versions
        try:
            cat.promote(f"m:{target}", "production", f"round {r}", expect_version=seen)
            print(f"{r} won", flush=True)
        except Conflict as exc:
            print(f"{r} lost: {exc}", flush=True)
        except RegtuiError as exc:  # reported, so the test fails with the reason
            print(f"{r} error: {exc}", flush=True)
        (sync / f"done-{r}-{me}").write_text("")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
