"""Read one file with the inspector its first bytes name (formats.FORMATS)."""

from __future__ import annotations

import os
from pathlib import Path

from regtui.inspect.bounds import Damaged, NotRegular, Refused, open_file
from regtui.inspect.detect import HEAD_BYTES, extension_mismatch, sniff
from regtui.inspect.facts import Facts
from regtui.inspect.formats import FORMATS
from regtui.inspect.impostors import error_page, lfs_pointer
from regtui.inspect.pickle_files import PICKLE_EXTS

# Names whose reader says best what is wrong when their magic is damaged.
_NAMED_BY_EXTENSION = {".onnx": "onnx", ".safetensors": "safetensors", ".gguf": "gguf"}


def inspect_file(path: Path, facts: Facts) -> None:
    """Read one file with the inspector its content names. Raises Refused,
    Damaged, BadContent or OSError for the caller to record."""
    # Size and head from one descriptor (opened without blocking: a FIFO would
    # wait for a writer forever), the one the readlog checks against the hash.
    try:
        with open_file(path) as fh:
            size = os.fstat(fh.fileno()).st_size
            head = fh.read(HEAD_BYTES) if size else b""
    except NotRegular as exc:
        raise Refused(f"is {exc.kind}, not a regular file") from None
    if size == 0:
        raise Refused("empty file (0 bytes)")
    pointer = lfs_pointer(head)
    page = error_page(head)
    if pointer:
        facts.format = "git-lfs-pointer"
        raise Damaged(pointer)
    if page:
        facts.format, reason = page
        raise Damaged(reason)
    ext = path.suffix.lower()
    kind = sniff(head, size, ext)
    if kind is None:
        kind = _NAMED_BY_EXTENSION.get(ext)  # damaged magic: let the format's reader say
    if kind is None and ext in PICKLE_EXTS and head[:1] in (b"(", b"c", b"]", b"}", b"I", b"N"):
        kind = "pickle"  # protocol 0/1 pickles have no PROTO opcode
    if kind is None and ext == ".pb":
        facts.format = "tensorflow-graph"
        facts.framework = "tensorflow"
        facts.warnings.append("a .pb file outside a SavedModel folder: recognised by name only")
        return
    if kind is None or kind not in FORMATS:
        # Registered by name, yet no model format we know: it must not ship as one.
        facts.format = "unknown"
        raise Damaged(
            f"content not recognised as a model format ({size} bytes, starts {head[:8].hex()})"
        )
    fmt = FORMATS[kind]
    if fmt.names_format:
        facts.format = kind  # known from the magic, even if the rest turns out damaged
    fmt.read(path, facts, head, size)
    if facts.format != "unknown":
        mismatch = extension_mismatch(path, facts.format)
        if mismatch:
            facts.warnings.insert(0, mismatch)
