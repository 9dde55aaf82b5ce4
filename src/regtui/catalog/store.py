"""The content-addressed store: copies of artifacts that reached a protected stage.

A training folder gets cleaned or a file gets overwritten; what is in
production must still resolve. Files are hard-linked into the store when it is
on the same file system (no extra space) and copied otherwise. A hard link
shares the file, so an in-place overwrite of the original changes the copy
too: that is why resolve re-hashes what it serves, and `verify` reports it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from regtui.errors import ArtifactError
from regtui.hashing import hash_path
from regtui.settings import data_dir


def store_root() -> Path:
    return data_dir() / "store" / "sha256"


def stored_location(sha256: str, name: str) -> Path:
    """Where bytes with this hash live: store/sha256/ab/abcdef…/<original name>."""
    return store_root() / sha256[:2] / sha256 / name


def _link_or_copy(src: str, dst: str) -> str:
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:
        shutil.copy2(src, dst, follow_symlinks=False)
    return dst


def keep(path: Path, sha256: str) -> Path:
    """Put the artifact at `path` into the store (idempotent) and return its stored path.

    The copy is checked against `sha256` before it counts; a mismatch leaves nothing.
    """
    target = stored_location(sha256, path.name)
    if target.exists():
        if hash_path(target).sha256 == sha256:
            return target
        _remove(target)
    if not path.exists():
        raise ArtifactError(f"{path}: artifact is gone; cannot keep a copy of it")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=target.parent))
    try:
        staged = staging / path.name
        if path.is_dir():
            shutil.copytree(path, staged, symlinks=True, copy_function=_link_or_copy)
        else:
            _link_or_copy(str(path), str(staged))
        got = hash_path(staged).sha256
        if got != sha256:
            raise ArtifactError(
                f"{path}: changed since it was registered (sha256 {got[:12]}…); not kept"
            )
        os.replace(staged, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        p.unlink(missing_ok=True)
