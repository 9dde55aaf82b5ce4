"""A walk over a folder tree that always finishes: no recursion, no followed links,
a depth limit, and every folder it cannot enter reported instead of raised.

Shared by the scanner, the bundle listing and the folder hash, so a hostile tree
(a link loop, folders nested thousands deep, an unreadable folder) is one reported
entry for each of them rather than a crash of the whole walk.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

# Deeper than any real model tree; far below where path lengths or Python's
# recursion limit would break things first.
MAX_DEPTH = 256


@dataclass(frozen=True)
class Skipped:
    """Something under the tree that was not walked, and why (one line)."""

    path: Path
    reason: str


def listing(folder: Path) -> list[os.DirEntry[str]]:
    """A folder's entries in name order; OSError when it cannot be listed."""
    with os.scandir(folder) as it:
        return sorted(it, key=lambda e: e.name)


def walk(
    root: Path,
    descend: Callable[[os.DirEntry[str], int], bool] = lambda _e, _d: True,
    *,
    max_depth: int = MAX_DEPTH,
) -> Iterator[tuple[os.DirEntry[str], int] | Skipped]:
    """Every entry under `root` with its depth (1 = right in root), depth first in
    name order, as a recursive walk would give them, with an explicit stack.

    A real folder (never a link to one) is entered when `descend(entry, depth)`,
    asked just before the folder itself is yielded, says so. A folder that cannot be listed, or that lies deeper than `max_depth`,
    is yielded as Skipped; the walk goes on with the rest.
    """
    try:
        top = listing(root)
    except OSError as exc:
        yield Skipped(root, f"cannot list folder: {exc.strerror or exc}")
        return
    stack: list[tuple[Iterator[os.DirEntry[str]], int]] = [(iter(top), 1)]
    while stack:
        entries, depth = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        try:
            is_folder = entry.is_dir(follow_symlinks=False)
        except OSError:
            is_folder = False
        # Asked before the entry is yielded, so the caller knows what it decided.
        enter = is_folder and descend(entry, depth)
        yield entry, depth
        if not enter:
            continue
        if depth >= max_depth:
            yield Skipped(
                Path(entry.path), f"folders nested deeper than {max_depth} levels: not walked"
            )
            continue
        try:
            below = listing(Path(entry.path))
        except OSError as exc:
            yield Skipped(Path(entry.path), f"cannot list folder: {exc.strerror or exc}")
            continue
        stack.append((iter(below), depth + 1))


def plainly_under(path: Path | str, root: Path | str) -> bool:
    """True if `path` is spelled as a descendant of `root` (no `.`/`..`) and no part
    of it below root is a symlink: then it resolves inside root whatever root
    resolves to. One lstat per level below root instead of a full resolve, which
    is one lstat per level from / and was the largest single cost of a scan."""
    p, r = os.fspath(path), os.fspath(root)
    if not (os.path.isabs(p) and os.path.isabs(r)):
        return False
    r = r.rstrip(os.sep)
    if not p.startswith(r + os.sep):
        return False
    here = r
    for part in p[len(r) + 1 :].split(os.sep):
        if part in ("", ".", ".."):
            return False
        here = f"{here}{os.sep}{part}"
        try:
            if stat.S_ISLNK(os.lstat(here).st_mode):
                return False
        except OSError:
            return False
    return True
