"""The format table: every kind of file regtui reads, how its first bytes show it,
and the one inspector that reads it.

A new format is one inspector module (its reader and its signature) and one entry
here. `detect.sniff` tries the entries' signatures in this order; `file_reader`
hands the file to the entry it named. tests/unit/inspect/test_format_table.py holds
the table to that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from regtui.inspect import gguf, impostors, onnx, pickle_files, safetensors, tensorflow, trees
from regtui.inspect import zip_formats as zips
from regtui.inspect.bounds import Damaged
from regtui.inspect.facts import Facts

# read(path, facts, head, size): `head` is the file's first HEAD_BYTES, `size` its size,
# both from the descriptor the kind was decided on.
FileInspector = Callable[[Path, Facts, bytes, int], None]
# signature(head, size): do these first bytes (at least 4) show the format?
Signature = Callable[[bytes, int], bool]


@dataclass(frozen=True)
class Format:
    """One kind of file: how its bytes show it and how it is read."""

    read: FileInspector
    # The kind is the format's own name: set before reading, so damaged bytes keep it.
    names_format: bool = False
    # Several fixed bytes, or a structure checked against the size: decides alone.
    strong: Signature | None = None
    # Two or three bytes that occur by chance: trusted only where the name allows it.
    weak: Signature | None = None
    # Names that say "a model file of this kind" on their own (lower case, with the dot).
    extensions: tuple[str, ...] = ()


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
    raise Damaged(impostors.json_document(head))


# Every kind regtui reads, in the order their signatures are tried (the first that
# matches names the kind: strong ones first, then weak ones where the name allows).
FORMATS: dict[str, Format] = {
    "gguf": Format(_by_path(gguf.inspect_gguf), True, gguf.looks_like_gguf, extensions=(".gguf",)),
    # torch.save, torch.export, Keras, skops, …: which one, zip_formats says
    "zip": Format(_by_path(zips.inspect_zip), strong=zips.looks_like_zip),
    "hdf5": Format(
        _by_path(tensorflow.inspect_hdf5),
        True,
        tensorflow.looks_like_hdf5,
        extensions=(".h5", ".hdf5"),
    ),
    "tflite": Format(
        _by_path(tensorflow.inspect_tflite),
        True,
        tensorflow.looks_like_tflite,
        tensorflow.may_be_tflite,
        extensions=(".tflite",),
    ),
    "catboost": Format(
        _by_path(trees.inspect_catboost), strong=trees.looks_like_catboost, extensions=(".cbm",)
    ),
    # pickle, joblib, legacy torch.save
    "pickle": Format(
        pickle_files.inspect_pickle,
        strong=pickle_files.looks_like_pickle,
        weak=pickle_files.may_be_pickle,
    ),
    # compressed joblib/pickle
    "compressed": Format(
        pickle_files.inspect_compressed,
        strong=pickle_files.looks_like_compressed,
        weak=pickle_files.may_be_compressed,
    ),
    "safetensors": Format(
        safetensors.inspect_safetensors,
        True,
        safetensors.looks_like_safetensors,
        safetensors.may_be_safetensors,
        extensions=(".safetensors",),
    ),
    "xgboost-json": Format(
        _by_path(trees.inspect_xgboost_json), True, trees.looks_like_xgboost_json
    ),
    "xgboost-ubj": Format(
        _by_path(trees.inspect_xgboost_ubj),
        True,
        trees.looks_like_xgboost_ubj,
        extensions=(".ubj",),
    ),
    "lightgbm": Format(_by_path(trees.inspect_lightgbm), True, trees.looks_like_lightgbm),
    "xgboost-binary": Format(_xgboost_binary, weak=trees.may_be_xgboost_binary),
    "onnx": Format(_by_path(onnx.inspect_onnx), True, weak=onnx.may_be_onnx, extensions=(".onnx",)),
    "json": Format(_json, weak=impostors.may_be_json),
}
