"""Pickles inside zip members: found by content, scanned (never loaded), bounded.

Any member that starts like a pickle (PROTO), is named like one, or is a `.npy`
array whose dtype may hold objects (numpy unpickles those after the header) is
walked by the pickle scanner; a zip inside a zip (a `.pt` in a `.zip`) is followed
one level down. Members a loader unpickles (`loaded`) count as unsafe when the
scan finds an import outside the allow-list or cannot finish; members no loader
unpickles (a PyTorch storage record, a file in a `.keras` archive) count only
when they hold a whole pickle naming such an import, so raw tensor bytes that
happen to start like a pickle do not raise a false alarm.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from regtui.inspect.bounds import BadContent, Refused, bounded, clip
from regtui.inspect.facts import Facts
from regtui.inspect.pickle_scan import (
    MAX_OPS,
    PickleScan,
    describe,
    raise_if_over_limit,
    scan_pickle,
)
from regtui.inspect.zipcheck import MAX_RATIO, MIN_BOMB_BYTES, ZIP_READ_ERRORS

MAX_MEMBERS = 256  # pickle-looking members scanned per archive (more: refused, not skipped)
MAX_TOTAL_OPS = 2 * MAX_OPS  # opcodes walked across all members of one archive
MAX_NESTED_ENTRIES = 10_000
MAX_NESTED_BYTES = 64 << 20  # a compressed zip inside a zip is read into memory up to this
MAX_DEPTH = 1  # zips inside zips followed this many levels down
MAX_NPY_HEADER = 1 << 16
PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".dat", ".data", ".pt", ".pth", ".bin", ".ckpt")
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"
# A plain (non-object) numpy dtype string; anything else may hold objects.
_PLAIN_DTYPE = re.compile(r"[<>|=]?[?bBhHiIlLqQpPefdgFDGSUVmMa]\d*(\[\w+\])?")
_OBJECT_CODE = re.compile(r"""['"][<>|=]?O\d*['"]|object""")

Loaded = Callable[[zipfile.ZipInfo], bool]


@dataclass
class MemberScans:
    """What the members of one archive would import, merged."""

    imports: list[str] = field(default_factory=list)
    unsafe: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    members: int = 0
    ops: int = 0

    def add(self, where: str, scan: PickleScan, loaded: bool) -> None:
        self.ops += scan.opcodes
        raise_if_over_limit(scan, f"zip member {clip(where, 200)}")
        counts = scan.dangerous if loaded else scan.complete and bool(scan.unsafe_names)
        if not (loaded or counts):
            return  # bytes no loader unpickles, and no whole pickle in them
        meta, warnings = describe(scan)
        self.imports += [n for n in meta["imports"] if n not in self.imports]
        if counts:
            unsafe = meta.get("unsafe_imports") or [f"<{clip(where, 200)}: scan incomplete>"]
            self.unsafe += [n for n in unsafe if n not in self.unsafe]
        if scan.truncated and loaded:
            warnings.append(f"ends before its STOP opcode: truncated ({scan.error})")
        self.warnings += [f"{clip(where, 200)}: {w}" for w in warnings]

    def merge_into(self, facts: Facts) -> None:
        facts.warnings.extend(self.warnings)
        if self.imports:
            known = facts.metadata.get("imports") or []
            facts.metadata["imports"] = bounded(known + [n for n in self.imports if n not in known])
        if self.unsafe:
            known = facts.metadata.get("unsafe_imports") or []
            facts.metadata["unsafe_imports"] = bounded(
                known + [n for n in self.unsafe if n not in known]
            )
            facts.metadata["pickle_unsafe"] = True


def _everything(_info: zipfile.ZipInfo) -> bool:
    return True


def scan_members(
    zf: zipfile.ZipFile,
    *,
    skip: Callable[[zipfile.ZipInfo], bool] = lambda _i: False,
    loaded: Loaded = _everything,
) -> MemberScans:
    """Scan every pickle-looking member of `zf` (each entry, duplicates included).
    Refused past a limit (members, opcodes), never cut silently."""
    out = MemberScans()
    _walk(zf, "", out, skip, loaded, 0)
    return out


def _walk(
    zf: zipfile.ZipFile,
    prefix: str,
    out: MemberScans,
    skip: Callable[[zipfile.ZipInfo], bool],
    loaded: Loaded,
    depth: int,
) -> None:
    with _whole(zf) as buf:
        for info in zf.infolist():
            if info.is_dir() or skip(info) or info.flag_bits & 1:  # encrypted: no loader reads it
                continue
            where = prefix + info.orig_filename
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size >= MIN_BOMB_BYTES and ratio > MAX_RATIO:
                raise Refused(f"zip member {clip(where, 200)} inflates {ratio:.0f}:1: not scanned")
            head = _head(buf, info)
            if head is None:  # not found in place: read it the slow way
                try:
                    with zf.open(info) as fh:
                        head = fh.read(8)
                except ZIP_READ_ERRORS as exc:
                    out.warnings.append(f"{clip(where, 200)}: cannot read: {clip(str(exc), 200)}")
                    continue
            kind = _kind(info.filename, head)
            if kind is not None:
                _scan_member(zf, info, kind, where, out, loaded, depth)


def _scan_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, kind: str, where: str,
                 out: MemberScans, loaded: Loaded, depth: int) -> None:  # fmt: skip
    out.members += 1
    if out.members > MAX_MEMBERS:
        raise Refused(f"zip archive holds over {MAX_MEMBERS} pickles: too many to scan")
    if out.ops > MAX_TOTAL_OPS:
        raise Refused(f"zip archive's pickles need over {MAX_TOTAL_OPS} opcodes to scan")
    if kind == "zip":
        if depth < MAX_DEPTH:
            _nested(zf, info, where, out, depth)
        return
    try:
        with zf.open(info) as fh:
            if kind == "npy":
                scan = _scan_npy(fh)
                if scan is not None:
                    out.add(where, scan, loaded(info))
            else:
                out.add(where, scan_pickle(fh, seekable=False), loaded(info))
    except BadContent as exc:  # an .npy numpy itself would refuse to read
        out.warnings.append(f"{clip(where, 200)}: {exc}")
    except ZIP_READ_ERRORS as exc:
        out.warnings.append(f"{clip(where, 200)}: cannot read: {clip(str(exc), 200)}")


class _Pread:
    """Slices of an open file read with pread. Not a memory map: a file cut while it
    is read (a training run rewriting it) gives a short read here, where a map
    would kill the process with SIGBUS."""

    def __init__(self, fd: int) -> None:
        self.fd, self.size = fd, os.fstat(fd).st_size

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, at: slice) -> bytes:
        return os.pread(self.fd, max(0, at.stop - at.start), at.start)


@contextlib.contextmanager
def _whole(zf: zipfile.ZipFile) -> Iterator[_Pread | memoryview | None]:
    """The archive's bytes without reading them whole (pread on the file, or the
    buffer of an archive already in memory), so each member's first bytes cost a slice."""
    fp = getattr(zf, "fp", None)
    if isinstance(fp, io.BytesIO):
        with fp.getbuffer() as view:
            yield view
        return
    try:
        pread = _Pread(fp.fileno()) if fp is not None else None
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        pread = None
    yield pread


def _head(buf: _Pread | memoryview | None, info: zipfile.ZipInfo) -> bytes | None:
    """A member's first 8 bytes, read in place; None when that is not possible."""
    off = info.header_offset
    if buf is None or off + 30 > len(buf) or bytes(buf[off : off + 4]) != _ZIP_MAGIC:
        return None
    name_len, extra_len = struct.unpack("<HH", bytes(buf[off + 26 : off + 30]))
    start = off + 30 + name_len + extra_len
    if info.compress_type == zipfile.ZIP_STORED:
        return bytes(buf[start : start + min(8, info.compress_size)])
    if info.compress_type != zipfile.ZIP_DEFLATED:
        return None
    raw = bytes(buf[start : start + min(info.compress_size, 4096)])
    try:
        head = zlib.decompressobj(-15).decompress(raw, 8)
    except zlib.error:
        return None
    return head if len(head) == min(8, info.file_size) else None


def _kind(name: str, head: bytes) -> str | None:
    if head[:1] == b"\x80" and len(head) > 1 and head[1] <= 5:
        return "pickle"
    if head.startswith(_NPY_MAGIC):
        return "npy"
    if head.startswith(_ZIP_MAGIC):
        return "zip"
    if name.lower().endswith(PICKLE_SUFFIXES) and head:
        return "pickle"  # protocols 0 and 1 have no PROTO opcode
    return None


def _scan_npy(fh: IO[bytes]) -> PickleScan | None:
    """The pickle after an .npy header whose dtype may hold objects, else None."""
    head = fh.read(len(_NPY_MAGIC) + 2)
    major = head[-2] if len(head) == len(_NPY_MAGIC) + 2 else 0
    width = 2 if major == 1 else 4
    raw = fh.read(width)
    if len(raw) < width:
        return None
    size = int.from_bytes(raw, "little")
    if size > MAX_NPY_HEADER:
        raise BadContent(f".npy header of {size} bytes is over {MAX_NPY_HEADER}")
    header = fh.read(size).decode("latin-1")
    descr = re.search(r"""['"]descr['"]\s*:\s*(['"])(.*?)\1""", header)
    if descr is not None and _PLAIN_DTYPE.fullmatch(descr.group(2)):
        return None  # raw array bytes follow
    if descr is None and not _OBJECT_CODE.search(header):
        return None  # a structured dtype without an object field
    return scan_pickle(fh, seekable=False)  # numpy loads one; a second is scanned too


def _nested(zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str, out: MemberScans,
            depth: int) -> None:  # fmt: skip
    """A zip inside the zip (a torch.save file in an archive), scanned one level down."""
    if info.compress_type != zipfile.ZIP_STORED and info.file_size > MAX_NESTED_BYTES:
        raise Refused(
            f"compressed zip member {clip(where, 200)} of {info.file_size} bytes is over "
            f"{MAX_NESTED_BYTES} bytes: its pickles cannot be scanned"
        )
    try:
        with zf.open(info) as fh:
            src: IO[bytes] = (
                fh
                if info.compress_type == zipfile.ZIP_STORED
                else io.BytesIO(fh.read(MAX_NESTED_BYTES + 1))
            )
            with zipfile.ZipFile(src) as inner:
                if len(inner.infolist()) > MAX_NESTED_ENTRIES:
                    raise Refused(
                        f"zip member {clip(where, 200)} holds over {MAX_NESTED_ENTRIES} entries"
                    )
                _walk(inner, where + "!", out, lambda _i: False, _everything, depth + 1)
    except ZIP_READ_ERRORS as exc:
        out.warnings.append(f"{clip(where, 200)}: cannot read as a zip: {clip(str(exc), 200)}")


def member_facts(zf: zipfile.ZipFile, facts: Facts, **kw: Any) -> None:
    """`scan_members` merged into `facts`."""
    scan_members(zf, **kw).merge_into(facts)
