"""Git metadata read from the repository's files, in pure Python: never by running git.

An artifact's folder is untrusted, and git runs programs its repository's config
names (filters, fsmonitor, hooks, pagers, ...). So nothing here starts a process
or reads config: the repository is found by walking up from the run folder, the
commit through HEAD, loose refs and packed-refs, and "dirty" from the index.

Every read is bounded and goes through `open_file` (non-blocking, regular files
only), so a FIFO, device or symlink loop in the .git tree is an unknown, not a
hang. Anything malformed gives None ("unknown"), never an exception.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from regtui.inspect.bounds import BadContent, open_file

MAX_UP = 64  # folders walked up looking for .git
MAX_SMALL = 4096  # HEAD, a loose ref, a gitdir:/commondir file
MAX_PACKED_REFS = 64 << 20  # packed-refs is streamed line by line up to this
MAX_SYMREF_DEPTH = 5  # git's own limit on ref: -> ref: chains
MAX_INDEX_BYTES = 64 << 20
MAX_INDEX_ENTRIES = 200_000
MAX_HASH_BYTES = 256 << 20  # work-tree bytes re-hashed per dirty check
MAX_OBJECT = 1 << 20  # a commit object inflated at most this far
MAX_PACKS = 64

_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_BAD_REF_PART = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|^\.|\.lock$|^$")
# Refs that live in the worktree's own git dir, not the common one (git's list).
_PER_WORKTREE = ("refs/bisect/", "refs/worktree/", "refs/rewritten/")


def read_small(path: Path, cap: int = MAX_SMALL) -> bytes | None:
    """At most `cap` bytes of a regular file; None if absent, special or unreadable."""
    try:
        with open_file(path) as fh:
            return fh.read(cap)
    except (OSError, BadContent):
        return None


def _text(path: Path) -> str | None:
    data = read_small(path)
    return None if data is None else data.decode("utf-8", errors="replace").strip()


def _is_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


@dataclass(frozen=True)
class Repo:
    work: Path  # the work tree (the folder holding .git)
    git_dir: Path  # .git, or where a `gitdir:` file points
    common_dir: Path  # shared refs and objects (differs for linked worktrees)


def find_repo(start: Path) -> Repo | None:
    """The repository holding `start`: walks up at most MAX_UP folders and never
    crosses into another file system (as git does by default)."""
    try:
        here = Path(os.path.abspath(start))
        device = os.stat(here).st_dev
    except (OSError, ValueError):
        return None
    for _ in range(MAX_UP):
        dot = here / ".git"
        git_dir = dot if _is_dir(dot) else _gitdir_file(dot)
        if git_dir is not None and _looks_like_git_dir(git_dir):
            return Repo(here, git_dir, _common_dir(git_dir))
        parent = here.parent
        try:
            if parent == here or os.stat(parent).st_dev != device:
                return None
        except OSError:
            return None
        here = parent
    return None


def _gitdir_file(dot: Path) -> Path | None:
    """Where a `.git` file (worktree, submodule) points: `gitdir: <path>`."""
    text = _text(dot)
    if not text or not text.startswith("gitdir:") or "\n" in text or "\x00" in text:
        return None
    target = Path(text[7:].strip())
    target = target if target.is_absolute() else dot.parent / target
    return target if _is_dir(target) else None


def _looks_like_git_dir(git_dir: Path) -> bool:
    head = read_small(git_dir / "HEAD")
    return head is not None and (
        head.startswith(b"ref:") or bool(_SHA.match(head.decode("latin-1")))
    )


def _common_dir(git_dir: Path) -> Path:
    text = _text(git_dir / "commondir")
    if text and "\n" not in text and "\x00" not in text:
        common = Path(text) if Path(text).is_absolute() else git_dir / text
        if _is_dir(common):
            return common
    return git_dir


def valid_ref_name(ref: str) -> bool:
    """A ref name git itself would accept, under refs/: never a path that
    climbs out of the git dir or names something else."""
    if not ref.startswith("refs/") or len(ref) > 1024 or ref.endswith(("/", ".")):
        return False
    return not any(_BAD_REF_PART.search(part) for part in ref.split("/"))


@dataclass(frozen=True)
class Head:
    commit: str | None  # None: unborn branch, or not readable
    branch: str | None  # None: detached HEAD
    ref: str | None  # the full ref HEAD names


def read_head(repo: Repo) -> Head | None:
    head = _text(repo.git_dir / "HEAD")
    if head is None:
        return None
    if _SHA.fullmatch(head):
        return Head(head, None, None)
    if not head.startswith("ref:"):
        return None
    ref = head[4:].strip()
    if not valid_ref_name(ref):
        return None
    branch = ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else ref
    return Head(resolve_ref(repo, ref), branch, ref)


def resolve_ref(repo: Repo, ref: str, depth: int = 0) -> str | None:
    """The commit a ref names: its loose file (following `ref:` chains up to
    git's depth), else packed-refs."""
    if depth > MAX_SYMREF_DEPTH or not valid_ref_name(ref):
        return None
    base = repo.git_dir if ref.startswith(_PER_WORKTREE) else repo.common_dir
    text = _text(base / ref)
    if text is not None:
        if _SHA.fullmatch(text):
            return text
        if text.startswith("ref:"):
            return resolve_ref(repo, text[4:].strip(), depth + 1)
        return None
    return _packed_ref(repo.common_dir / "packed-refs", ref)


def _packed_ref(path: Path, ref: str) -> str | None:
    wanted = ref.encode("utf-8", errors="replace")
    try:
        with open_file(path) as fh:
            seen = 0
            for line in iter(lambda: fh.readline(4096), b""):
                seen += len(line)
                if seen > MAX_PACKED_REFS:
                    return None
                sha, _, name = line.rstrip(b"\r\n").partition(b" ")
                if name == wanted and _SHA.fullmatch(sha.decode("latin-1")):
                    return sha.decode("ascii")
    except (OSError, BadContent):
        return None
    return None


# --- dirty: the index against the work tree, and the index against HEAD -------


@dataclass(frozen=True)
class _Entry:
    path: bytes
    mode: int
    size: int
    mtime_ns: int
    ctime_ns: int
    ino: int
    oid: bytes
    stage: int
    skip: bool  # assume-valid or skip-worktree: git does not look at the file
    intent_to_add: bool


class _Unknown(Exception):
    """The index or an object is beyond what this reader handles: dirty unknown."""


def is_dirty(repo: Repo, head: Head) -> bool | None:
    """What `git status --untracked-files=no --ignore-submodules=all` would say
    about changes (True/False), or None when that cannot be known by reading."""
    try:
        index_path = repo.git_dir / "index"
        entries, cache_tree, index_mtime_ns = _read_index(index_path, len(head.commit or "") // 2)
        if head.commit is None:
            return bool(entries)  # an unborn branch: anything staged is a change
        if any(e.stage or e.intent_to_add for e in entries):
            return True  # a merge conflict, or `git add -N`
        if _work_tree_differs(repo.work, entries, index_mtime_ns):
            return True
        tree = _commit_tree(repo, head.commit)
        if cache_tree is None or tree is None:
            return None  # index vs HEAD needs the trees: unknown
        return cache_tree != tree
    except _Unknown:
        return None


def _read_index(path: Path, oid_len: int) -> tuple[list[_Entry], str | None, int]:
    try:
        with open_file(path) as fh:
            st = os.fstat(fh.fileno())
            if st.st_size > MAX_INDEX_BYTES:
                raise _Unknown
            data = fh.read(MAX_INDEX_BYTES + 1)
    except FileNotFoundError:
        return [], None, 0  # no index yet: nothing staged
    except (OSError, BadContent):
        raise _Unknown from None
    try:
        entries, cache_tree = _parse_index(data, oid_len or 20)
    except (struct.error, IndexError, ValueError):
        raise _Unknown from None
    return entries, cache_tree, st.st_mtime_ns


def _parse_index(data: bytes, oid_len: int) -> tuple[list[_Entry], str | None]:
    if len(data) < 12 or data[:4] != b"DIRC":
        raise _Unknown
    version, count = struct.unpack_from(">II", data, 4)
    if version not in (2, 3, 4) or count > MAX_INDEX_ENTRIES:
        raise _Unknown
    pos, prev = 12, b""
    entries = []
    for _ in range(count):
        start = pos
        cs, cn, ms, mn, _dev, ino, mode, _uid, _gid, size = struct.unpack_from(">10I", data, pos)
        pos += 40
        oid = data[pos : pos + oid_len]
        pos += oid_len
        (flags,) = struct.unpack_from(">H", data, pos)
        pos += 2
        flags2 = 0
        if flags & 0x4000:
            if version < 3:
                raise _Unknown
            (flags2,) = struct.unpack_from(">H", data, pos)
            pos += 2
        if version == 4:
            strip, pos = _varint(data, pos)
            end = data.index(b"\x00", pos)
            if strip > len(prev):
                raise _Unknown
            name = prev[: len(prev) - strip] + data[pos:end]
            pos = end + 1
        else:
            end = data.index(b"\x00", pos)
            name = data[pos:end]
            pos = start + ((end - start) // 8 + 1) * 8  # NUL-padded to a multiple of 8
        if len(oid) != oid_len or pos > len(data):
            raise _Unknown
        prev = name
        entries.append(
            _Entry(
                path=name,
                mode=mode,
                size=size,
                mtime_ns=ms * 1_000_000_000 + mn,
                ctime_ns=cs * 1_000_000_000 + cn,
                ino=ino,
                oid=oid,
                stage=(flags >> 12) & 3,
                skip=bool(flags & 0x8000 or flags2 & 0x4000),
                intent_to_add=bool(flags2 & 0x2000),
            )
        )
    return entries, _cache_tree(data, pos, oid_len)


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """The offset varint of index v4 (git's encode_varint)."""
    byte = data[pos]
    value = byte & 0x7F
    pos += 1
    for _ in range(9):
        if not byte & 0x80:
            return value, pos
        byte = data[pos]
        pos += 1
        value = ((value + 1) << 7) | (byte & 0x7F)
    raise _Unknown


def _cache_tree(data: bytes, pos: int, oid_len: int) -> str | None:
    """The root tree id the index records (the TREE extension), when still valid."""
    end = len(data) - oid_len  # the trailing checksum
    while pos + 8 <= end:
        sig, size = data[pos : pos + 4], struct.unpack_from(">I", data, pos + 4)[0]
        body = data[pos + 8 : pos + 8 + size]
        if sig == b"link":
            raise _Unknown  # a split index: the entries read are not all of them
        if sig == b"sdir":
            raise _Unknown  # a sparse index: folders stand for their files
        if sig == b"TREE":
            # root entry: "" NUL count SP subtrees LF [oid] -- count -1 is invalid
            head, _, rest = body.partition(b"\n")
            path, _, counts = head.partition(b"\x00")
            entry_count = counts.split(b" ")[0]
            if path != b"" or entry_count.startswith(b"-") or len(rest) < oid_len:
                return None
            return rest[:oid_len].hex()
        pos += 8 + size
    return None


def _work_tree_differs(work: Path, entries: list[_Entry], index_mtime_ns: int) -> bool:
    budget = MAX_HASH_BYTES
    for e in entries:
        kind = e.mode >> 12
        if kind not in (0o10, 0o12, 0o16):
            raise _Unknown
        if e.skip or kind == 0o16:  # submodules are ignored, as with --ignore-submodules=all
            continue
        parts = e.path.split(b"/")
        if any(p in (b"", b".", b"..", b".git") for p in parts):
            raise _Unknown  # a hostile index naming paths outside the work tree
        path = work / os.fsdecode(e.path)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return True
        except OSError:
            raise _Unknown from None
        want_link = kind == 0o12
        if want_link != stat.S_ISLNK(st.st_mode) or (
            not want_link and not stat.S_ISREG(st.st_mode)
        ):
            return True  # type changed (a file became a link, a folder, a FIFO ...)
        if want_link:
            body = os.fsencode(os.readlink(path))
        else:
            if (e.mode & 0o100) != (st.st_mode & 0o100):
                return True  # the executable bit is part of what git tracks
            same_stat = (
                st.st_size & 0xFFFFFFFF == e.size
                and st.st_mtime_ns == e.mtime_ns
                and st.st_ctime_ns == e.ctime_ns
                and st.st_ino & 0xFFFFFFFF == e.ino
            )
            if same_stat and st.st_mtime_ns < index_mtime_ns:
                continue  # unchanged since the index was written (not "racy")
            budget -= st.st_size
            if budget < 0:
                raise _Unknown
            body = _read_file(path)
        if _blob_id(body, len(e.oid)) != e.oid:
            return True
    return False


def _read_file(path: Path) -> bytes:
    try:
        with open_file(path) as fh:
            return fh.read(MAX_HASH_BYTES + 1)
    except (OSError, BadContent):
        raise _Unknown from None


def _blob_id(body: bytes, oid_len: int) -> bytes:
    algo = hashlib.sha256 if oid_len == 32 else hashlib.sha1
    h = algo(b"blob %d\x00" % len(body))
    h.update(body)
    return h.digest()


def _commit_tree(repo: Repo, commit: str) -> str | None:
    """The tree id of a commit, from its loose object or a pack (non-delta)."""
    raw = _loose_object(repo.common_dir / "objects", commit)
    if raw is None:
        raw = _packed_object(repo.common_dir / "objects" / "pack", commit)
    if raw is None:
        return None
    if raw.startswith(b"commit "):
        raw = raw.partition(b"\x00")[2]
    line = raw.partition(b"\n")[0]
    if not line.startswith(b"tree "):
        return None
    tree = line[5:].decode("latin-1")
    return tree if _SHA.fullmatch(tree) else None


def _inflate(data: bytes) -> bytes | None:
    try:
        return zlib.decompressobj().decompress(data, MAX_OBJECT)
    except zlib.error:
        return None


def _loose_object(objects: Path, oid: str) -> bytes | None:
    data = read_small(objects / oid[:2] / oid[2:], MAX_OBJECT)
    return None if data is None else _inflate(data)


def _packed_object(pack_dir: Path, oid: str) -> bytes | None:
    try:
        names = sorted(n for n in os.listdir(pack_dir) if n.endswith(".idx"))[:MAX_PACKS]
    except OSError:
        return None
    want = bytes.fromhex(oid)
    for name in names:
        offset = _idx_lookup(pack_dir / name, want)
        if offset is not None:
            return _pack_entry(pack_dir / (name[:-4] + ".pack"), offset)
    return None


def _idx_lookup(path: Path, want: bytes) -> int | None:
    """The pack offset of `want` from a version-2 .idx, by binary search (seeks only)."""
    n = len(want)
    try:
        with open_file(path) as fh:
            head = fh.read(8 + 256 * 4)
            if len(head) < 8 + 1024 or head[:8] != b"\xfftOc\x00\x00\x00\x02":
                return None
            fanout = struct.unpack_from(">256I", head, 8)
            lo = fanout[want[0] - 1] if want[0] else 0
            hi, total = fanout[want[0]], fanout[255]
            if not lo <= hi <= total:
                return None
            while lo < hi:
                mid = (lo + hi) // 2
                fh.seek(8 + 1024 + mid * n)
                got = fh.read(n)
                if len(got) != n:
                    return None
                if got == want:
                    fh.seek(8 + 1024 + total * (n + 4) + mid * 4)
                    raw = fh.read(4)
                    if len(raw) != 4:
                        return None
                    offset: int
                    (offset,) = struct.unpack(">I", raw)
                    if offset & 0x80000000:
                        fh.seek(8 + 1024 + total * (n + 8) + (offset & 0x7FFFFFFF) * 8)
                        raw = fh.read(8)
                        if len(raw) != 8:
                            return None
                        (offset,) = struct.unpack(">Q", raw)
                    return offset
                lo, hi = (mid + 1, hi) if got < want else (lo, mid)
    except (OSError, BadContent):
        return None
    return None


def _pack_entry(path: Path, offset: int) -> bytes | None:
    """A whole (non-delta) commit object from a pack; deltas give None."""
    try:
        with open_file(path) as fh:
            fh.seek(offset)
            data = fh.read(MAX_OBJECT)
    except (OSError, BadContent, OverflowError):
        return None
    if not data:
        return None
    kind = (data[0] >> 4) & 7
    pos = 1
    while data[pos - 1] & 0x80 and pos < min(len(data), 10):
        pos += 1
    if kind != 1:  # 1 = commit; deltas are not followed
        return None
    return _inflate(data[pos:])
