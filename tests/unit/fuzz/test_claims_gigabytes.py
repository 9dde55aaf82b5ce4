"""Inputs that claim gigabytes cost little: sparse 4 GiB files (a hole after the
header) whose headers claim huge tensors, arrays, blobs and entries are inspected
under a 32 MiB tracemalloc peak and within the deadline, whatever the claimed sizes
(drawn by hypothesis from hostile integers)."""

from __future__ import annotations

import struct
from collections.abc import Callable

import pytest
from hypothesis import given

from tests.unit.fuzz.support import (
    U64,
    fuzz_settings,
    inspect_checked,
    pack,
    sparse,
    workdir,
)
from tests.unit.fuzz.test_binary_headers import varint

SIZE = 4 << 30


def _safetensors(n: int) -> bytes:
    hdr = f'{{"w":{{"dtype":"F32","shape":[{n}],"data_offsets":[0,{n * 4}]}}}}'.encode()
    return struct.pack("<Q", len(hdr)) + hdr


def _safetensors_lying_length(n: int) -> bytes:
    return pack("<Q", n) + b'{"w": 1}'


def _gguf(n: int) -> bytes:
    tensor = struct.pack("<Q", 1) + b"w" + struct.pack("<I", 2) + pack("<Q", n) + pack("<Q", n)
    return b"GGUF" + struct.pack("<IQQ", 3, 1, 0) + tensor + struct.pack("<IQ", 0, 0)


def _gguf_numeric_array(n: int) -> bytes:
    kv = struct.pack("<Q", 1) + b"k" + struct.pack("<II", 9, 10) + pack("<Q", n)
    return b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + kv


def _onnx(n: int) -> bytes:
    raw = n % (1 << 32)  # a raw_data blob of up to 4 GiB: skipped by seeking
    tensor = varint(1 << 3) + varint(n) + varint(8 << 3 | 2) + b"\x01w"
    tensor += varint(9 << 3 | 2) + varint(raw)
    graph = varint(5 << 3 | 2) + varint(len(tensor) + raw) + tensor
    return b"\x08\x08" + varint(7 << 3 | 2) + varint(len(graph) + raw) + graph


def _pickle(n: int) -> bytes:
    return b"\x80\x04\x8e" + pack("<Q", n)  # BINBYTES8 claiming n bytes


def _ubj(n: int) -> bytes:
    return b"{U\x07learner[$D#L" + pack(">q", n)  # a typed float64 array


BUILDERS: dict[str, tuple[str, Callable[[int], bytes]]] = {
    "safetensors": ("model.safetensors", _safetensors),
    "safetensors-lying-length": ("model.safetensors", _safetensors_lying_length),
    "gguf-tensor": ("model.gguf", _gguf),
    "gguf-array": ("model.gguf", _gguf_numeric_array),
    "onnx-raw-data": ("model.onnx", _onnx),
    "pickle-bytes8": ("model.pkl", _pickle),
    "ubj-typed-array": ("model.ubj", _ubj),
}


@pytest.mark.parametrize("kind", sorted(BUILDERS))
@fuzz_settings(5)
@given(claim=U64)
def test_huge_claims_cost_little(kind: str, claim: int) -> None:
    name, build = BUILDERS[kind]
    with workdir() as d:
        inspect_checked(sparse(d / name, build(claim), SIZE))
