"""GGUF (llama.cpp) files: header, key/value metadata and tensor infos, all bounded.

Strings are cut, arrays keep their length and first few items, and any count that
could not fit in the rest of the file is refused before anything is allocated.
The tensor infos give each tensor's offset and byte size: data running past the
end of the file is damage, and a last tensor ending at the file's end (give or
take the alignment padding) proves the file complete.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path
from typing import IO, Any

from regtui.inspect.bounds import BadContent, Damaged, clip, open_file
from regtui.inspect.facts import Facts
from regtui.inspect.limits import Budget

MAX_KV = 100_000
MAX_TENSORS = 1_000_000
MAX_KEY = 4096
KEEP_STRING = 1_000
KEEP_ITEMS = 8
MAX_DIMS = 8
_SCALARS = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_GGML_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1",
    10: "Q2_K", 11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 16: "IQ2_XXS",
    17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S",
    23: "IQ4_XS", 24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64", 29: "IQ1_M",
    30: "BF16", 34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4",
}  # fmt: skip
_FILE_TYPES = {
    0: "ALL_F32", 1: "MOSTLY_F16", 2: "MOSTLY_Q4_0", 3: "MOSTLY_Q4_1", 7: "MOSTLY_Q8_0",
    8: "MOSTLY_Q5_0", 9: "MOSTLY_Q5_1", 10: "MOSTLY_Q2_K", 11: "MOSTLY_Q3_K_S",
    12: "MOSTLY_Q3_K_M", 13: "MOSTLY_Q3_K_L", 14: "MOSTLY_Q4_K_S", 15: "MOSTLY_Q4_K_M",
    16: "MOSTLY_Q5_K_S", 17: "MOSTLY_Q5_K_M", 18: "MOSTLY_Q6_K", 19: "MOSTLY_IQ2_XXS",
    20: "MOSTLY_IQ2_XS", 21: "MOSTLY_Q2_K_S", 22: "MOSTLY_IQ3_XS", 23: "MOSTLY_IQ3_XXS",
    24: "MOSTLY_IQ1_S", 25: "MOSTLY_IQ4_NL", 26: "MOSTLY_IQ3_S", 27: "MOSTLY_IQ3_M",
    28: "MOSTLY_IQ2_S", 29: "MOSTLY_IQ2_M", 30: "MOSTLY_IQ4_XS", 31: "MOSTLY_IQ1_M",
    32: "MOSTLY_BF16", 36: "MOSTLY_TQ1_0", 37: "MOSTLY_TQ2_0", 38: "MOSTLY_MXFP4_MOE",
}  # fmt: skip


# (elements per block, bytes per block) of each ggml type, from ggml's type traits.
# A type not listed here cannot be sized: such a file is not proven either way.
_GGML_BLOCKS = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
    9: (32, 36), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176),
    14: (256, 210), 15: (256, 292), 16: (256, 66), 17: (256, 74), 18: (256, 98),
    19: (256, 50), 20: (32, 18), 21: (256, 110), 22: (256, 82), 23: (256, 136),
    24: (1, 1), 25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8), 29: (256, 56), 30: (1, 2),
    34: (256, 54), 35: (256, 66), 39: (32, 17),
}  # fmt: skip
DEFAULT_ALIGNMENT = 32


def _align(n: int, alignment: int) -> int:
    return -(-n // alignment) * alignment


def _tensor_bytes(dims: list[int], ttype: int) -> int | None:
    block = _GGML_BLOCKS.get(ttype)
    if block is None:
        return None
    elements, width = block
    return -(-math.prod(dims) // elements) * width


# The largest real vocabularies (token and merge lists) hold a few hundred thousand.
MAX_STRING_ITEMS = 4_000_000
# Work units spent stepping over items one by one: a value 1, an array 5, a
# tensor info 8 (as many reads), a vocabulary string 1/16 (read in blocks). The count checks
# above bound items by the file size only, and a sparse file is large for free;
# real models spend well under 100k (a 256k vocabulary and a few thousand tensors).
MAX_ITEMS = 150_000
_TENSOR_INFO_COST = 8
_ARRAY_COST = 5  # its item type, its count, and the stepping over
_STRINGS_PER_UNIT = 16


class _Reader:
    def __init__(self, fh: IO[bytes], size: int, wide: bool) -> None:
        self.fh = fh
        self.size = size
        self.wide = wide  # v2+: 64-bit counts and lengths
        self.budget = Budget(MAX_ITEMS, "GGUF values and tensor infos stepped over")

    def left(self) -> int:
        return self.size - self.fh.tell()

    def take(self, fmt: str) -> Any:
        n = struct.calcsize(fmt)
        raw = self.fh.read(n)
        if len(raw) < n:
            raise Damaged(f"truncated GGUF at byte {self.fh.tell()}")
        return struct.unpack(fmt, raw)[0]

    def count(self, what: str, min_item: int) -> int:
        n: int = self.take("<Q" if self.wide else "<I")
        if n * min_item > self.left():
            raise Damaged(
                f"GGUF {what} claims {n} items but only {self.left()} bytes remain: truncated "
                "or lying header"
            )
        return n

    def string(self, keep: int = KEEP_STRING) -> str:
        n = self.count("string length", 1)
        raw = self.fh.read(min(n, keep * 4))
        self.budget.spend(len(raw) >> 12)  # a long key costs its reading
        if n > len(raw):
            self.fh.seek(n - len(raw), 1)
        return clip(raw.decode("utf-8", errors="replace"), keep)

    def skip_strings(self, n: int) -> None:
        """Step over n length-prefixed strings, reading their lengths in blocks
        (a tokenizer vocabulary holds a few hundred thousand of them)."""
        fmt, width = ("<Q", 8) if self.wide else ("<I", 4)
        self.budget.spend(n // _STRINGS_PER_UNIT)
        pos = self.fh.tell()
        buf, base = b"", pos  # buf holds the file's bytes from offset `base`
        for _ in range(n):
            off = pos - base
            if off + width > len(buf):
                self.fh.seek(pos)
                buf, base, off = self.fh.read(1 << 20), pos, 0
                if len(buf) < width:
                    raise Damaged(f"truncated GGUF at byte {pos}")
            (length,) = struct.unpack_from(fmt, buf, off)
            pos += width + length
            if pos > self.size:
                raise Damaged(
                    "GGUF string runs past the end of the file: truncated or lying header"
                )
        self.fh.seek(pos)

    def value(self, vtype: int, depth: int = 0) -> Any:
        self.budget.spend()
        if vtype in _SCALARS:
            return self.take(_SCALARS[vtype])
        if vtype == 8:
            return self.string()
        if vtype == 9:
            if depth > 2:
                raise BadContent("GGUF arrays nested too deeply")
            self.budget.spend(_ARRAY_COST - 1)
            item_type = self.take("<I")
            # smallest encoding of one item: a scalar's width, else a length prefix
            width = struct.calcsize(_SCALARS[item_type]) if item_type in _SCALARS else 0
            n = self.count("array", width or (8 if self.wide else 4))
            items = []
            if item_type in _SCALARS:
                for _ in range(min(n, KEEP_ITEMS)):
                    items.append(self.value(item_type, depth + 1))
                self.fh.seek((n - min(n, KEEP_ITEMS)) * width, 1)
            elif item_type == 8:
                if n > MAX_STRING_ITEMS:
                    raise BadContent(
                        f"GGUF array claims {n} strings, more than any vocabulary: lying header"
                    )
                for _ in range(min(n, KEEP_ITEMS)):
                    items.append(clip(self.string(), 100))
                self.skip_strings(n - min(n, KEEP_ITEMS))
            else:
                for i in range(n):  # nested arrays: each must be stepped over
                    v = self.value(item_type, depth + 1)
                    if i < KEEP_ITEMS:
                        items.append(v)
            return {"array_length": n, "first": items}
        raise BadContent(f"GGUF value of unknown type {vtype}")


def inspect_gguf(path: Path, facts: Facts) -> None:
    size = path.stat().st_size
    with open_file(path, 1 << 16) as fh:
        if fh.read(4) != b"GGUF":
            raise Damaged("not a GGUF file: no GGUF signature")
        r = _Reader(fh, size, wide=True)
        version = r.take("<I")
        if version not in (1, 2, 3):
            raise BadContent(f"unsupported GGUF version {version}")
        r.wide = version >= 2
        n_tensors = r.count("tensor count", 24)
        n_kv = r.count("metadata count", 12)
        if n_tensors > MAX_TENSORS or n_kv > MAX_KV:
            raise BadContent(f"GGUF claims {n_tensors} tensors and {n_kv} keys: over the limits")
        kv: dict[str, Any] = {}
        for _ in range(n_kv):
            key = r.string(MAX_KEY)
            vtype = r.take("<I")
            value = r.value(vtype)
            if len(kv) < 500:
                kv[key] = value
        params = 0
        types: dict[str, int] = {}
        data_end = 0  # end of the furthest tensor data we can size
        sized = True  # every tensor's type has a known size
        for _ in range(n_tensors):
            r.budget.spend(_TENSOR_INFO_COST)
            r.string(200)
            n_dims = r.take("<I")
            if n_dims > MAX_DIMS:
                raise BadContent(f"GGUF tensor with {n_dims} dimensions")
            dims = [r.take("<Q" if r.wide else "<I") for _ in range(n_dims)]
            ttype = r.take("<I")
            offset = r.take("<Q")
            params += math.prod(dims)
            name = _GGML_TYPES.get(ttype, str(ttype))
            types[name] = types.get(name, 0) + 1
            nbytes = _tensor_bytes(dims, ttype)
            if nbytes is None:
                sized = False
            else:
                data_end = max(data_end, offset + nbytes)
        infos_end = fh.tell()
    facts.format = "gguf"
    facts.framework = "llama.cpp"
    arch = kv.get("general.architecture")
    meta: dict[str, Any] = {
        "gguf_version": version,
        "tensors": n_tensors,
        "parameters": params,
        "tensor_types": dict(sorted(types.items())),
        "architecture": arch,
        "name": kv.get("general.name"),
    }
    if isinstance(arch, str) and f"{arch}.context_length" in kv:
        meta["context_length"] = kv[f"{arch}.context_length"]
    ftype = kv.get("general.file_type")
    if isinstance(ftype, int):
        meta["file_type"] = _FILE_TYPES.get(ftype, str(ftype))
    meta["kv"] = kv
    facts.metadata.update(meta)
    _check_extent(facts, kv, infos_end, data_end if n_tensors else None, sized, size)


def _check_extent(
    facts: Facts,
    kv: dict[str, Any],
    infos_end: int,
    data_end: int | None,
    sized: bool,
    size: int,
) -> None:
    """Damage if a tensor's data runs past the file; complete if the last one ends
    at the file's end (the writer pads it to the alignment, or not). `data_end` is
    None without tensors; `sized` False if some tensor's type has no known size."""
    alignment = kv.get("general.alignment", DEFAULT_ALIGNMENT)
    if not isinstance(alignment, int) or isinstance(alignment, bool) or alignment <= 0:
        return  # cannot place the data section: neither proven nor damned
    if data_end is None:
        return
    start = _align(infos_end, alignment)
    if start + data_end > size:
        raise Damaged(
            f"GGUF tensor data runs to byte {start + data_end} but the file has {size}: "
            "truncated or lying header"
        )
    facts.complete = sized and size <= start + _align(data_end, alignment)


# Signatures (formats.FORMATS): `looks_like_*` decides alone; `may_be_*` is trusted
# only where the file's name allows the format (detect.sniff).


def looks_like_gguf(head: bytes, size: int) -> bool:
    return head.startswith(b"GGUF")
