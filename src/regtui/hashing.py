"""Content hashes of artifacts: streamed in 1 MiB chunks, so memory stays flat.

A folder's hash is the sha256 of its sorted `relative-path NUL file-hash` lines,
so renaming, adding or changing any file inside changes it (except inside the
`checkpoint-N/` folders right in it, which are versions of their own). A symlink
in a folder counts as the bytes it points to, never as its text: a kept copy holds
bytes, and the hash must cover exactly what the copy holds.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from regtui import readlog
from regtui.errors import ArtifactError, ArtifactGone
from regtui.tree_walk import Skipped, walk

CHUNK = 1 << 20
CHECKPOINT_DIR = re.compile(r"checkpoint-\d+")  # a Trainer's checkpoint: a version of its own

Progress = Callable[[int, int], None]
"""Called with (bytes done, bytes total) while a large artifact is hashed."""


@dataclass(frozen=True)
class Digest:
    sha256: str
    size_bytes: int


def _identity(st: os.stat_result) -> tuple[int, int, int, int, int]:
    return (st.st_ino, st.st_dev, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def kind_of(mode: int) -> str:
    """A short name for a file type that is not a regular file."""
    for test, name in (
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISDIR, "a folder"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def special_kind(path: Path) -> str | None:
    """What `path` is if it exists and is not a regular file (a stat: never blocks)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    return None if stat.S_ISREG(mode) else kind_of(mode)


def regular_fstat(fd: int, path: Path) -> os.stat_result:
    """fstat of an open descriptor; refuses anything but a regular file."""
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        raise ArtifactError(f"{path}: is {kind_of(st.st_mode)}, not a regular file")
    return st


def open_regular(path: Path) -> int:
    """Open a file for reading without ever blocking (a FIFO would wait for a writer).

    Returns a descriptor of a regular file, or raises ArtifactError with a one-line
    reason. The descriptor is left in non-blocking mode, harmless for regular files.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise ArtifactGone(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ArtifactError(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        kind = special_kind(path)  # a socket cannot even be opened (ENXIO)
        if kind:
            raise ArtifactError(f"{path}: is {kind}, not a regular file") from None
        raise ArtifactError(f"{path}: cannot open: {exc.strerror}") from None
    try:
        regular_fstat(fd, path)
    except ArtifactError:
        os.close(fd)
        raise
    return fd


def hash_file(path: Path, progress: Progress | None = None) -> Digest:
    """sha256 and size of one file; refuses one that vanishes or changes meanwhile.

    While a readlog is active (Catalog.prepare), the descriptor hashed must be
    the file inspected and the ranges inspected must hash alike (readlog)."""
    fd = open_regular(path)
    with os.fdopen(fd, "rb", buffering=0) as fh:
        before = os.fstat(fh.fileno())
        log = readlog.current()
        check = log.verifier(path, before) if log is not None else None
        total = before.st_size
        digest = hashlib.sha256()
        # Small files get a small buffer: a scan hashes thousands of them.
        buf = bytearray(min(CHUNK, total + 1))
        view = memoryview(buf)
        done = 0
        while True:
            n = fh.readinto(view)
            if not n:
                break
            digest.update(view[:n])
            if check is not None:
                check.feed(done, view[:n])
            done += n
            if progress is not None:
                progress(done, total)
        if check is not None:
            check.finish()
        # The descriptor too: a rewrite in place keeps the name's inode.
        moved = readlog.identity(os.fstat(fh.fileno())) != readlog.identity(before)
    try:
        after = os.stat(path)
    except FileNotFoundError:
        raise ArtifactGone(f"{path}: deleted while it was being hashed") from None
    if moved or _identity(after) != _identity(before) or done != before.st_size:
        # Changed (an ArtifactChanged): Catalog.prepare looks again, others refuse.
        raise readlog.Changed(
            f"{path}: changed while it was being hashed; try again when it is quiet"
        )
    return Digest(digest.hexdigest(), done)


def iter_tree(root: Path, *, checkpoints: bool = True) -> list[tuple[str, Path]]:
    """Relative POSIX path and absolute path of every file and symlink under root, sorted.

    A listing (for change detection): symlinks are listed, never followed, and
    folders that cannot be walked are left out (tree_members refuses them).
    `checkpoints=False` leaves out the `checkpoint-N/` folders right inside root:
    a Hugging Face Trainer's run folder holds them, and each is a version of its
    own, not part of the run's final model (as bundles.bundle_files lists it).
    """
    entries: list[tuple[str, Path]] = []
    for found in walk(root, _descend(checkpoints)):
        if isinstance(found, Skipped):
            continue
        entry, _ = found
        full = Path(entry.path)
        if not _is_real_folder(entry):
            entries.append((full.relative_to(root).as_posix(), full))
    entries.sort()
    return entries


def _descend(checkpoints: bool) -> Callable[[os.DirEntry[str], int], bool]:
    return lambda e, depth: checkpoints or depth > 1 or not CHECKPOINT_DIR.fullmatch(e.name)


def _is_real_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def link_scope(root: Path) -> list[Path]:
    """Where the links in the bundle folder `root` (resolved) may point: inside it,
    and for a Hugging Face cache snapshot (`<repo>/snapshots/<rev>/`, whose files
    are relative links into `<repo>/blobs/`) inside that repository's blobs."""
    scope = [root]
    blobs = root.parent.parent / "blobs"
    if root.parent.name == "snapshots" and blobs.is_dir() and not blobs.is_symlink():
        scope.append(blobs)
    return scope


def _inside(path: Path, scope: list[Path]) -> bool:
    return any(path == base or path.is_relative_to(base) for base in scope)


def link_target(link: Path, scope: list[Path]) -> Path:
    """The regular file a symlink in a bundle stands for; ArtifactError (one line,
    naming the link) for a dangling link, a loop, a link to a folder or to a
    special file, or one that leaves `scope`."""
    try:
        text = os.readlink(link)
        target = Path(os.path.realpath(link, strict=True))
        st = os.stat(target)
    except FileNotFoundError:
        raise ArtifactError(f"{link}: dangling symlink -> {text!r}") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ArtifactError(f"{link}: symlink loop") from None
        raise ArtifactError(f"{link}: cannot follow symlink: {exc.strerror or exc}") from None
    if not _inside(target, scope):
        raise ArtifactError(f"{link}: symlink leaves the bundle (-> {target}); not followed")
    if not stat.S_ISREG(st.st_mode):
        raise ArtifactError(
            f"{link}: symlink to {kind_of(st.st_mode)}; only links to files are followed"
        )
    return target


def tree_members(root: Path) -> list[tuple[str, Path]]:
    """What a bundle folder holds, as the folder hash and a kept copy see it: each
    member's relative POSIX path and the regular file whose bytes it is (a symlink
    stands for its target's bytes, under the link's name; see link_target).

    Refuses (ArtifactError) what cannot be hashed as bytes: folders it cannot
    walk, bad links. `checkpoint-N/` folders right inside root are left out.
    """
    root = Path(os.path.realpath(root))
    scope = link_scope(root)
    members: list[tuple[str, Path]] = []
    for found in walk(root, _descend(False)):
        if isinstance(found, Skipped):
            raise ArtifactError(f"{found.path}: {found.reason}")
        entry, _ = found
        full = Path(entry.path)
        if _is_real_folder(entry):
            continue
        rel = full.relative_to(root).as_posix()
        members.append((rel, link_target(full, scope) if entry.is_symlink() else full))
    members.sort()
    return members


def hash_tree(root: Path, progress: Progress | None = None) -> Digest:
    """Hash of a bundle folder from its members' relative paths and the hashes of
    their bytes (a symlink's target's bytes, never its text)."""
    if not root.is_dir():
        raise ArtifactError(f"{root}: no such folder")
    members = tree_members(root)
    total = 0
    for _, full in members:
        with contextlib.suppress(OSError):
            total += full.stat().st_size
    outer = hashlib.sha256()
    done = 0
    for rel, _full in members:
        base = done

        def step(d: int, _t: int, base: int = base) -> None:
            if progress is not None:
                progress(base + d, total)

        # Opened by its name in the bundle (a link follows to `full`): inspectors
        # read it by that name too, and readlog matches the two by name.
        digest = hash_file(root / rel, step if progress else None)
        done += digest.size_bytes
        outer.update(f"{rel}\0{digest.sha256}\n".encode("utf-8", "surrogateescape"))
    return Digest(outer.hexdigest(), done)


def hash_path(path: Path, progress: Progress | None = None, folder: bool | None = None) -> Digest:
    """Hash a file or a bundle folder (`folder` says which, when the caller knows)."""
    if path.is_dir() if folder is None else folder:
        return hash_tree(path, progress)
    return hash_file(path, progress)
