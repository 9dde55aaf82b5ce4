"""Local copies of kept copies held in a bucket, so `resolve` on any host gives a
path: downloaded once into the user cache (`<cache>/objects/<key>`), into a
staging folder first, re-hashed, sealed read-only and only then moved into place.
A cached copy is re-hashed before it is handed out; one that no longer hashes to
its sha256 is downloaded again. The bytes are named by their sha256, so a cached
copy serves every catalog and store that holds those bytes.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from regtui import settings
from regtui.catalog import store
from regtui.catalog.bucket import Bucket, head, members, read_chunks
from regtui.errors import ArtifactError, ArtifactGone
from regtui.hashing import hash_path


def cache_root() -> Path:  # read when used: tests move the user's folders
    return settings.cache_dir() / "objects"


def cached_path(key: str) -> Path:
    return cache_root() / key


def fetch(b: Bucket, key: str, sha256: str, *, check: bool = True) -> Path:
    """A local path holding the kept copy at `key`, its bytes hashing to `sha256`.

    ArtifactGone when the store holds nothing there; ArtifactError when what it
    holds is not those bytes (a changed object is never handed out). Without
    `check`, a cached copy is handed out without being re-hashed."""
    target = cached_path(key)
    if target.exists() and (not check or _matches(target, sha256)):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=target.parent))
    try:
        staged = staging / target.name
        _download(b, key, staged)
        got = hash_path(staged).sha256
        if got != sha256:
            raise ArtifactError(
                f"{b.uri(key)}: kept copy changed: sha256 is now {got[:12]}…; not served"
            )
        store.seal(staged)
        if target.exists() or target.is_symlink():
            store.remove(target)  # a cached copy that no longer matched
        os.replace(staged, target)
        if target.is_dir():
            os.chmod(target, store.FOLDER_MODE)
        return target
    finally:
        store.remove(staging)


def _download(b: Bucket, key: str, dst: Path) -> None:
    if head(b, key) is not None:
        _write(b, b.full_key(key), dst)
        return
    listed = members(b, key)
    if not listed:
        raise ArtifactGone(f"{b.uri(key)}: kept copy missing: the object is gone")
    dst.mkdir()
    for rel, _size in listed:
        if any(part in ("", ".", "..") for part in rel.split("/")):
            raise ArtifactError(f"{b.uri(key)}/{rel}: not a member name a folder can hold")
        out = dst / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        _write(b, f"{b.full_key(key)}/{rel}", out)


def _write(b: Bucket, full_key: str, dst: Path) -> None:
    with open(dst, "xb") as fh:  # a new file in our own staging folder
        for chunk in read_chunks(b, full_key):
            fh.write(chunk)


def _matches(p: Path, sha256: str) -> bool:
    try:
        return hash_path(p).sha256 == sha256
    except (ArtifactError, OSError):
        return False
