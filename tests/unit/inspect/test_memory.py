"""Large artifacts cost little memory: 300 MB sparse files of each big format are
inspected with a tracemalloc peak of a few MB, because payloads are skipped, not read."""

from __future__ import annotations

import pickle
import struct
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from regtui.inspect import inspect_path
from tests.unit.inspect.helpers import gguf_string, pb_field, varint

BIG = 300 << 20
PEAK_LIMIT = 8 << 20


def _sparse(path: Path, head: bytes, size: int, tail: bytes = b"") -> None:
    with path.open("wb") as fh:
        fh.write(head)
        fh.truncate(size - len(tail))  # a hole, not written bytes
        fh.seek(size - len(tail))
        fh.write(tail)


def _safetensors(path: Path) -> None:
    n = BIG // 4
    hdr = f'{{"w":{{"dtype":"F32","shape":[{n}],"data_offsets":[0,{n * 4}]}}}}'.encode()
    _sparse(path, struct.pack("<Q", len(hdr)) + hdr, 8 + len(hdr) + n * 4)


def _onnx(path: Path) -> None:
    n = BIG // 4
    # TensorProto with dims, data_type and a 300 MB raw_data field (field 9)
    tensor_head = (
        pb_field(1, n) + pb_field(2, 1) + pb_field(8, b"w") + varint(9 << 3 | 2) + varint(n * 4)
    )
    tensor_len = len(tensor_head) + n * 4
    graph_head = varint(5 << 3 | 2) + varint(tensor_len)
    graph_len = len(graph_head) + tensor_len
    head = pb_field(1, 8) + varint(7 << 3 | 2) + varint(graph_len) + graph_head + tensor_head
    opsets = pb_field(8, pb_field(2, 17))
    _sparse(path, head, len(head) + n * 4 + len(opsets), opsets)


def _gguf(path: Path) -> None:
    kv = gguf_string("general.architecture") + struct.pack("<I", 8) + gguf_string("llama")
    tensor = (
        gguf_string("w")
        + struct.pack("<I", 1)
        + struct.pack("<Q", BIG // 4)
        + struct.pack("<IQ", 0, 0)
    )
    _sparse(path, b"GGUF" + struct.pack("<IQQ", 3, 1, 1) + kv + tensor, BIG)


def _torch_zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps({"epoch": 1}, protocol=2))
        with zf.open("archive/data/0", "w", force_zip64=True) as fh:
            chunk = bytes(1 << 20)
            for _ in range(BIG >> 20):
                fh.write(chunk)


def _pickle(path: Path) -> None:
    # protocol 5 keeps big bytes in-band: one 300 MB BINBYTES8 argument
    head = b"\x80\x05\x8e" + struct.pack("<Q", BIG)
    _sparse(path, head, len(head) + BIG + 1, b".")


@pytest.mark.parametrize(
    ("name", "make", "fmt"),
    [
        ("big.safetensors", _safetensors, "safetensors"),
        ("big.onnx", _onnx, "onnx"),
        ("big.gguf", _gguf, "gguf"),
        ("big.pt", _torch_zip, "pytorch"),
        ("big.pkl", _pickle, "pickle"),
    ],
)
def test_big_file_memory_stays_bounded(
    tmp_path: Path, name: str, make: Callable[[Path], None], fmt: str
) -> None:
    path = tmp_path / name
    make(path)
    assert path.stat().st_size >= BIG
    tracemalloc.start()
    start = time.perf_counter()
    try:
        facts = inspect_path(path)
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert time.perf_counter() - start < 2.0
    assert facts.format == fmt, facts.warnings
    assert not any("inspector failed" in w for w in facts.warnings), facts.warnings
    assert peak < PEAK_LIMIT, f"peak {peak / 1e6:.1f} MB"
    if fmt in ("safetensors", "onnx", "gguf"):
        assert facts.metadata["parameters"] == BIG // 4
    if fmt == "pytorch":
        assert facts.metadata["storage_bytes"] == BIG
