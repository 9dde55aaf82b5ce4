"""An artifact's bytes against its recorded hash, and which copy to serve.

Free of the database layer, so the CLI's quick read path can serve `resolve`
without importing it.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import NamedTuple

from regtui.catalog import bucket
from regtui.catalog.bucket import Bucket
from regtui.catalog.records import ArtifactCheck, VersionInfo
from regtui.catalog.store import Place, copy_key, copy_paths
from regtui.errors import ArtifactError, ArtifactGone, ArtifactRefused, StoreUnreachable
from regtui.hashing import hash_path, kind_of
from regtui.tree_walk import resolve


class Entry(NamedTuple):
    path: Path
    folder: bool  # a bundle folder, else a regular file (or what refuses later)


def entry_path(given: str | os.PathLike[str]) -> Path:
    """`entry(given).path`."""
    return entry(given).path


def entry(given: str | os.PathLike[str]) -> Entry:
    """An artifact path as every entry takes it, before anything else is done with
    it: `~` expanded, absolute, `.`/`..` and every symlink resolved. So a version
    records (and is kept from) the file or folder the bytes are in, never a link
    to it or a spelling like `..`. A dangling link or a loop: ArtifactError."""
    p = os.path.abspath(os.path.expanduser(os.fspath(given)))  # strings: this runs per file
    try:
        p.encode("utf-8")
    except UnicodeEncodeError:  # the catalog and its audit log hold text
        shown = p.encode("utf-8", "surrogateescape").decode("ascii", "backslashreplace")
        raise ArtifactRefused(f"{shown}: refused: the name is not valid UTF-8; rename it") from None
    try:
        target, st = resolve(p)
        # A link: name what it leads to unless that is neither a file nor a folder.
        if target != p and not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
            raise ArtifactRefused(
                f"{p}: refused: a link to {target}, {kind_of(st.st_mode)}, not a regular file"
            )
        return Entry(Path(target), stat.S_ISDIR(st.st_mode))
    except FileNotFoundError:
        if os.path.islink(p):
            raise ArtifactRefused(f"{p}: refused: broken symlink -> {os.readlink(p)!r}") from None
        raise ArtifactGone(f"{p}: no such file or folder") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ArtifactRefused(f"{p}: refused: symlink loop") from None
        raise ArtifactRefused(f"{p}: refused: cannot resolve: {exc.strerror or exc}") from None


def check_artifact(ref: str, p: Path, sha256: str) -> ArtifactCheck:
    """Re-hash `p`: ok, missing, changed or unreadable."""
    if not p.exists():
        return ArtifactCheck(ref, str(p), "missing", "the file or folder is gone")
    try:
        got = hash_path(p).sha256
    except ArtifactError as exc:
        return ArtifactCheck(ref, str(p), "unreadable", str(exc))
    if got != sha256:
        return ArtifactCheck(ref, str(p), "changed", f"sha256 is now {got[:12]}…")
    return ArtifactCheck(ref, str(p), "ok")


def check_kept_copy(v: VersionInfo, store: Place) -> ArtifactCheck:
    """Re-hash the version's kept copy (it must have one) where `store` says it is,
    or where an older catalog recorded it: ok at the first place that matches,
    else the first problem found. In a bucket: the object's bytes, streamed."""
    assert v.stored_path, "only versions with a kept copy"
    ref = f"{v.ref} (kept copy)"
    if isinstance(store, Bucket):
        key = copy_key(v.sha256, Path(v.stored_path).name)
        state, detail = bucket.check(store, key, v.sha256)
        return ArtifactCheck(ref, store.uri(key), state, detail)
    found = []
    for p in copy_paths(v.stored_path, v.sha256, store):
        check = check_artifact(ref, p, v.sha256)
        if check.state == "ok":
            return check
        found.append(check)
    return next((c for c in found if c.state != "missing"), found[0])


def serve_uri(v: VersionInfo, store: Place, *, check: bool = True) -> str:
    """`resolve --uri`: the object URL of the version's kept copy in a bucket (its
    bytes re-hashed there first, unless not `check`), for serving systems that read
    the store themselves; otherwise the `file://` URI of `serve_path`."""
    if isinstance(store, Bucket) and v.stored_path:
        key = copy_key(v.sha256, Path(v.stored_path).name)
        if not check:
            return store.uri(key)
        state, detail = bucket.check(store, key, v.sha256)
        if state == "ok":
            return store.uri(key)
        if state != "missing":
            raise ArtifactError(
                f"{v.ref}: refusing to serve: kept copy {store.uri(key)} {state}: {detail}"
            )
    return serve_path(v, store, check=check).as_uri()


def _from_bucket(v: VersionInfo, store: Bucket, check: bool) -> Path:
    """The verified local copy of a kept copy in a bucket (see bucket_cache); a
    missing one falls back to the training output while it still matches."""
    from regtui.catalog import bucket_cache

    assert v.stored_path
    key = copy_key(v.sha256, Path(v.stored_path).name)
    try:
        return bucket_cache.fetch(store, key, v.sha256, check=check)
    except StoreUnreachable:
        raise
    except ArtifactGone as exc:
        fallback = check_artifact(v.ref, Path(v.path), v.sha256)
        if fallback.state == "ok":
            return Path(fallback.path)
        raise ArtifactError(
            f"{v.ref}: refusing to serve: {exc}, and the training output {fallback.state}"
        ) from None
    except ArtifactError as exc:
        raise ArtifactError(f"{v.ref}: refusing to serve: {exc}") from None


def serve_path(v: VersionInfo, store: Place, *, check: bool = True) -> Path:
    """Where to load the version from: its kept copy in `store` if it has one, else
    its path. A version with a kept copy is served from that copy alone: the
    training output beside it may be rewritten while it is being loaded.

    A kept copy that is gone (a catalog file moved, copied or imported away from
    its store) falls back to the training output, only if it still matches the
    recorded sha256; a kept copy that is there but changed is refused (tampering).
    With `check`, the bytes are re-hashed first and a changed artifact is
    refused rather than served. A kept copy in a bucket is served from its
    verified local cache.
    """
    if v.stored_path and isinstance(store, Bucket):
        return _from_bucket(v, store, check)
    if v.stored_path and isinstance(store, Path):
        if not check:
            for p in copy_paths(v.stored_path, v.sha256, store):
                if p.exists():
                    return p
        found = check_kept_copy(v, store)
        what = "kept copy"
        if found.state == "missing":
            fallback = check_artifact(v.ref, Path(v.path), v.sha256)
            if fallback.state == "ok":
                return Path(fallback.path)
            found = ArtifactCheck(
                found.ref,
                found.path,
                found.state,
                f"{found.detail}, and the training output {fallback.state}",
            )
    else:
        p = Path(v.path)
        if not check and p.exists():
            return p
        found = check_artifact(v.ref, p, v.sha256)
        what = "artifact"
    if found.state == "ok":
        return Path(found.path)
    raise ArtifactError(
        f"{v.ref}: refusing to serve: {what} {found.path} {found.state}: {found.detail}"
    )
