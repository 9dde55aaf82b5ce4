"""Zip archives (.pt, .keras, …) listed from their central directory, never extracted.

Declared sizes and compression ratios are checked before any entry is read, and
only small named entries (a pickle, a JSON config) are read, through a cap that
holds even if the declared size lies. A zip is written front to back and its
central directory last: without one the archive is still being written (damage),
and an end record that ends the file, with every entry before the directory,
proves it complete.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from regtui.inspect.bounds import BadContent, Damaged, Refused, clip, open_file

# zipfile reads every directory record in Python (~10 us each): past this many an
# archive is refused. Real model archives (torch.save, .keras, .npz) hold a few
# thousand at most.
MAX_ENTRIES = 32_768
# zipfile builds a ZipInfo (~500 bytes) per directory record, whatever the end
# record's count says: records are counted (and the directory's size capped)
# before zipfile sees the archive.
MAX_DIRECTORY_BYTES = 32 << 20
_DIRECTORY_RECORD = b"PK\x01\x02"
_DIRECTORY_RECORD_SIZE = 46  # before the entry's name, extra field and comment
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_END_SIZE = 56
MAX_RATIO = 200  # uncompressed/compressed beyond this is a zip bomb
MAX_TOTAL_UNCOMPRESSED = 1 << 40  # 1 TiB declared in all
MIN_BOMB_BYTES = 32 << 20  # ratios only matter once an entry is this big
NO_DIRECTORY = "zip archive without its central directory: incomplete"
_END_RECORD = b"PK\x05\x06"
_END_RECORD_SIZE = 22
_LOCAL_HEADER_SIZE = 30  # before the entry's name and extra field


@dataclass(frozen=True)
class Entry:
    name: str
    size: int
    compressed: int
    stored: bool


def list_zip(path: Path) -> tuple[zipfile.ZipFile, list[Entry]]:
    """The open archive and its entries; Refused for bombs and escaping paths."""
    fh = open_file(path)  # never blocks; NotRegular for a FIFO or device
    try:
        check_directory(fh, "zip archive")
        zf = zipfile.ZipFile(fh)
    except zipfile.BadZipFile as exc:
        fh.close()
        if "not a zip file" in str(exc):  # no end record: the writer has not finished
            raise Damaged(NO_DIRECTORY) from None
        raise Damaged(f"damaged zip archive: {clip(str(exc), 200)}") from None
    except (OSError, ValueError, EOFError) as exc:  # offsets that point nowhere
        fh.close()
        raise Damaged(f"unreadable zip archive: {clip(str(exc), 200)}") from None
    except NotImplementedError as exc:  # an entry claiming a zip version past zipfile's
        fh.close()
        raise Damaged(f"zip archive needs a newer zip reader: {clip(str(exc), 200)}") from None
    except BaseException:
        fh.close()
        raise
    zf._filePassed = False  # type: ignore[attr-defined]  # so zf.close() closes fh too
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        zf.close()
        raise Refused(f"zip archive has {len(infos)} entries (limit {MAX_ENTRIES})")
    entries: list[Entry] = []
    total = 0
    file_size = path.stat().st_size
    directory = getattr(zf, "start_dir", file_size)  # where the central directory begins
    for info in infos:
        name = info.filename
        posix = name.replace("\\", "/")  # string tests: a PurePosixPath per entry cost more
        if posix.startswith("/") or ".." in posix.split("/") or (len(name) > 1 and name[1] == ":"):
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
        # The name's length in characters is a lower bound of its encoded length.
        end = info.header_offset + _LOCAL_HEADER_SIZE + len(name) + info.compress_size
        if info.compress_size > file_size or end > directory:
            zf.close()
            raise Damaged(
                f"zip entry {clip(name, 200)!r} runs past the archive's data: truncated or "
                "lying archive"
            )
        entries.append(
            Entry(
                name, info.file_size, info.compress_size, info.compress_type == zipfile.ZIP_STORED
            )
        )
    if total > MAX_TOTAL_UNCOMPRESSED:
        zf.close()
        raise Refused(f"zip archive declares {total} uncompressed bytes in all")
    return zf, entries


def check_directory(fh: IO[bytes], what: str) -> None:
    """Refused if the central directory holds more than MAX_ENTRIES records or
    MAX_DIRECTORY_BYTES bytes. It is found as zipfile finds it (the end record,
    or the zip64 one it locates, minus the directory's size) and walked record by
    record the way zipfile will walk it. Anything unreadable is left to zipfile."""
    size = fh.seek(0, 2)
    span = min(size, _END_RECORD_SIZE + 0xFFFF)
    fh.seek(size - span)
    tail = fh.read(span)
    at = tail.rfind(_END_RECORD)
    if at < 0 or at + _END_RECORD_SIZE > len(tail):
        return
    end = size - span + at
    (directory_size,) = struct.unpack_from("<I", tail, at + 12)
    if end >= 20:
        fh.seek(end - 20)
        locator = fh.read(20)
        if locator.startswith(_ZIP64_LOCATOR) and end >= 20 + _ZIP64_END_SIZE:
            end -= 20 + _ZIP64_END_SIZE
            fh.seek(end + 40)
            raw = fh.read(8)
            if len(raw) == 8:
                (directory_size,) = struct.unpack("<Q", raw)
    if directory_size > MAX_DIRECTORY_BYTES:
        raise Refused(
            f"{what}: central directory of {directory_size} bytes, over the "
            f"{MAX_DIRECTORY_BYTES >> 20} MiB limit"
        )
    start = end - directory_size
    if start < 0:
        return
    fh.seek(start)
    directory = fh.read(directory_size)
    pos = count = 0
    while pos + _DIRECTORY_RECORD_SIZE <= len(directory):
        if directory[pos : pos + 4] != _DIRECTORY_RECORD:
            return
        count += 1
        if count > MAX_ENTRIES:
            raise Refused(f"{what}: more than {MAX_ENTRIES} entries (limit)")
        name, extra, comment = struct.unpack_from("<HHH", directory, pos + 28)
        pos += _DIRECTORY_RECORD_SIZE + name + extra + comment


def ends_complete(path: Path) -> bool:
    """Whether the zip's end record (and its comment) ends the file exactly: with
    `list_zip` having found every entry before the directory, the archive is whole."""
    with open_file(path) as fh:
        size = fh.seek(0, 2)
        span = min(size, _END_RECORD_SIZE + 0xFFFF)
        fh.seek(size - span)
        tail = fh.read(span)
    at = tail.rfind(_END_RECORD)
    if at < 0 or at + _END_RECORD_SIZE > len(tail):
        return False
    comment: int
    (comment,) = struct.unpack_from("<H", tail, at + 20)
    return at + _END_RECORD_SIZE + comment == len(tail)


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
        raise Damaged(f"cannot read zip entry {clip(name, 200)!r}: {clip(str(exc), 200)}") from None
    if len(data) > cap:
        raise Damaged(f"zip entry {clip(name, 200)!r} inflates past its declared size")
    return data
