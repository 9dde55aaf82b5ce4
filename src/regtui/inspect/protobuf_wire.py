"""A bounded protobuf wire-format reader over a seekable file.

Used for ONNX and SavedModel: fields of interest are decoded, everything else
(notably multi-GB `raw_data` blobs) is skipped with a seek, so memory stays flat
whatever the file size. Lengths are checked against the enclosing message: a
field that stops mid-way or claims more than its message holds is damage.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import IO

from regtui.inspect.bounds import Damaged
from regtui.inspect.limits import Budget

VARINT, I64, LEN, SGROUP, EGROUP, I32 = 0, 1, 2, 3, 4, 5
MAX_DEPTH = 32
# Fields walked and strings read in one file: each costs a few Python calls
# (~3 us), and real models need tens of thousands (a 70B-parameter LLM's graph
# ~50k); a file of millions of empty fields or named tensors stops here.
MAX_FIELDS = 100_000


_FIELD_HEAD = 20  # a key and a value varint, at most 10 bytes each


def _varint(head: bytes, i: int, pos: int, end: int) -> tuple[int, int]:
    """The varint at head[i:] (head holds the file from byte `pos`) and the index
    after it; Damaged if it runs past `end`, the file, or 10 bytes."""
    shift = 0
    result = 0
    for j in range(i, i + 10):
        if pos + j >= end:
            raise Damaged(f"protobuf varint runs past its message at byte {pos + j}")
        if j >= len(head):
            raise Damaged("truncated protobuf: varint at end of file")
        b = head[j]
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, j + 1
        shift += 7
    raise Damaged("malformed protobuf: varint longer than 10 bytes")


class Wire:
    """Reads fields from a file between byte offsets; never reads a skipped payload."""

    def __init__(self, fh: IO[bytes], size: int) -> None:
        self.fh = fh
        self.size = size
        self.reads = 0
        self.budget = Budget(MAX_FIELDS, "protobuf fields walked and strings read")

    def varint(self, end: int) -> int:
        shift = 0
        result = 0
        for _ in range(10):
            if self.fh.tell() >= end:
                raise Damaged(f"protobuf varint runs past its message at byte {self.fh.tell()}")
            b = self.fh.read(1)
            if not b:
                raise Damaged("truncated protobuf: varint at end of file")
            result |= (b[0] & 0x7F) << shift
            if b[0] < 0x80:
                return result
            shift += 7
        raise Damaged("malformed protobuf: varint longer than 10 bytes")

    def fields(self, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
        """(field number, wire type, value, payload offset) per field: the value of a
        varint or fixed field, the payload length of a LEN field.

        For LEN fields the value is the payload length and the file is left at the
        payload start; callers read it or not, the next iteration seeks past it.
        """
        if end > self.size:
            raise Damaged(f"protobuf message claims {end - start} bytes past the end of the file")
        pos = start
        while pos < end:
            self.budget.spend()
            # One read per field, parsed in memory: a key and a value take at
            # most 20 bytes, and file.tell() per byte cost more than the parse.
            self.fh.seek(pos)
            head = self.fh.read(_FIELD_HEAD)
            key, i = _varint(head, 0, pos, end)
            number, wtype = key >> 3, key & 7
            if number == 0:
                raise Damaged(f"malformed protobuf: field number 0 at byte {pos}")
            if wtype == VARINT:
                value, i = _varint(head, i, pos, end)
                pos += i
                yield number, wtype, value, pos
            elif wtype == I64:
                if len(head) < i + 8:
                    raise Damaged("truncated protobuf: fixed64 at end of file")
                pos += i + 8
                yield number, wtype, struct.unpack_from("<q", head, i)[0], pos
            elif wtype == I32:
                if len(head) < i + 4:
                    raise Damaged("truncated protobuf: fixed32 at end of file")
                pos += i + 4
                yield number, wtype, struct.unpack_from("<i", head, i)[0], pos
            elif wtype == LEN:
                length, i = _varint(head, i, pos, end)
                at = pos + i
                self.fh.seek(at)  # callers read the payload from here
                if at + length > end:
                    raise Damaged(
                        f"protobuf field {number} claims {length} bytes at byte {at}, past its "
                        f"message end {end}: truncated or lying length"
                    )
                yield number, wtype, length, at
                pos = at + length
            else:
                raise Damaged(f"unsupported protobuf wire type {wtype} at byte {pos}")
            self.reads += 1

    def read_bytes(self, at: int, length: int, cap: int) -> bytes:
        self.budget.spend()
        self.fh.seek(at)
        return self.fh.read(min(length, cap))

    def string(self, at: int, length: int, cap: int = 4096) -> str:
        text = self.read_bytes(at, length, cap).decode("utf-8", errors="replace")
        return text if length <= cap else f"{text}…[truncated {length - cap} bytes]"

    def packed_varints(self, at: int, length: int, limit: int) -> list[int]:
        out: list[int] = []
        end = at + length
        self.fh.seek(at)
        while self.fh.tell() < end and len(out) < limit:
            out.append(self.varint(end))
        return out
