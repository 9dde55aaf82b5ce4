"""Content detection trusts strong signatures only (issue 12).

A format is decided by a signature that cannot occur by chance; a weak one (two
or three bytes: a pickle's PROTO opcode, an ONNX field key, a zlib header, a
safetensors-like length whose header the file cannot hold) counts only under a
name of that format. The generators put each format's weak start, and other
formats' real starts, under every other name.
"""

from __future__ import annotations

import io
import json
import pickle
import struct
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regtui.inspect import inspect_path, is_artifact_candidate
from regtui.inspect.detect import HEAD_BYTES, MAYBE_EXTENSIONS, MODEL_EXTENSIONS, sniff
from tests.unit.fuzz.support import fuzz_settings, workdir
from tests.unit.inspect.helpers import safetensors_bytes

# Written here, not taken from detect.py: which names may hold each weakly signed
# format (the spec the detector must meet, not a copy of its tables).
_PICKLE_NAMES = {".pkl", ".pickle", ".joblib", ".sav", ".pt", ".pth", ".bin", ".ckpt"}
WEAK_NAMES: dict[str, set[str]] = {
    "pickle": _PICKLE_NAMES,
    "compressed": _PICKLE_NAMES,
    "onnx": {".onnx", ".pb"},
    "safetensors": {".safetensors", ".bin"},
    "xgboost-binary": {".bin", ".model"},
}
ALL_NAMES = sorted(set(MODEL_EXTENSIONS) | MAYBE_EXTENSIONS)


def _weak_pickle(rest: bytes) -> bytes:
    return b"\x80" + bytes([2 + rest[0] % 4]) + rest[1:]


def _weak_onnx(rest: bytes) -> bytes:
    return b"\x08" + bytes([2 + rest[0] % 19]) + b"\x12" + rest[1:]


def _weak_zlib(rest: bytes) -> bytes:
    return b"x\x9c" + rest


def _weak_safetensors(rest: bytes) -> bytes:
    # a length the file cannot hold (the strong form needs one that fits)
    return struct.pack("<Q", (1 << 20) + rest[0]) + b'{"' + rest[1:]


def _weak_xgboost_binary(rest: bytes) -> bytes:
    return b"binf" + rest


WEAK_STARTS = {
    "pickle": _weak_pickle,
    "onnx": _weak_onnx,
    "compressed": _weak_zlib,
    "safetensors": _weak_safetensors,
    "xgboost-binary": _weak_xgboost_binary,
}
PAIRS = [(kind, ext) for kind in WEAK_STARTS for ext in ALL_NAMES if ext not in WEAK_NAMES[kind]]


@pytest.mark.parametrize(("kind", "ext"), PAIRS)
@settings(fuzz_settings(8), deadline=None)  # work is counted, not timed
@given(rest=st.binary(min_size=8, max_size=200))
def test_a_weak_signature_under_another_formats_name_decides_nothing(
    kind: str, ext: str, rest: bytes
) -> None:
    data = WEAK_STARTS[kind](rest)
    assert sniff(data, len(data), ext) != kind
    with workdir() as d:
        path = d / f"model{ext}"
        path.write_bytes(data)
        facts = inspect_path(path)
        assert facts.format != kind, (kind, ext, data[:16].hex(), facts)
        if ext in MAYBE_EXTENSIONS:  # names that may hold anything: not taken for a model
            assert not is_artifact_candidate(path)


@pytest.mark.parametrize("kind", sorted(WEAK_STARTS))
@settings(fuzz_settings(8), deadline=None)  # work is counted, not timed
@given(rest=st.binary(min_size=8, max_size=200))
def test_a_weak_signature_under_its_own_name_is_still_read_as_that_format(
    kind: str, rest: bytes
) -> None:
    for ext in WEAK_NAMES[kind]:
        data = WEAK_STARTS[kind](rest)
        assert sniff(data, len(data), ext) == kind, (ext, data[:16].hex())


def _strong_samples() -> dict[str, bytes]:
    header = b"GGUF" + struct.pack("<IQQ", 3, 0, 0)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps({"a": 1}, protocol=2))
    return {
        "gguf": header,
        "zip": buf.getvalue(),
        "hdf5": b"\x89HDF\r\n\x1a\n" + bytes(64),
        "safetensors": safetensors_bytes({"w": ("F32", [4])}),
        "pickle": pickle.dumps(list(range(50)), protocol=4),  # framed
        "xgboost-json": b'{"learner": {"objective": {"name": "reg"}}, "version": [2, 0, 0]}',
        "xgboost-ubj": b"{L" + bytes(7) + b"\x07learner{}}",
        "lightgbm": b"tree\nversion=v4\nnum_class=1\n",
        "catboost": b"CBM1" + bytes(32),
        "compressed": b"\x1f\x8b\x08\x00" + bytes(16),
    }


@pytest.mark.parametrize(("kind", "ext"), [(k, e) for k in _strong_samples() for e in ALL_NAMES])
def test_a_strong_signature_decides_under_any_name(kind: str, ext: str) -> None:
    data = _strong_samples()[kind]
    assert sniff(data[:HEAD_BYTES], len(data), ext) == kind
    assert sniff(data[:HEAD_BYTES], len(data)) == kind  # no name needed


# The nine-byte model.onnx of issue 12 had its ninth byte `{`; its bigger cousins
# carry `{"` there too, with a length that a large enough file would hold.
@settings(fuzz_settings(60), deadline=None)  # work is counted, not timed
@given(
    st.integers(0, 6),
    st.binary(min_size=16, max_size=HEAD_BYTES),
    st.sampled_from(sorted(set(MODEL_EXTENSIONS) - {".safetensors", ".bin"})),
)
def test_binary_with_a_json_start_at_byte_eight_is_not_safetensors(
    length: int, body: bytes, ext: str
) -> None:
    start = b"\x08\x02\x12" + bytes([length]) + bytes(4) + b'{"'
    binary = start + b"\x00" + body  # a control byte: not JSON text
    (n,) = struct.unpack("<Q", start[:8])
    size = max(len(binary), n + 8)
    assert sniff(binary[:HEAD_BYTES], size, ext) != "safetensors"
    assert sniff(binary[:HEAD_BYTES], size) != "safetensors"


def test_issue_12_nine_byte_onnx_and_its_variants(tmp_path: Path) -> None:
    for data in (
        bytes.fromhex("080212000800 0b007b".replace(" ", "")),
        bytes.fromhex("080212000800 0b007b22".replace(" ", "")),
        bytes.fromhex("08021200000000007b7d"),
        bytes.fromhex("08021200000000007b22") + b"\x00" * 64,
    ):
        path = tmp_path / "model.onnx"
        path.write_bytes(data)
        facts = inspect_path(path)
        assert facts.format == "onnx" and facts.damage, (data.hex(), facts)


def test_a_real_safetensors_file_without_a_name_is_still_a_candidate(tmp_path: Path) -> None:
    (tmp_path / "weights").write_bytes(safetensors_bytes({"w": ("F32", [2])}))
    header = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})
    assert is_artifact_candidate(tmp_path / "weights")
    assert "\x00" not in header
