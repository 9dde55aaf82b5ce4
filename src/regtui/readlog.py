"""One file, one read: proof that the bytes hashed are the bytes inspected.

Inspection and hashing open an artifact separately, so a file swapped between
them (renamed over, rewritten in place, truncated, replaced by a link or FIFO)
would be recorded with one file's facts and another's sha256. While a ReadLog
is active (`reading()`, per thread), every inspector open (bounds.open_file)
records the descriptor's identity and a digest of every byte range it read;
hash_file then checks, from its own descriptor, that the identity is the same
and that each recorded range hashes alike in the bytes it streams. Identity
alone misses an in-place rewrite within one timestamp tick; the ranges do not.
Any difference spoils the log and raises Changed: the caller retries or refuses.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from regtui.errors import ArtifactChanged

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

Identity = tuple[int, int, int, int, int]

_DIGEST_BYTES = 16


def identity(st: os.stat_result) -> Identity:
    """What changes whenever a file's bytes or name binding change: device, inode,
    size, mtime and ctime (ctime no user tool can set back)."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def key_of(path: str | os.PathLike[str]) -> str:
    """One spelling per path, so inspector and hasher name a file alike."""
    return os.path.abspath(path)  # abspath normalises too


class Changed(ArtifactChanged):
    """The file changed between (or during) inspection and hashing (the watcher
    looks again on an ArtifactChanged)."""


def _digest(data: bytes | memoryview) -> bytes:
    return hashlib.blake2b(data, digest_size=_DIGEST_BYTES).digest()


@dataclass
class FileReads:
    """What inspection read of one file: its identity and the digests of the
    byte ranges read (sequential reads coalesce into one range)."""

    ident: Identity
    ranges: list[tuple[int, int, bytes]] = field(default_factory=list)
    _start: int = -1
    _end: int = -1
    _running: hashlib.blake2b | None = None

    def record(self, offset: int, data: bytes | memoryview) -> None:
        if self._running is not None and offset == self._end:
            self._running.update(data)
            self._end += len(data)
            return
        self._close_range()
        self._start, self._end = offset, offset + len(data)
        self._running = hashlib.blake2b(data, digest_size=_DIGEST_BYTES)

    def _close_range(self) -> None:
        if self._running is not None:
            self.ranges.append((self._start, self._end, self._running.digest()))
            self._running = None

    def all_ranges(self) -> list[tuple[int, int, bytes]]:
        self._close_range()
        return sorted(self.ranges)


class ReadLog:
    """Per-prepare record of inspector reads and hasher identities."""

    def __init__(self) -> None:
        self.files: dict[str, FileReads] = {}
        self.hashed: dict[str, Identity] = {}
        self.changed: str | None = None

    def spoil(self, path: str | os.PathLike[str], how: str) -> Changed:
        if self.changed is None:
            self.changed = f"{path}: changed while it was being read ({how})"
        return Changed(self.changed)

    def opened(self, path: str | os.PathLike[str], st: os.stat_result) -> FileReads:
        """An inspector opened `path` (descriptor fstat `st`): a second open must
        find the same file as the first."""
        key = key_of(path)
        ident = identity(st)
        reads = self.files.get(key)
        if reads is None:
            reads = self.files[key] = FileReads(ident)
        elif reads.ident != ident:
            raise self.spoil(path, "a second look found another file")
        return reads

    def verifier(self, path: str | os.PathLike[str], st: os.stat_result) -> RangeCheck | None:
        """hash_file opened `path` (fstat `st`): refuse another file than the one
        inspected; the returned check confirms the inspected ranges while hashing."""
        key = key_of(path)
        ident = identity(st)
        if key in self.hashed and self.hashed[key] != ident:
            raise self.spoil(path, "hashed twice, two files")
        self.hashed[key] = ident
        reads = self.files.get(key)
        if reads is None:
            return None
        if reads.ident != ident:
            raise self.spoil(path, "the file hashed is not the file inspected")
        return RangeCheck(self, str(path), reads.all_ranges())


class RangeCheck:
    """Feeds streamed bytes to the digests of the inspected ranges they cover."""

    def __init__(self, log: ReadLog, path: str, ranges: list[tuple[int, int, bytes]]) -> None:
        self.log = log
        self.path = path
        self.pending = ranges  # sorted by start
        self.next = 0
        self.active: list[tuple[int, int, bytes, hashlib.blake2b]] = []

    def feed(self, offset: int, chunk: memoryview) -> None:
        end = offset + len(chunk)
        while self.next < len(self.pending) and self.pending[self.next][0] < end:
            s, e, d = self.pending[self.next]
            self.active.append((s, e, d, hashlib.blake2b(digest_size=_DIGEST_BYTES)))
            self.next += 1
        still = []
        for s, e, d, h in self.active:
            lo, hi = max(s, offset), min(e, end)
            if hi > lo:
                h.update(chunk[lo - offset : hi - offset])
            if e <= end:
                if h.digest() != d:
                    raise self.log.spoil(self.path, f"bytes {s}..{e} differ from those inspected")
            else:
                still.append((s, e, d, h))
        self.active = still

    def finish(self) -> None:
        if self.active or self.next < len(self.pending):
            raise self.log.spoil(self.path, "shorter than the bytes inspected")


_current: ContextVar[ReadLog | None] = ContextVar("regtui_readlog", default=None)


def current() -> ReadLog | None:
    return _current.get()


@contextmanager
def reading() -> Iterator[ReadLog]:
    """Record inspector reads and hasher identities in this thread until exit."""
    log = ReadLog()
    token = _current.set(log)
    try:
        yield log
    finally:
        _current.reset(token)


class RecordingFile(io.FileIO):
    """A raw file whose every read is recorded (offset and bytes) in FileReads,
    when given, and that calls `check` (an inspection deadline) before each read."""

    def __init__(
        self, fd: int, reads: FileReads | None, check: Callable[[], None] | None = None
    ) -> None:
        super().__init__(fd, "rb", closefd=True)
        self._reads = reads
        self._check = check

    def _record(self, at: int, data: bytes | memoryview) -> None:
        if data and self._reads is not None:
            self._reads.record(at, data)

    # The base's signatures, and typed locals: typeshed releases differ on whether
    # FileIO's reads may return None, and this must check the same under each.
    def readinto(self, buffer: WriteableBuffer, /) -> int:
        if self._check is not None:
            self._check()
        at = self.tell()
        n: int = super().readinto(buffer)
        if n:
            self._record(at, memoryview(buffer)[:n])
        return n

    def read(self, size: int | None = -1, /) -> bytes:
        if self._check is not None:
            self._check()
        at = self.tell()
        data: bytes = super().read(size)
        self._record(at, data)
        return data

    def readall(self) -> bytes:
        if self._check is not None:
            self._check()
        at = self.tell()
        data = super().readall()
        self._record(at, data)
        return data


def snapshot(path: Path, members: list[Path] | None) -> dict[str, Identity | None]:
    """Identity of the file (members=None) or of each member of a bundle (links
    followed, as the hasher opens them); None for one that cannot be stat'ed."""
    out: dict[str, Identity | None] = {}
    for p in [path] if members is None else members:
        try:
            out[key_of(p)] = identity(os.stat(p))
        except OSError:
            out[key_of(p)] = None
    return out


def mismatch(
    log: ReadLog,
    before: dict[str, Identity | None],
    after: dict[str, Identity | None],
) -> str | None:
    """Why the facts and the hash may not be of one file (None if they are):
    the log spoilt, the listing or an identity moved between before and after,
    a file inspected that the hash covers was not hashed alike, or one hashed
    is not the one listed before inspection."""
    if log.changed:
        return log.changed
    if before != after:
        moved = sorted(set(before.items()) ^ set(after.items()))
        return f"{moved[0][0]}: changed while it was being read (listing or identity moved)"
    # Every file inspected that the hash covers (listed before) was hashed as that
    # file; files the hash leaves out by design (checkpoint-N/) are not asked for.
    for key, reads in log.files.items():
        if key in before and log.hashed.get(key) != reads.ident:
            return f"{key}: changed while it was being read (inspected, not hashed alike)"
    for key, ident in log.hashed.items():
        if key in before and before[key] != ident:
            return f"{key}: changed while it was being read (hashed another file)"
    return None
