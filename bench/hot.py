"""One hot path at a time, for a profiler (py-spy / pyinstrument / cProfile):

.venv/bin/python -m bench.hot list  CATALOG.db      # Catalog.versions(all)
.venv/bin/python -m bench.hot filter CATALOG.db
.venv/bin/python -m bench.hot register DIR          # register 1,000 files one by one
.venv/bin/python -m bench.hot scan DIR              # scan 10,000 small files
.venv/bin/python -m bench.hot generate DIR          # add_candidates, 20k versions
.venv/bin/python -m bench.hot promote CATALOG.db
py-spy record -r 250 -o out.txt -f raw -- .venv/bin/python -m bench.hot list X.db
.venv/bin/python -m bench.hot --cprofile list X.db   # top functions, no extra install
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench import regtui_side as ours
from bench.fixtures import MODEL, generate_catalog


def scenario(name: str, arg: Path) -> Callable[[], object]:
    from regtui.catalog.service import Catalog

    if name == "list":
        cat = Catalog(arg, user="bench")
        return lambda: cat.versions(MODEL)
    if name == "filter":
        cat = Catalog(arg, user="bench")
        return lambda: [
            cat.versions(MODEL, where=w)
            for w in ("metrics.auc > 0.999", "tags.team = 'team-7'")
            for _ in range(5)
        ]
    if name == "register":
        return lambda: ours.register_one_each(Path(tempfile.mkdtemp(dir=arg)), 1000)
    if name == "scan":
        return lambda: ours.scan_small(Path(tempfile.mkdtemp(dir=arg)), 10_000)
    if name == "generate":
        return lambda: generate_catalog(Path(tempfile.mkdtemp(dir=arg)) / "g.db", 20_000)
    if name == "promote":
        return lambda: ours.stage_moves(arg, Path(tempfile.mkdtemp()), reps=5)
    raise SystemExit(f"unknown scenario {name!r}")


def main(argv: list[str]) -> int:
    use_cprofile = "--cprofile" in argv
    argv = [a for a in argv if a != "--cprofile"]
    fn = scenario(argv[0], Path(argv[1]))
    if not use_cprofile:
        fn()
        return 0
    prof = cProfile.Profile()
    prof.runcall(fn)
    stats = pstats.Stats(prof, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
