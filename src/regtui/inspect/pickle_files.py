"""Pickle and joblib files, plain or compressed: their opcodes walked, never loaded."""

from __future__ import annotations

import contextlib
import re
import struct
import zlib
from pathlib import Path

from regtui.inspect.bounds import Damaged, Refused, open_file
from regtui.inspect.decompress import STREAM_ERRORS, Capped, capped_stream, decompressed
from regtui.inspect.facts import Facts
from regtui.inspect.pickle_scan import (
    PickleScan,
    add_plain_reading,
    describe,
    framework_from_globals,
    raise_if_over_limit,
    raise_if_truncated,
    scan_pickle,
)
from regtui.inspect.pytorch import LEGACY_MAGIC, inspect_legacy_torch

MAX_DECOMPRESSED_RATIO = 64  # compressed joblib/pickle: scanned up to this many times its size
PICKLE_EXTS = {".pkl", ".pickle", ".joblib", ".sav", ".pt", ".pth", ".bin", ".ckpt"}


def inspect_pickle(path: Path, facts: Facts, head: bytes, size: int) -> None:
    """A pickle file: torch.save's legacy format, else any pickle or joblib file."""
    if head.startswith(LEGACY_MAGIC):
        inspect_legacy_torch(path, facts)
        return
    with open_file(path, 1 << 16) as fh:
        scan = scan_pickle(fh)
    add_plain_reading(scan, lambda: open_file(path, 1 << 16))
    _pickle_facts(path, facts, scan)
    raise_if_over_limit(scan)
    raise_if_truncated(scan)
    # pickle.dump writes STOP last: a STOP on the file's last byte proves it whole.
    facts.complete = scan.complete and scan.end == path.stat().st_size


def _pickle_facts(path: Path, facts: Facts, scan: PickleScan) -> None:
    meta, warnings = describe(scan)
    names = meta["imports"]
    joblib = path.suffix.lower() == ".joblib" or any(n.startswith("joblib.") for n in names)
    facts.format = "joblib" if joblib else "pickle"
    facts.framework = framework_from_globals(names)
    if scan.tensors:
        meta["tensors"] = scan.tensors
        meta["parameters"] = scan.tensor_elements
    facts.metadata.update(meta)
    facts.warnings.extend(warnings)


def inspect_compressed(path: Path, facts: Facts, head: bytes, size: int) -> None:
    """Compressed joblib/pickle, scanned through a streaming decompressor with a cap.
    joblib.load finds the compression by content, not name: any name whose data
    inflates to a pickle (PROTO first) is scanned."""
    if path.suffix.lower() not in PICKLE_EXTS:
        with decompressed(path, head) as (_raw, stream):
            try:
                first = stream.read(2)
            except STREAM_ERRORS:
                first = b""
        if not (first[:1] == b"\x80" and first[1:2] in [bytes([i]) for i in range(6)]):
            facts.format = "unknown"
            facts.warnings.append("compressed data that is not a known model format")
            return
    limit = max(size * MAX_DECOMPRESSED_RATIO, 64 << 20)
    with decompressed(path, head) as (_raw, stream):
        capped = Capped(stream, limit)
        try:
            scan = scan_pickle(capped, seekable=False)  # type: ignore[arg-type]
        except STREAM_ERRORS as exc:
            raise Damaged(f"damaged compressed data: {exc}") from None
    with contextlib.suppress(*STREAM_ERRORS):
        add_plain_reading(scan, lambda: capped_stream(path, head, limit))
    _pickle_facts(path, facts, scan)
    facts.metadata["compressed"] = True
    if capped.hit:  # what lies past the cap could import anything: not half-read
        raise Refused(
            f"compressed pickle inflates past {MAX_DECOMPRESSED_RATIO}x the file "
            f"(limit {limit} bytes): too large to scan whole, treated as unsafe"
        )
    raise_if_over_limit(scan, "compressed pickle")
    raise_if_truncated(scan, "compressed pickle")


# Signatures (formats.FORMATS): `looks_like_*` decides alone; `may_be_*` is trusted
# only where the file's name allows the format (detect.sniff).


def _framed_pickle(head: bytes, size: int) -> bool:
    """Protocol 4/5 pickle with its first FRAME, whose length fits the file."""
    if len(head) < 11 or head[0] != 0x80 or head[1] not in (4, 5) or head[2] != 0x95:
        return False
    n: int
    (n,) = struct.unpack_from("<Q", head, 3)
    return 0 < n <= size - 11


def looks_like_pickle(head: bytes, size: int) -> bool:
    # LEGACY_MAGIC: a torch.save() file of the legacy format
    return head.startswith(LEGACY_MAGIC) or _framed_pickle(head, size)


def may_be_pickle(head: bytes, size: int) -> bool:
    return head[0] == 0x80 and 2 <= head[1] <= 5


_BZIP2 = re.compile(rb"BZh[1-9](1AY&SY|\x17rE8P\x90)")


def may_be_compressed(head: bytes, size: int) -> bool:
    """A zlib stream's first two bytes."""
    return head[:2] in (b"x\x01", b"x\x5e", b"x\x9c", b"x\xda")


def _zlib_pickle(head: bytes) -> bool:
    """A zlib start whose first inflated bytes begin a pickle: the two together do not
    occur by chance, and joblib finds its compression by content, whatever the name."""
    if not may_be_compressed(head, 0):
        return False
    try:
        out = zlib.decompressobj().decompress(head, 16)
    except zlib.error:
        return False
    return len(out) >= 2 and out[0] == 0x80 and 2 <= out[1] <= 5


def looks_like_compressed(head: bytes, size: int) -> bool:
    """gzip, xz or bzip2 magic, or a zlib stream that inflates to a pickle."""
    if head.startswith((b"\x1f\x8b\x08", b"\xfd7zXZ\x00")) or _BZIP2.match(head):
        return True
    return _zlib_pickle(head)
