"""Builders for artifacts the tests make by hand (no ML library needed)."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parents[3] / "sample_models"
RUNS = SAMPLES / "runs"
HOSTILE = SAMPLES / "hostile"


def safetensors_bytes(
    tensors: dict[str, tuple[str, list[int]]], metadata: dict[str, str] | None = None
) -> bytes:
    widths = {"F32": 4, "F16": 2, "I64": 8, "U8": 1}
    header: dict[str, Any] = {}
    offset = 0
    for name, (dtype, shape) in tensors.items():
        n = widths[dtype]
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    if metadata is not None:
        header["__metadata__"] = metadata
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + b"\0" * offset


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def pb_field(number: int, value: int | bytes) -> bytes:
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    return varint(number << 3 | 2) + varint(len(value)) + value


def gguf_string(s: str) -> bytes:
    raw = s.encode()
    return struct.pack("<Q", len(raw)) + raw


def sklearn_mlmodel(*, input_example: bool = False) -> str:
    """An `MLmodel` as `mlflow.sklearn.save_model` writes it: it names model.pkl and the
    environment files (and input_example.json when the save had an input example)."""
    text = (
        "flavors:\n"
        "  python_function:\n"
        "    env:\n"
        "      conda: conda.yaml\n"
        "      virtualenv: python_env.yaml\n"
        "    loader_module: mlflow.sklearn\n"
        "    model_path: model.pkl\n"
        "  sklearn:\n"
        "    pickled_model: model.pkl\n"
        "    serialization_format: cloudpickle\n"
        "mlflow_version: 3.1.0\n"
    )
    if input_example:
        text += "saved_input_example_info:\n  artifact_path: input_example.json\n"
    return text
