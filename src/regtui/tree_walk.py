"""A walk over a folder tree that always finishes: no recursion, no followed links,
a depth limit, and every folder it cannot enter reported instead of raised.

Shared by the scanner, the bundle listing and the folder hash, so a hostile tree
(a link loop, folders nested thousands deep, an unreadable folder) is one reported
entry for each of them rather than a crash of the whole walk.
"""

from __future__ import annotations

import os
import sys
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


# Linux: a descriptor that only names a file, and /proc to read the name back.
_BY_DESCRIPTOR = sys.platform == "linux" and os.path.isdir("/proc/self/fd")


def resolve(path: str | os.PathLike[str]) -> tuple[str, os.stat_result]:
    """Where `path` leads, every link and `.`/`..` resolved, and the
    stat of what is there. Raises OSError as `os.path.realpath(strict=True)` does
    (missing or dangling: FileNotFoundError; a loop: ELOOP).

    On Linux the kernel resolves it: a path-only descriptor (O_PATH opens nothing:
    a FIFO cannot block it, no read permission is needed) names its file in
    /proc. Three system calls instead of one lstat per part of the path plus
    Python's bookkeeping, which made realpath a visible cost of every register."""
    p = os.fspath(path)
    if _BY_DESCRIPTOR:
        fd = os.open(p, os.O_PATH | os.O_CLOEXEC)
        try:
            st = os.fstat(fd)
            real = os.readlink(f"/proc/self/fd/{fd}")
        finally:
            os.close(fd)
        # Unlinked meanwhile (" (deleted)") or outside this root: ask the slow way.
        if real.startswith(os.sep) and not real.endswith(" (deleted)"):
            return real, st
    real = os.path.realpath(p, strict=True)
    return real, os.stat(real)
