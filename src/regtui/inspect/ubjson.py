"""A bounded UBJSON reader (XGBoost's .ubj): small values are decoded, large
containers are counted and stepped over, never materialised."""

from __future__ import annotations

import struct
from typing import IO, Any

from regtui.inspect.bounds import BadContent, Damaged, clip
from regtui.inspect.limits import Budget

_NUM = {
    b"i": "<b",
    b"U": "<B",
    b"I": ">h",
    b"l": ">i",
    b"L": ">q",
    b"d": ">f",
    b"D": ">d",
    b"C": "<c",
}
MAX_DEPTH = 32
# Values decoded or stepped over one by one (typed numeric arrays count once): a
# real XGBoost model's trees hold a few per node array, a hostile file millions.
MAX_VALUES = 200_000


class Skipped:
    """A container too big to keep: only its item count."""

    def __init__(self, count: int) -> None:
        self.count = count


class UbjReader:
    def __init__(self, fh: IO[bytes], size: int, keep_items: int = 64) -> None:
        self.fh = fh
        self.size = size
        self.keep = keep_items
        self.budget = Budget(MAX_VALUES, "UBJSON values")

    def _read(self, n: int) -> bytes:
        data = self.fh.read(n)
        if len(data) < n:
            raise Damaged("truncated UBJSON: the data ends mid-value")
        return data

    def _int(self, marker: bytes) -> int:
        if marker not in (b"i", b"U", b"I", b"l", b"L"):
            raise BadContent(f"UBJSON length with non-integer type {marker!r}")
        n: int = struct.unpack(_NUM[marker], self._read(struct.calcsize(_NUM[marker])))[0]
        if n < 0:
            raise BadContent("negative UBJSON length")
        return n

    def _length(self) -> int:
        n = self._int(self._read(1))
        if n > self.size:
            raise Damaged(f"UBJSON length {n} exceeds the file size: truncated or lying")
        return n

    def value(self, marker: bytes | None = None, depth: int = 0, keep: bool = True) -> Any:
        if depth > MAX_DEPTH:
            raise BadContent(f"UBJSON nested deeper than {MAX_DEPTH} levels (limit)")
        self.budget.spend()
        m = marker or self._read(1)
        while m == b"N":  # no-op
            self.budget.spend()
            m = self._read(1)
        if m in _NUM:
            raw = self._read(struct.calcsize(_NUM[m]))
            v = struct.unpack(_NUM[m], raw)[0]
            return v.decode("latin-1") if m == b"C" else v
        if m == b"Z":
            return None
        if m in (b"T", b"F"):
            return m == b"T"
        if m in (b"S", b"H"):
            n = self._length()
            if not keep or n > 4096:
                self.fh.seek(n, 1)
                return f"<{n} chars>" if keep else None
            return clip(self._read(n).decode("utf-8", errors="replace"))
        if m in (b"[", b"{"):
            return self._container(m == b"{", depth, keep)
        raise BadContent(f"unknown UBJSON marker {m!r} at byte {self.fh.tell() - 1}")

    def _container(self, is_obj: bool, depth: int, keep: bool) -> Any:
        item_type: bytes | None = None
        count: int | None = None
        m = self._read(1)
        if m == b"$":
            item_type = self._read(1)
            m = self._read(1)
        if m == b"#":
            count = self._length()
        elif item_type is not None:
            raise BadContent("UBJSON typed container without a count")
        else:
            self.fh.seek(-1, 1)
        if item_type in (b"Z", b"N", b"T", b"F") and count is not None and count > 1_000_000:
            # Items of these types take no bytes, so the file size bounds nothing.
            raise BadContent(f"UBJSON container claims {count} items of an empty type")
        if item_type in _NUM and count is not None and not is_obj:
            width = struct.calcsize(_NUM[item_type])
            if count * width > self.size:
                raise Damaged("UBJSON array larger than the file: truncated or lying")
            if keep and count <= 16:  # e.g. a version triple; node arrays are skipped
                return [self.value(item_type, depth + 1) for _ in range(count)]
            self.fh.seek(count * width, 1)
            return Skipped(count)
        out_list: list[Any] = []
        out_obj: dict[str, Any] = {}
        n = 0
        while count is None or n < count:
            if count is None:
                peek = self._read(1)
                if peek == (b"}" if is_obj else b"]"):
                    break
                self.fh.seek(-1, 1)
            keep_this = keep and n < self.keep
            if is_obj:
                klen = self._length()
                key = self._read(min(klen, 1000)).decode("utf-8", errors="replace")
                if klen > 1000:
                    self.fh.seek(klen - 1000, 1)
                # XGBoost trees are big: keep everything but the per-node arrays
                v = self.value(item_type, depth + 1, keep=keep_this)
                if keep_this:
                    out_obj[key] = v
            else:
                v = self.value(item_type, depth + 1, keep=keep_this)
                if keep_this:
                    out_list.append(v)
            n += 1
        if is_obj:
            return out_obj
        return out_list if n <= self.keep else Skipped(n)
