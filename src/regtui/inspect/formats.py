"""Which inspector reads a file: the format table, and the way from a file's first
bytes to its entry.

`detect.sniff` names a kind from the first bytes; `INSPECTORS` maps every kind it
can name to the one inspector that reads it. A new format is one inspector module
and one entry here; tests/unit/inspect/test_format_table.py holds the table and the
detector equal.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from regtui.inspect.bounds import Damaged, NotRegular, Refused, open_file
from regtui.inspect.detect import HEAD_BYTES, extension_mismatch, sniff
from regtui.inspect.facts import Facts
from regtui.inspect.gguf import inspect_gguf
from regtui.inspect.impostors import error_page, json_document, lfs_pointer
from regtui.inspect.onnx import inspect_onnx
from regtui.inspect.pickle_files import PICKLE_EXTS, inspect_compressed, inspect_pickle
from regtui.inspect.safetensors import inspect_safetensors
from regtui.inspect.tensorflow import inspect_hdf5, inspect_tflite
from regtui.inspect.trees import (
    inspect_catboost,
    inspect_lightgbm,
    inspect_xgboost_json,
    inspect_xgboost_ubj,
)
from regtui.inspect.zip_formats import inspect_zip

# read(path, facts, head, size): `head` is the file's first HEAD_BYTES, `size` its size,
# both from the descriptor the kind was decided on.
FileInspector = Callable[[Path, Facts, bytes, int], None]


@dataclass(frozen=True)
class Inspector:
    """How one detected kind is read."""

    read: FileInspector
    # The kind is the format's own name: set before reading, so damaged bytes keep it.
    names_format: bool = False


def _by_path(read: Callable[[Path, Facts], None]) -> FileInspector:
    """An inspector that opens the file itself and needs only its path."""

    def by_path(path: Path, facts: Facts, head: bytes, size: int) -> None:
        read(path, facts)

    return by_path


def _xgboost_binary(path: Path, facts: Facts, head: bytes, size: int) -> None:
    facts.format = "xgboost-binary"
    facts.framework = "xgboost"
    facts.warnings.append("legacy XGBoost binary format: recognised, not parsed")


def _json(path: Path, facts: Facts, head: bytes, size: int) -> None:
    """A JSON document is never a model: it only explains why these bytes are none."""
    facts.format = "json"
    raise Damaged(json_document(head))


# Every kind detect.sniff can name, and the inspector that reads it.
INSPECTORS: dict[str, Inspector] = {
    "safetensors": Inspector(inspect_safetensors, names_format=True),
    "gguf": Inspector(_by_path(inspect_gguf), names_format=True),
    "onnx": Inspector(_by_path(inspect_onnx), names_format=True),
    "zip": Inspector(_by_path(inspect_zip)),  # torch.save, torch.export, Keras, skops, …
    "pickle": Inspector(inspect_pickle),  # pickle, joblib, legacy torch.save
    "compressed": Inspector(inspect_compressed),  # compressed joblib/pickle
    "hdf5": Inspector(_by_path(inspect_hdf5), names_format=True),
    "tflite": Inspector(_by_path(inspect_tflite), names_format=True),
    "catboost": Inspector(_by_path(inspect_catboost)),
    "xgboost-json": Inspector(_by_path(inspect_xgboost_json), names_format=True),
    "xgboost-ubj": Inspector(_by_path(inspect_xgboost_ubj), names_format=True),
    "xgboost-binary": Inspector(_xgboost_binary),
    "lightgbm": Inspector(_by_path(inspect_lightgbm), names_format=True),
    "json": Inspector(_json),
}
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
    if kind is None or kind not in INSPECTORS:
        # Registered by name, yet no model format we know: it must not ship as one.
        facts.format = "unknown"
        raise Damaged(
            f"content not recognised as a model format ({size} bytes, starts {head[:8].hex()})"
        )
    inspector = INSPECTORS[kind]
    if inspector.names_format:
        facts.format = kind  # known from the magic, even if the rest turns out damaged
    inspector.read(path, facts, head, size)
    if facts.format != "unknown":
        mismatch = extension_mismatch(path, facts.format)
        if mismatch:
            facts.warnings.insert(0, mismatch)
