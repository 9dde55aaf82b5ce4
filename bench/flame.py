"""Summarise a py-spy raw (collapsed) profile: self and inclusive share per function.

python -m bench.flame out.txt [N]
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<fn>.*?) \((?P<file>[^:()]+)(?::\d+)?\)$")


def short(frame: str) -> str:
    m = FRAME.match(frame)
    if not m:
        return frame
    f = m["file"]
    for marker in ("site-packages/", "src/", "lib/python3.11/"):
        if marker in f:
            f = f.split(marker, 1)[1]
            break
    return f"{m['fn']} ({f})"


def main(path: Path, n: int = 25) -> None:
    self_t: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        c = int(count)
        total += c
        frames = [short(f) for f in stack.split(";")]
        self_t[frames[-1]] += c
        for f in set(frames):
            incl[f] += c
    print(f"{total} samples\n-- self --")
    for f, c in self_t.most_common(n):
        print(f"{100 * c / total:5.1f}%  {f}")
    print("-- inclusive --")
    for f, c in incl.most_common(n):
        print(f"{100 * c / total:5.1f}%  {f}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 25)
