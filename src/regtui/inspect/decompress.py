"""Streaming decompressors for compressed joblib/pickle files, read with a cap.

Nothing is inflated whole: the pickle scanner pulls bytes through these streams,
and `Capped` ends the data (as if truncated) where a bomb would begin.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import lzma
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from regtui.inspect.bounds import open_file

# What a damaged stream raises while it is read.
STREAM_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError)


@contextlib.contextmanager
def decompressed(path: Path, head: bytes) -> Iterator[tuple[IO[bytes], IO[bytes]]]:
    """The file and a streaming decompressor over it (gzip, bz2, xz, else zlib)."""
    raw = open_file(path)
    stream: Any
    if head.startswith(b"\x1f\x8b"):
        stream = gzip.GzipFile(fileobj=raw)
    elif head.startswith(b"BZh"):
        stream = bz2.BZ2File(raw)
    elif head.startswith(b"\xfd7zXZ"):
        stream = lzma.LZMAFile(raw)  # noqa: SIM115 - closed below
    else:
        stream = ZlibReader(raw)
    with raw, stream:
        yield raw, stream


@contextlib.contextmanager
def capped_stream(path: Path, head: bytes, limit: int) -> Iterator[IO[bytes]]:
    """The decompressed data of `path`, ending after `limit` bytes."""
    with decompressed(path, head) as (_raw, stream):
        yield Capped(stream, limit)  # type: ignore[misc]


class Capped:
    """A read-only stream that ends (as if truncated) after `limit` bytes."""

    def __init__(self, inner: IO[bytes], limit: int) -> None:
        self.inner = inner
        self.left = limit
        self.hit = False

    def read(self, n: int = -1) -> bytes:
        if n < 0 or n > self.left:
            n = self.left
        data = self.inner.read(n) if n else b""
        self.left -= len(data)
        if self.left <= 0 and not self.hit and data:
            self.hit = bool(self.inner.read(1))
        return data

    def readline(self, limit: int = -1) -> bytes:
        out = bytearray()
        while limit < 0 or len(out) < limit:
            b = self.read(1)
            if not b:
                break
            out += b
            if b == b"\n":
                break
        return bytes(out)


class ZlibReader:
    """zlib stream (joblib's 'zlib' compressor) as a file object."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.d = zlib.decompressobj()
        self.buf = bytearray()
        self.pos = 0  # read up to here; dropped only when more is inflated (linear)

    def read(self, n: int = -1) -> bytes:
        want = n if n >= 0 else 1 << 30
        while len(self.buf) - self.pos < want and not self.d.eof:
            data = self.d.unconsumed_tail or self.raw.read(1 << 16)
            if not data:
                break
            del self.buf[: self.pos]
            self.pos = 0
            self.buf += self.d.decompress(data, 1 << 20)
        out = bytes(self.buf[self.pos : self.pos + want])
        self.pos += len(out)
        return out

    def close(self) -> None:
        pass

    def __enter__(self) -> ZlibReader:
        return self

    def __exit__(self, *exc: object) -> None:
        pass
