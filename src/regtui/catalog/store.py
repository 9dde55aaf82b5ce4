"""The catalog's store: immutable kept copies of artifacts that reached a protected stage.

A training loop rewrites `out/model.onnx` in place, or cleans its folder; what is
in production must still load. So a kept copy is never a hard link (that shares
the file, and an in-place rewrite would change production too): it is a
copy-on-write clone (a reflink, `FICLONE`) where the file system has them, a
real copy otherwise. It is staged beside its place, hashed, sealed read-only and
only then moved into place, so a copy that does not match the version's sha256
never counts.

The store belongs to its catalog (see `settings.default_store`; the catalog's
"store" setting can point it elsewhere: a folder, or an S3 bucket, see
`bucket.py`). Copies are recorded relative to it (`sha256/ab/<sha>/<name>`), so
hosts that mount one shared store at the same path, or use one bucket, resolve
the same copy. Free of the database layer: the CLI's quick read path uses it too.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from regtui.catalog import bucket
from regtui.catalog.bucket import Bucket
from regtui.errors import ArtifactError, StoreUnreachable, UsageError
from regtui.hashing import hash_path, open_regular, tree_members
from regtui.settings import default_store

SETTING_KEY = "store"
# Linux's ioctl number for "make dst share src's extents" (linux/fs.h).
FICLONE = 0x40049409
FILE_MODE = 0o444
FOLDER_MODE = 0o555
NAME_BYTES = 200  # a kept copy's file name, well under the usual 255-byte limit
_SHA256 = re.compile(r"[0-9a-f]{64}")
_URL = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")

Place = Path | Bucket
"""Where kept copies live: a folder, or a bucket (and prefix) in an object store."""


@dataclass(frozen=True)
class StoreLocation:
    """Where a catalog's kept copies live, and where that came from."""

    path: Place
    source: str  # "default" | "setting"
    host_local: bool

    @property
    def note(self) -> str:
        if isinstance(self.path, Bucket):
            return (
                "an object store, set in the catalog: every host needs its endpoint and "
                "credentials (AWS_* variables or a profile) and serves from a local cache"
            )
        if self.source == "setting":
            return "set in the catalog: every client of this catalog uses this folder"
        if self.host_local:
            return (
                "host-local: each host keeps its own copies; to share them, mount one "
                "folder at the same path on every host and run `regtui store --set FOLDER`, "
                "or use a bucket: `regtui store --set s3://BUCKET/PREFIX`"
            )
        return "beside the catalog file: it belongs to this catalog alone"

    def to_json(self) -> dict[str, Any]:
        return {
            "location": str(self.path),
            "source": self.source,
            "host_local": self.host_local,
            "note": self.note,
        }


def location_for(url: str, setting: Any) -> StoreLocation:
    """The store of the catalog at `url`, given its "store" setting (None: unset)."""
    if isinstance(setting, dict) and isinstance(setting.get("location"), str):
        where = setting["location"]
        place = bucket.parse(where) if bucket.is_bucket_url(where) else Path(where)
        return StoreLocation(place, "setting", False)
    path, host_local = default_store(url)
    return StoreLocation(path, "default", host_local)


def absolute_location(location: str | os.PathLike[str] | Bucket) -> Place:
    """A store location as given to `store --set`: an `s3://bucket/prefix` URL
    (never with credentials in it), or a folder: a relative one is taken against the
    working folder; a blank one is refused (it would silently mean '.')."""
    if isinstance(location, Bucket):
        return location
    text = os.fspath(location)
    if not text.strip():
        raise UsageError("the store location is empty; name a folder")
    if bucket.is_bucket_url(text):
        return bucket.parse(text)
    other = _URL.match(text)
    if other:
        raise UsageError(f"a store is a folder or an s3:// URL, not {other.group(1)[:20]}://…")
    return Path(os.path.abspath(Path(text).expanduser()))


def member_name(name: str) -> str:
    """A name that is safe as the last part of a store path, made from an artifact's
    name: its final component; never empty, `.`/`..` or hidden (a leading dot is
    the store's own staging), no NUL, valid UTF-8, at most NAME_BYTES bytes
    (the extension kept). Unusable names are renamed, never refused."""
    base = name.replace("\0", "").rstrip("/").rsplit("/", 1)[-1]
    base = base.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if not base:
        return "artifact"
    if base.startswith("."):
        base = "_" + base
    raw = base.encode("utf-8")
    if len(raw) > NAME_BYTES:
        suffix = Path(base).suffix if len(Path(base).suffix.encode("utf-8")) <= 16 else ""
        keep = NAME_BYTES - len(suffix.encode("utf-8"))
        base = raw[:keep].decode("utf-8", "ignore") + suffix
    return base


def copy_key(sha256: str, name: str) -> str:
    """A kept copy's place relative to the store: sha256/ab/abcdef…/<member name>."""
    if not _SHA256.fullmatch(sha256):
        raise ArtifactError(f"not a sha256: {sha256[:80]!r}; no kept copy for it")
    return f"sha256/{sha256[:2]}/{sha256}/{member_name(name)}"


def copy_paths(stored_path: str, sha256: str, store: Path) -> list[Path]:
    """Where a version's kept copy may be, in the order to look: its place in the
    catalog's store, then (for catalogs from before stores belonged to their
    catalog) the absolute path recorded then."""
    here = store / copy_key(sha256, Path(stored_path).name)
    recorded = Path(stored_path)
    return [here, recorded] if recorded.is_absolute() and recorded != here else [here]


def present_copy(stored_path: str, sha256: str, store: Path) -> Path | None:
    """The first place where the version's kept copy exists (matching or not)."""
    return next((p for p in copy_paths(stored_path, sha256, store) if _exists(p)), None)


def keep_at(name: str, sha256: str, where: Place, sources: Sequence[Path]) -> str:
    """`keep` in a folder or a bucket; the key kept (what stored_path records)."""
    if isinstance(where, Bucket):
        from regtui.catalog import bucket_upload

        return bucket_upload.keep(name, sha256, where, sources)[0]
    return keep(name, sha256, where, sources).key


def present_at(stored_path: str, sha256: str, where: Place) -> bool:
    """Whether the version's kept copy exists in `where` (matching or not)."""
    if isinstance(where, Bucket):
        return bucket.exists(where, copy_key(sha256, Path(stored_path).name))
    return present_copy(stored_path, sha256, where) is not None


def local_sources(stored_path: str, sha256: str, where: Place) -> list[Path]:
    """Local files a version's kept copy in `where` can be copied from: the copy
    itself in a folder; from a bucket, its verified local cache (none if it is
    missing or changed there); and an absolute path an older catalog recorded."""
    if not isinstance(where, Bucket):
        return copy_paths(stored_path, sha256, where)
    from regtui.catalog import bucket_cache

    found: list[Path] = []
    try:
        found.append(bucket_cache.fetch(where, copy_key(sha256, Path(stored_path).name), sha256))
    except StoreUnreachable:
        raise
    except ArtifactError:
        pass
    recorded = Path(stored_path)
    return [*found, recorded] if recorded.is_absolute() else found


class KeptCount(NamedTuple):
    """Versions with a kept copy: whose copy is there, and whose is not."""

    present: int
    missing: int


@dataclass(frozen=True)
class Kept:
    key: str  # relative to the store: what version.stored_path records
    path: Path
    how: str  # "reused" (already there and matching) | "reflink" | "copy"


def keep(name: str, sha256: str, store: Path, sources: Sequence[Path]) -> Kept:
    """Make sure the store holds a sealed copy of the bytes with `sha256`, named
    `name`, taken from the first of `sources` that still matches; idempotent.

    An existing copy is re-hashed before it is reused; one that no longer matches
    is replaced. Raises ArtifactError when no source matches (nothing is left behind).
    """
    key = copy_key(sha256, name)
    target = store / key
    if _exists(target) and _matches(target, sha256):
        return Kept(key, target, "reused")
    problems: list[str] = []
    for given in sources:
        # The bytes a link points to, never the link (its folder may be cleaned).
        src = Path(os.path.realpath(given))
        if src == target:
            continue
        if not src.exists():
            problems.append(f"{given}: artifact is gone")
            continue
        try:
            how = _copy_in(src, target, sha256)
        except ArtifactError as exc:
            problems.append(str(exc))
            continue
        except OSError as exc:
            raise ArtifactError(f"cannot keep a copy in {store}: {exc.strerror or exc}") from None
        return Kept(key, target, how)
    raise ArtifactError(
        "; ".join(problems or [f"{name}: nothing to copy"]) + "; cannot keep a copy"
    )


def _copy_in(src: Path, target: Path, sha256: str) -> str:
    """Stage a copy of `src` beside `target`, check it, seal it, move it into place.

    Only the staging folder made here is ever deleted: a copy in `target` that no
    longer matches is first moved into it, so nothing else in the store can be
    removed whatever `target` turns out to be."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=target.parent))
    try:
        staged = staging / target.name
        cloned = copy_tree(src, staged) if src.is_dir() else clone_file(src, staged)
        got = hash_path(staged).sha256
        if got != sha256:
            raise ArtifactError(
                f"{src}: changed since it was registered (sha256 {got[:12]}…); not kept"
            )
        seal(staged)
        if _exists(target) and not _matches(target, sha256):
            _move_aside(target, staging / ".replaced")
        try:
            os.replace(staged, target)
        except OSError:
            # Another process kept the same bytes first (a folder cannot replace one).
            if _matches(target, sha256):
                return "reused"
            raise
        if target.is_dir():
            # Sealed only now: moving a folder to a new parent needs write access to it.
            os.chmod(target, FOLDER_MODE)
        return "reflink" if cloned else "copy"
    finally:
        remove(staging)


def _move_aside(p: Path, into: Path) -> None:
    """Move a tampered copy into the staging folder (deleted with it)."""
    if p.is_dir() and not p.is_symlink():
        os.chmod(p, stat.S_IRWXU)  # a sealed folder cannot be moved to a new parent
    os.replace(p, into)


def _clone(src_fd: int, dst_fd: int) -> None:
    """Make `dst_fd` share `src_fd`'s data (copy-on-write); OSError where unsupported."""
    import fcntl  # POSIX only; elsewhere the ImportError below means "no reflinks"

    fcntl.ioctl(dst_fd, FICLONE, src_fd)


def clone_file(src: Path, dst: Path) -> bool:
    """Copy one file's bytes to the new file `dst`: a reflink where the file system
    supports one (True), a real copy otherwise (False). Never a hard link."""
    # open_regular: a FIFO put in the file's place must not block a promote.
    with os.fdopen(open_regular(src), "rb") as fin, open(dst, "xb") as fout:
        try:
            _clone(fin.fileno(), fout.fileno())
            return True
        except (OSError, ImportError):
            pass
        # From the descriptor already checked: opening `src` again could meet
        # whatever was swapped into its place meanwhile.
        shutil.copyfileobj(fin, fout, 1 << 20)
    return False


def copy_tree(src: Path, dst: Path) -> bool:
    """Copy exactly what the folder hash covers (hashing.tree_members: no
    `checkpoint-N/` folders of a Trainer run; a symlink becomes a file holding
    its target's bytes), so a verified copy holds nothing unchecked and no link.
    True when every file was cloned."""
    cloned: list[bool] = []
    dst.mkdir()
    for rel, full in tree_members(src):
        target = dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        cloned.append(clone_file(full, target))
    return bool(cloned) and all(cloned)


def seal(root: Path) -> None:
    """Files read-only, folders read-only below `root` (root's own mode is set after
    it is moved into place)."""
    if not root.is_dir():
        os.chmod(root, FILE_MODE)
        return
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        base = Path(dirpath)
        for name in filenames:
            if not (base / name).is_symlink():
                os.chmod(base / name, FILE_MODE)
        for name in dirnames:
            if not (base / name).is_symlink():
                os.chmod(base / name, FOLDER_MODE)


def remove(p: Path) -> None:
    """Delete a kept copy or a staging folder, sealed or not."""
    if p.is_dir() and not p.is_symlink():
        for dirpath, dirnames, _ in os.walk(p):
            os.chmod(dirpath, stat.S_IRWXU)
            for name in dirnames:
                sub = Path(dirpath) / name
                if not sub.is_symlink():
                    os.chmod(sub, stat.S_IRWXU)
        shutil.rmtree(p, ignore_errors=True)
    else:
        p.unlink(missing_ok=True)


def reflinks_work(folder: Path) -> bool:
    """Whether files in `folder` can be cloned (probes with two scratch files)."""
    try:
        with tempfile.TemporaryDirectory(prefix=".probe-", dir=folder) as scratch:
            a = Path(scratch) / "a"
            a.write_bytes(b"regtui reflink probe")
            return clone_file(a, Path(scratch) / "b")
    except OSError:
        return False


def _exists(p: Path) -> bool:
    return p.exists() or p.is_symlink()


def _matches(p: Path, sha256: str) -> bool:
    try:
        return hash_path(p).sha256 == sha256
    except (ArtifactError, OSError):
        return False
