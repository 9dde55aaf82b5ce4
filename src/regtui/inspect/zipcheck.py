"""Zip archives (.pt, .keras, …) listed from their central directory, never extracted.

Declared sizes and compression ratios are checked before any entry is read, and
only small named entries (a pickle, a JSON config) are read, through a cap that
holds even if the declared size lies.
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from regtui.inspect.bounds import BadContent, Refused, clip

MAX_ENTRIES = 100_000
MAX_RATIO = 200  # uncompressed/compressed beyond this is a zip bomb
MAX_TOTAL_UNCOMPRESSED = 1 << 40  # 1 TiB declared in all
MIN_BOMB_BYTES = 32 << 20  # ratios only matter once an entry is this big


@dataclass(frozen=True)
class Entry:
    name: str
    size: int
    compressed: int
    stored: bool


def list_zip(path: Path) -> tuple[zipfile.ZipFile, list[Entry]]:
    """The open archive and its entries; Refused for bombs and escaping paths."""
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise BadContent(f"damaged zip archive: {clip(str(exc), 200)}") from None
    except (OSError, ValueError, EOFError) as exc:
        raise BadContent(f"unreadable zip archive: {clip(str(exc), 200)}") from None
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        zf.close()
        raise Refused(f"zip archive has {len(infos)} entries (limit {MAX_ENTRIES})")
    entries: list[Entry] = []
    total = 0
    file_size = path.stat().st_size
    for info in infos:
        name = info.filename
        pure = PurePosixPath(name.replace("\\", "/"))
        if pure.is_absolute() or ".." in pure.parts or (len(name) > 1 and name[1] == ":"):
            zf.close()
            raise Refused(f"zip entry {clip(name, 200)!r} escapes the archive folder")
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size >= MIN_BOMB_BYTES and ratio > MAX_RATIO:
            zf.close()
            raise Refused(
                f"zip bomb: entry {clip(name, 200)!r} declares {info.file_size} bytes from "
                f"{info.compress_size} compressed (ratio {ratio:.0f}:1)"
            )
        if info.compress_size > file_size:
            zf.close()
            raise BadContent(f"zip entry {clip(name, 200)!r} is larger than the file: truncated")
        entries.append(
            Entry(
                name, info.file_size, info.compress_size, info.compress_type == zipfile.ZIP_STORED
            )
        )
    if total > MAX_TOTAL_UNCOMPRESSED:
        zf.close()
        raise Refused(f"zip archive declares {total} uncompressed bytes in all")
    return zf, entries


# What reading a damaged entry can raise: a bad CRC, header or deflate stream.
ZIP_READ_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    OSError,
    EOFError,
    ValueError,
    NotImplementedError,
)


def read_entry(zf: zipfile.ZipFile, name: str, cap: int) -> bytes:
    """One entry's bytes, at most `cap` of them (BadContent beyond, whatever it declared)."""
    info = zf.getinfo(name)
    if info.file_size > cap:
        raise BadContent(f"zip entry {clip(name, 200)!r} is {info.file_size} bytes: over the cap")
    try:
        with zf.open(info) as fh:
            data = fh.read(cap + 1)
    except ZIP_READ_ERRORS as exc:
        raise BadContent(
            f"cannot read zip entry {clip(name, 200)!r}: {clip(str(exc), 200)}"
        ) from None
    if len(data) > cap:
        raise BadContent(f"zip entry {clip(name, 200)!r} inflates past its declared size")
    return data
