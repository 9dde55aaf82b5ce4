"""Builders of crafted files that are cheap to write and were expensive to inspect.

One builder per format (issue 12, item 6): each writes a file (or a folder) whose
cost to a naive parser grows with `scale`, the number of repeated units. The bench
row builds them near 100 MB and measures each inspection in its own process; the
unit tests build them at small scales against lowered limits and count the work.
"""

from __future__ import annotations

import json
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

Builder = Callable[[Path, int], Path]


def _empty_lists(n: int) -> bytes:
    """A JSON array of n empty arrays: ~3 bytes of text per object built."""
    return b"[" + b"[]," * max(n - 1, 0) + b"[]]"


def keras_config(folder: Path, n: int) -> Path:
    """A small .keras whose config.json inflates to n empty lists."""
    path = folder / "model.keras"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("metadata.json", json.dumps({"keras_version": "3.0.0"}))
        zf.writestr("config.json", b'{"class_name":"Sequential","config":' + _empty_lists(n) + b"}")
        zf.writestr("model.weights.h5", b"")
    return path


def pt2_configs(folder: Path, n: int) -> Path:
    """A torch.export archive of n weight configs, each inflating to 1 MB of JSON."""
    path = folder / "model.pt2"
    config = b'{"config": {"w": {"path_name": "' + b"w" * (1 << 20) + b'"}}}'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("m/archive_format", "pt2")
        for i in range(n):
            zf.writestr(f"m/data/weights/model_{i}_config.json", config)
    return path


def safetensors_lists(folder: Path, n: int) -> Path:
    path = folder / "model.safetensors"
    header = b'{"__metadata__":{"x":' + _empty_lists(n) + b"}}"
    path.write_bytes(struct.pack("<Q", len(header)) + header)
    return path


def xgboost_json_lists(folder: Path, n: int) -> Path:
    path = folder / "model.json"
    body = b'{"learner":{"feature_names":' + _empty_lists(n) + b',"objective":{"name":"x"}}}'
    path.write_bytes(body)
    return path


def xgboost_ubj_nulls(folder: Path, n: int) -> Path:
    """An untyped UBJSON array of n nulls: one byte each, one parser step each."""
    path = folder / "model.ubj"
    key = b"learner"
    path.write_bytes(b"{U" + bytes([len(key)]) + key + b"[" + b"Z" * n + b"]}")
    return path


def zip_entries(folder: Path, n: int) -> Path:
    """A .pt zip of n empty stored entries, written record by record (zipfile
    itself takes seconds to write a million)."""
    path = folder / "model.pt"
    local = bytearray()
    directory = bytearray()
    for i in range(n):
        name = b"a/%x" % i
        offset = len(local)
        local += struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0)
        local += name
        directory += struct.pack(
            "<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0, 0, 0, 0, 0,
            offset,
        )  # fmt: skip
        directory += name
    count = min(n, 0xFFFF)
    end = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, count, count, len(directory), len(local), 0)
    path.write_bytes(bytes(local) + bytes(directory) + end)
    return path


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def onnx_empty_nodes(folder: Path, n: int) -> Path:
    """An ONNX ModelProto whose graph holds n empty NodeProtos (two bytes each)."""
    path = folder / "model.onnx"
    graph = b"\x0a\x00" * n
    opset = b"\x42\x02\x10\x11"  # opset_import { version: 17 }
    path.write_bytes(b"\x08\x07" + b"\x3a" + _varint(len(graph)) + graph + opset)
    return path


def onnx_long_names(folder: Path, n: int) -> Path:
    """An ONNX graph of n initializers, each only a 1,000-character name: names
    an inspector keeps would cost ~1 KB each."""
    path = folder / "model.onnx"
    graph = bytearray()
    for i in range(n):
        name = b"%09d" % i + b"w" * 991
        tensor = b"\x42" + _varint(len(name)) + name
        graph += b"\x2a" + _varint(len(tensor)) + tensor
    opset = b"\x42\x02\x10\x11"
    path.write_bytes(b"\x08\x07" + b"\x3a" + _varint(len(graph)) + bytes(graph) + opset)
    return path


def savedmodel_fields(folder: Path, n: int) -> Path:
    """A SavedModel folder whose saved_model.pb is n two-byte varint fields."""
    sm = folder / "export"
    (sm / "variables").mkdir(parents=True)
    (sm / "saved_model.pb").write_bytes(b"\x08\x01" * n)
    return sm


def _gguf_header(n_tensors: int, n_kv: int) -> bytes:
    return b"GGUF" + struct.pack("<IQQ", 3, n_tensors, n_kv)


def gguf_nested_arrays(folder: Path, n: int) -> Path:
    """One key whose value is an array of n empty arrays (12 bytes each)."""
    path = folder / "model.gguf"
    key = b"general.x"
    kv = struct.pack("<Q", len(key)) + key + struct.pack("<IIQ", 9, 9, n)
    kv += struct.pack("<IQ", 0, 0) * n  # each: item type uint8, zero items
    path.write_bytes(_gguf_header(0, 1) + kv)
    return path


def gguf_sparse_tensors(folder: Path, n: int) -> Path:
    """n tensor infos read from a hole: zeros are a valid empty name, no dims,
    type F32, offset 0; the file is sparse, so it costs nothing on disk."""
    path = folder / "model.gguf"
    with path.open("wb") as fh:
        fh.write(_gguf_header(n, 0))
        fh.truncate(max(24 + 24 * n + 4096, 1 << 30))
    return path


def yaml_sidecar(folder: Path, n: int) -> Path:
    """A model with a params.yaml of n one-item flow sequences."""
    (folder / "model.safetensors").write_bytes(struct.pack("<Q", 2) + b"{}")
    (folder / "params.yaml").write_text("a: [" + "[1]," * n + "1]\n")
    return folder / "model.safetensors"


def mlmodel(folder: Path, n: int) -> Path:
    """An MLflow model folder whose MLmodel is a block sequence of n items."""
    (folder / "MLmodel").write_text("flavors:\n  x:\n" + "    - 1\n" * n)
    (folder / "model.pkl").write_bytes(b"\x80\x04N.")
    return folder


BUILDERS: dict[str, Builder] = {
    "keras config of empty lists": keras_config,
    "safetensors header of nested lists": safetensors_lists,
    "XGBoost JSON of empty lists": xgboost_json_lists,
    "XGBoost UBJ of nulls": xgboost_ubj_nulls,
    "zip of empty entries": zip_entries,
    "pt2 of many weight configs": pt2_configs,
    "ONNX of empty nodes": onnx_empty_nodes,
    "ONNX of long initializer names": onnx_long_names,
    "saved_model.pb of tiny fields": savedmodel_fields,
    "GGUF of nested arrays": gguf_nested_arrays,
    "sparse GGUF of tensor infos": gguf_sparse_tensors,
    "YAML sidecar of sequences": yaml_sidecar,
    "MLmodel of many items": mlmodel,
}
# The scale that brings each near the sizes measured in the issue (up to 100 MB;
# keras: a ~16 KB archive whose config inflates to 15 MB; the GGUF is a sparse 1 GB).
FULL_SCALE: dict[str, int] = {
    "keras config of empty lists": 5_000_000,
    "safetensors header of nested lists": 30_000_000,
    "XGBoost JSON of empty lists": 30_000_000,
    "XGBoost UBJ of nulls": 90_000_000,
    "zip of empty entries": 1_000_000,
    "pt2 of many weight configs": 1_000,
    "ONNX of empty nodes": 45_000_000,
    "ONNX of long initializer names": 95_000,
    "saved_model.pb of tiny fields": 45_000_000,
    "GGUF of nested arrays": 8_000_000,
    "sparse GGUF of tensor infos": 1_000_000,
    "YAML sidecar of sequences": 250_000,
    "MLmodel of many items": 125_000,
}


def measure_all(work: Path, python: Path, probe: Path, divide: int = 1) -> dict[str, object]:
    """Each builder at FULL_SCALE // divide, inspected by `probe` in a fresh process."""
    import shutil

    from bench.common import run_json

    files: dict[str, object] = {}
    for i, (name, build) in enumerate(BUILDERS.items()):
        folder = work / "hostile" / str(i)
        folder.mkdir(parents=True)
        target = build(folder, max(FULL_SCALE[name] // divide, 1))
        on_disk = sum(p.stat().st_blocks * 512 for p in folder.rglob("*") if p.is_file())
        files[name] = {
            "bytes": on_disk,
            **run_json([str(python), str(probe), str(target)], timeout=600),
        }
        shutil.rmtree(folder)
    return files
