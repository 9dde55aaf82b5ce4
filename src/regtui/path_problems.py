"""What is wrong with a path, in words that name it: every error about a file or
folder a person gave (a catalog, a backup target, an export, a store) says which
path and why, e.g. "its folder /no/such/dir does not exist", never only
"unable to open database file". Looked up from the file system, never from the
words of an OSError; stdlib only, so any face may ask.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path


def folder_problem(path: str | os.PathLike[str]) -> str | None:
    """Why a file could not be made at `path` for want of its folder: the nearest
    ancestor that is missing or not a folder; None when its folder is there."""
    parent = Path(os.path.abspath(os.fspath(path))).parent
    if parent.is_dir():
        return None
    missing = parent
    while not missing.parent.is_dir() and missing.parent != missing:
        missing = missing.parent
    if missing.exists():  # something else stands where a folder should be
        return f"{missing} is not a folder"
    shown = f"its folder {parent} does not exist"
    if missing != parent:
        shown += f" (nor does {missing})"
    return shown


def describe(path: str | os.PathLike[str], exc: OSError | None = None) -> str:
    """`PATH: why` for a path that could not be read or written (`exc`, if any,
    gives the reason when the file system shows none)."""
    shown = os.fspath(path)
    why = folder_problem(path)
    if why is None:
        p = Path(shown)
        if p.is_dir() and (exc is None or exc.errno in (errno.EISDIR, errno.EEXIST, None)):
            why = "is a folder, not a file"
        elif exc is not None and exc.errno in (errno.EACCES, errno.EPERM):
            why = "permission denied"
        elif exc is not None and exc.errno == errno.ENOENT:
            why = "no such file"
        elif exc is not None:
            why = (exc.strerror or type(exc).__name__).lower()
        else:
            why = "cannot be used"
    return f"{shown}: {why}"
