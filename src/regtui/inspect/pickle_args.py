"""A pickle opcode's argument, read from a bounded stream and decoded exactly as the
unpickler decodes it: a huge or lying length is skipped, never read, and a value the
scanner cannot know becomes an `Opaque` marker, never a str."""

from __future__ import annotations

import codecs
import struct
from dataclasses import dataclass
from typing import IO, Any

MAX_INLINE = 1 << 16  # a str/bytes argument longer than this is skipped, not read
MAX_LINE = 1 << 16


@dataclass(frozen=True)
class Blob:
    size: int


class Opaque:
    """A value the scanner cannot know (a call's result, a skipped string): never a str."""

    def __init__(self, why: str) -> None:
        self.why = why


LONG_TEXT = Opaque("over-long text")
# A byte string a loader decodes with its own encoding (ASCII, latin-1, utf-8 or
# bytes): the same str only when it is ASCII, so anything else is not known.
LOADER_DECODED = Opaque("non-ASCII byte string")


class Stream:
    """Bounded reads over a file object; `skip` seeks when it can, else discards."""

    def __init__(self, fh: IO[bytes], seekable: bool = True) -> None:
        self.fh = fh
        self.seekable = seekable
        self.pos = 0

    def read(self, n: int) -> bytes:
        data = self.fh.read(n)
        self.pos += len(data)
        if len(data) < n:
            raise EOFError(f"unexpected end of data at byte {self.pos}")
        return data

    def skip(self, n: int) -> None:
        if self.seekable:
            here = self.fh.tell()
            end = self.fh.seek(0, 2)
            if here + n > end:
                raise EOFError(f"a {n}-byte argument at byte {self.pos} runs past the end")
            self.fh.seek(here + n)
            self.pos += n
            return
        left = n
        while left:
            chunk = self.fh.read(min(left, 1 << 20))
            if not chunk:
                raise EOFError(f"a {n}-byte argument at byte {self.pos} runs past the end")
            left -= len(chunk)
            self.pos += len(chunk)

    def readline(self) -> bytes | None:
        """One line without its newline; None for a line longer than MAX_LINE (read
        past, not kept: pickle reads lines of any length)."""
        line = self.fh.readline(MAX_LINE)
        self.pos += len(line)
        if line.endswith(b"\n"):
            return line[:-1]
        if len(line) < MAX_LINE:  # the C unpickler refuses a line without its newline
            raise EOFError(f"unterminated text argument at byte {self.pos}")
        while True:
            more = self.fh.readline(1 << 20)
            self.pos += len(more)
            if more.endswith(b"\n"):
                return None
            if not more:
                raise EOFError(f"unterminated text argument at byte {self.pos}")


class Prefixed(Stream):
    """A non-seekable stream with one byte already taken off it."""

    def __init__(self, fh: IO[bytes], first: bytes, pos: int) -> None:
        super().__init__(fh, seekable=False)
        self._first = first
        self.pos = pos

    def read(self, n: int) -> bytes:
        if self._first and n > 0:
            head, self._first = self._first, b""
            self.pos += 1
            return head + (super().read(n - 1) if n > 1 else b"")
        return super().read(n)


def _u(fmt: str, data: bytes) -> int:
    value: int = struct.unpack(fmt, data)[0]
    return value


_SIZED = {
    "string1": (1, False), "bytes1": (1, False), "unicodestring1": (1, False),
    "string4": (4, True), "bytes4": (4, False), "unicodestring4": (4, False),
    "bytes8": (8, False), "bytearray8": (8, False), "unicodestring8": (8, False),
    "long1": (1, False), "long4": (4, True),
}  # fmt: skip


def _loader_str(raw: bytes) -> Any:
    """A byte string (STRING, BINSTRING) as the loader's `encoding` turns it into a str."""
    return raw.decode("ascii") if raw.isascii() else LOADER_DECODED


def _quoted(line: bytes) -> bytes:
    """STRING's argument: quoted alike at both ends, as the C unpickler demands."""
    if len(line) >= 2 and line[:1] == line[-1:] and line[:1] in (b"'", b'"'):
        return line[1:-1]
    raise ValueError("the STRING opcode argument must be quoted")


def read_arg(stream: Stream, kind: str) -> Any:
    """The argument of pickletools type `kind`, decoded exactly as the unpickler
    decodes it (a decoding it would refuse raises); long payloads skipped."""
    if kind == "uint1":
        return stream.read(1)[0]
    if kind == "uint2":
        return _u("<H", stream.read(2))
    if kind == "int4":
        return _u("<i", stream.read(4))
    if kind == "uint4":
        return _u("<I", stream.read(4))
    if kind == "uint8":
        return _u("<Q", stream.read(8))
    if kind == "float8":
        return _u(">d", stream.read(8))
    if kind in _SIZED:
        width, signed = _SIZED[kind]
        n = int.from_bytes(stream.read(width), "little", signed=signed)
        if n < 0:
            raise ValueError(f"negative length {n} at byte {stream.pos}")
        if n > MAX_INLINE:
            stream.skip(n)
            return Blob(n)
        data = stream.read(n)
        if kind.startswith("unicode"):
            return data.decode("utf-8", "surrogatepass")
        if kind.startswith("string"):
            return _loader_str(data)
        if kind.startswith("long"):
            return int.from_bytes(data, "little", signed=True)
        return Blob(n)
    if kind == "stringnl_noescape_pair":
        return stream.readline(), stream.readline()
    line = stream.readline()
    if line is None:
        return LONG_TEXT
    if kind == "stringnl":
        return _loader_str(codecs.escape_decode(_quoted(line))[0])
    if kind == "unicodestringnl":
        return codecs.decode(line, "raw-unicode-escape")
    if kind == "stringnl_noescape":  # PERSID's id
        return line.decode("ascii")
    text = line.decode("ascii")
    if kind == "decimalnl_short":
        if text in ("00", "01"):
            return text == "01"
        return int(text, 0)
    if kind == "decimalnl_long":
        return int(text[:-1] if text.endswith("L") else text, 0)
    if kind == "floatnl":
        return float(text)
    raise ValueError(f"unknown argument kind {kind}")
