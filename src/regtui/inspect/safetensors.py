"""safetensors: an 8-byte little-endian header length, a JSON header, raw tensor data.

Only the header is read, after its length has been checked against the file size
and a hard cap, so a header "claiming 100 GB" costs one 8-byte read. The header's
offsets then prove the file complete (the tensors tile the data, which ends exactly
at the file's end) or damaged (a header that lies, data shorter than the offsets
say, or a gap, overlap or trailing bytes, all of which the safetensors library
itself refuses to load).
"""

from __future__ import annotations

import functools
import math
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from regtui.inspect.bounds import MAX_JSON_BYTES, BadContent, Damaged, bounded, clip, open_file
from regtui.inspect.facts import Facts
from regtui.inspect.limits import OverLimit, check_json, decode_json

MAX_HEADER = 100 << 20  # the format's own limit
MAX_DIMS = 64
_DTYPE_BYTES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "F8_E8M0": 1,
    "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
    "I32": 4, "U32": 4, "F32": 4,
    "I64": 8, "U64": 8, "F64": 8,
    "F4": 1, "F6_E2M3": 1, "F6_E3M2": 1,
}  # fmt: skip
_FRAMEWORKS = {"pt": "torch", "tf": "tensorflow", "flax": "flax", "mlx": "mlx", "np": "numpy"}


def read_header(
    path: Path, head: bytes = b"", size: int | None = None
) -> tuple[dict[str, Any], int, int]:
    """(header, header length, file size); BadContent if the header is not sound.

    `head` (the file's first bytes) and `size`, when the caller has them, spare
    opening the file again for a header that fits in them; anything else takes
    the full path below, with its checks and messages."""
    if size is not None and len(head) >= 9:
        (n,) = struct.unpack("<Q", head[:8])
        if 2 <= n <= min(size - 8, MAX_HEADER, len(head) - 8) and head[8:9] == b"{":
            return _parse(head[8 : 8 + n]), n, size
    with open_file(path) as fh:
        size = path.stat().st_size
        raw = fh.read(8)
        if len(raw) < 8:
            raise Damaged(f"truncated safetensors: {size} bytes, no header length")
        (n,) = struct.unpack("<Q", raw)
        if n > size - 8:
            raise Damaged(
                f"safetensors header claims {n} bytes but the file has only {size - 8} after "
                "the length: truncated or lying header, not read"
            )
        if n > MAX_HEADER:
            raise BadContent(
                f"safetensors header of {n} bytes exceeds the {MAX_HEADER >> 20} MiB cap"
            )
        if n > MAX_JSON_BYTES:  # real headers are a few MiB; parsing costs ~25x
            raise OverLimit(
                f"safetensors header of {n} bytes is over the {MAX_JSON_BYTES >> 20} MiB "
                "JSON parse limit: not read"
            )
        if n < 2 or fh.read(1) != b"{":
            raise Damaged("safetensors header does not start with '{': not read further")
        data = b"{" + fh.read(n - 1)
    return _parse(data), n, size


@functools.lru_cache(maxsize=8)
def decoded_header(data: bytes) -> Any:
    """decode_json of a header, kept for the last few: detect's sniff and then the
    inspector ask for the same one. The result is shared: read it, never change it."""
    return decode_json(data)


def _parse(data: bytes) -> dict[str, Any]:
    # Parsed JSON of tiny objects takes ~25x its text: counted before parsing.
    check_json(data, "safetensors header")
    try:
        header = decoded_header(data)
    except (ValueError, RecursionError) as exc:
        raise Damaged(f"safetensors header is not valid JSON: {clip(str(exc), 200)}") from None
    if not isinstance(header, dict):
        raise Damaged("safetensors header is not a JSON object")
    return header


@dataclass
class Summary:
    meta: dict[str, Any]
    warnings: list[str]
    damage: str | None  # the header lies or the data is shorter than it says
    complete: bool  # the data ends exactly at the file's end


def summarise(header: dict[str, Any], n: int, size: int) -> Summary:
    """Tensor count, dtypes, parameters; damage for entries that lie or data that
    runs past the file."""
    warnings: list[str] = []
    damage: str | None = None
    dtypes: dict[str, int] = {}
    params = 0
    tensors = 0
    data_len = size - 8 - n
    max_end = 0
    bad = 0
    spans: list[tuple[int, int]] = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(info, dict):
            bad += 1
            continue
        tensors += 1
        dtype = str(info.get("dtype"))
        dtypes[dtype] = dtypes.get(dtype, 0) + 1
        shape = info.get("shape")
        offsets = info.get("data_offsets")
        if not (
            isinstance(shape, list)
            and len(shape) <= MAX_DIMS
            and all(isinstance(d, int) and 0 <= d < 1 << 63 for d in shape)
        ):  # the product of long or huge shapes is bignum work, and no tensor has them
            bad += 1
            continue
        count = math.prod(shape)
        params += count
        if (
            isinstance(offsets, list)
            and len(offsets) == 2
            and all(isinstance(o, int) for o in offsets)
        ):
            start, end = offsets
            max_end = max(max_end, end)
            spans.append((start, end))
            width = _DTYPE_BYTES.get(dtype)
            if width and end - start != count * width and dtype not in ("F4", "F6_E2M3", "F6_E3M2"):
                bad += 1
        else:
            bad += 1
    if max_end > data_len:
        damage = (
            f"safetensors tensors need {max_end} data bytes but the file holds {data_len}: "
            "truncated or lying header"
        )
    elif max_end < data_len:
        damage = (
            f"safetensors data ends at byte {max_end} but the file holds {data_len} data "
            "bytes: bytes past the data (the safetensors library refuses the file)"
        )
    elif not bad and (gap := _gap(spans)):
        damage = gap
    elif bad:
        damage = (
            f"safetensors header has {bad} malformed tensor entr{'y' if bad == 1 else 'ies'} "
            "(shape, dtype and offsets disagree): lying header"
        )
    meta = header.get("__metadata__")
    facts: dict[str, Any] = {
        "tensors": tensors,
        "parameters": params,
        "dtypes": dict(sorted(dtypes.items())),
        "header_bytes": n,
    }
    if isinstance(meta, dict):
        facts["metadata"] = bounded(meta)
    elif meta is not None:
        warnings.append("safetensors __metadata__ is not an object")
    return Summary(facts, warnings, damage, damage is None)


def _gap(spans: list[tuple[int, int]]) -> str | None:
    """Why the tensors do not tile the data section exactly (a gap or an overlap),
    as the safetensors library checks before it loads anything; None if they do."""
    at = 0
    for start, end in sorted(spans):
        if start != at or end < start:
            return (
                f"safetensors tensor data at bytes {start}..{end} does not follow the previous "
                f"tensor's end {at}: gap or overlap (the safetensors library refuses the file)"
            )
        at = end
    return None


def inspect_safetensors(
    path: Path, facts: Facts, head: bytes = b"", size: int | None = None
) -> None:
    header, n, size = read_header(path, head, size)
    summary = summarise(header, n, size)
    facts.format = "safetensors"
    md = header.get("__metadata__")
    if isinstance(md, dict) and isinstance(md.get("format"), str):
        facts.framework = _FRAMEWORKS.get(md["format"], clip(md["format"], 40))
    facts.metadata.update(summary.meta)
    facts.warnings.extend(summary.warnings)
    if summary.damage:
        raise Damaged(summary.damage)
    facts.complete = summary.complete


# Signatures (formats.FORMATS): `looks_like_*` decides alone; `may_be_*` is trusted
# only where the file's name allows the format (detect.sniff).


def _safetensors_start(head: bytes, limit: int) -> bool:
    """An 8-byte header length in 2..limit, then the start of a JSON object: `{"`
    or `{}`. One `{` byte alone occurs by chance (a nine-byte ONNX file was once
    taken for safetensors)."""
    if len(head) < 10:
        return False
    (n,) = struct.unpack("<Q", head[:8])
    if not 2 <= n <= limit or head[8:9] != b"{":
        return False
    return head[9:].lstrip(b" \t\r\n")[:1] in (b'"', b"}")


_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def looks_like_safetensors(head: bytes, size: int) -> bool:
    """The safetensors start with a header length that fits the file, and the
    header's bytes in the head are JSON text (no control bytes: binary formats
    such as ONNX show some within a few bytes); a header that fits the head must
    also parse as a JSON object."""
    if not _safetensors_start(head, min(size - 8, MAX_HEADER)):
        return False
    (n,) = struct.unpack("<Q", head[:8])
    if _CONTROL.search(head, 8, 8 + n):
        return False
    if 8 + n > len(head):
        return True
    try:
        return isinstance(decoded_header(head[8 : 8 + n]), dict)
    except (ValueError, RecursionError):
        return False


def may_be_safetensors(head: bytes, size: int) -> bool:
    """The safetensors start without the size check: under a safetensors name, a
    header that claims more than the file holds is the reader's to call damage."""
    return _safetensors_start(head, MAX_HEADER)
