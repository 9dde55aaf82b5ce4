"""Fuzzing the pickle opcode scanner and the zip-based formats (PyTorch checkpoints,
legacy torch files, joblib, Keras archives, zip listing and capped entry reads).

The pickle scanner is documented never to raise for bad content; it is driven with
random opcode streams whose arguments are well-formed, lying or truncated.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import pickletools
import struct
import zipfile
import zlib

from hypothesis import given
from hypothesis import strategies as st

from regtui.inspect.bounds import BadContent, Refused
from regtui.inspect.facts import Facts
from regtui.inspect.keras import inspect_keras
from regtui.inspect.pickle_scan import describe, scan_pickle
from regtui.inspect.pytorch import LEGACY_MAGIC
from regtui.inspect.zipcheck import list_zip, read_entry
from tests.unit.fuzz.support import (
    HOSTILE_INTS,
    JSON_VALUES,
    TEXT,
    fuzz_settings,
    inspect_checked,
    pack,
    workdir,
    write,
)

OPCODES = [op for op in pickletools.opcodes if op.name not in ("STOP",)]
GLOBALS = st.sampled_from(
    ["os\nsystem", "builtins\nexec", "posix\nsystem", "torch._utils\n_rebuild_tensor_v2",
     "collections\nOrderedDict", "joblib.numpy_pickle\nNumpyArrayWrapper", "numpy\ndtype",
     "torch\nFloatStorage", "\n", "a" * 300 + "\nb"]
)  # fmt: skip


@st.composite
def pickle_op(draw: st.DrawFn) -> bytes:
    """One opcode with an argument that is usually well-formed and sometimes hostile."""
    op = draw(st.sampled_from(OPCODES))
    code = op.code.encode("latin-1")
    if op.arg is None:
        return code
    kind = op.arg.name
    fixed = {"uint1": "<B", "uint2": "<H", "int4": "<i", "uint4": "<I", "uint8": "<Q", "float8": ">d"}
    if kind in fixed:
        if kind == "float8":
            return code + draw(st.binary(min_size=8, max_size=8))
        return code + pack(fixed[kind], draw(st.one_of(st.integers(0, 300), HOSTILE_INTS)))
    sized = {"string1": "<B", "bytes1": "<B", "unicodestring1": "<B", "string4": "<i",
             "bytes4": "<I", "unicodestring4": "<I", "bytes8": "<Q", "bytearray8": "<Q",
             "unicodestring8": "<Q", "long1": "<B", "long4": "<i"}  # fmt: skip
    if kind in sized:
        payload = draw(TEXT).encode("utf-8", "surrogatepass")
        n = draw(st.one_of(st.just(len(payload)), st.just(len(payload)), HOSTILE_INTS))
        return code + pack(sized[kind], n) + payload
    if kind == "stringnl_noescape_pair":
        return code + draw(GLOBALS).encode() + b"\n"
    text = draw(st.one_of(st.sampled_from(["0", "1", "00", "01", "-5", "1e3", "'x'", "L"]), TEXT))
    end = draw(st.sampled_from([b"\n", b"\n", b""]))
    return code + text.encode("utf-8", "surrogatepass").replace(b"\n", b"") + end


@st.composite
def pickles(draw: st.DrawFn) -> bytes:
    proto = draw(st.sampled_from([b"", b"\x80\x02", b"\x80\x04", b"\x80\x05"]))
    body = b"".join(draw(st.lists(pickle_op(), max_size=30)))
    return proto + body + draw(st.sampled_from([b".", b".", b"", b".\x80\x02N."]))


@fuzz_settings(100)
@given(pickles())
def test_pickle_scanner_never_raises(data: bytes) -> None:
    for seekable in (True, False):
        scan = scan_pickle(io.BytesIO(data), seekable=seekable)
        meta, warnings = describe(scan)
        json.dumps(meta, allow_nan=False)
        assert warnings and warnings[0].startswith("pickle-based")


@fuzz_settings(50)
@given(pickles(), st.sampled_from([".pkl", ".joblib", ".pt", ".bin", ".ckpt", ".sav"]))
def test_pickle_files(data: bytes, ext: str) -> None:
    with workdir() as d:
        facts = inspect_checked(write(d, f"model{ext}", data))
        if facts.format in ("pickle", "joblib"):
            assert facts.warnings and any(w.startswith("pickle-based") for w in facts.warnings)


@fuzz_settings(30)
@given(pickles(), st.sampled_from(["gzip", "zlib", "cut"]))
def test_compressed_joblib(data: bytes, how: str) -> None:
    packed = gzip.compress(data) if how == "gzip" else zlib.compress(data)
    if how == "cut":  # a damaged stream
        packed = packed[: len(packed) // 2]
    with workdir() as d:
        inspect_checked(write(d, "model.joblib", packed))


@fuzz_settings(30)
@given(st.lists(pickles(), min_size=1, max_size=3))
def test_legacy_torch(parts: list[bytes]) -> None:
    with workdir() as d:
        facts = inspect_checked(write(d, "model.pt", LEGACY_MAGIC + b"".join(parts)))
        assert facts.format in ("pytorch-legacy", "pickle")


ENTRY_NAMES = st.one_of(
    st.sampled_from(["archive/data.pkl", "data.pkl", "archive/data/0", "archive/version",
                     "archive/code/x.py", "config.json", "metadata.json", "model.weights.h5",
                     "../evil", "/abs", "C:evil", "a/../../b"]),
    TEXT.filter(lambda s: 0 < len(s) < 200 and "\x00" not in s),
)  # fmt: skip


@st.composite
def zips(draw: st.DrawFn) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in draw(st.lists(ENTRY_NAMES, max_size=5, unique=True)):
            if name.endswith(".pkl"):
                data = draw(pickles())
            elif name.endswith(".json"):
                data = json.dumps(draw(JSON_VALUES)).encode()
            else:
                data = draw(st.binary(max_size=64))
            method = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
            zf.writestr(name, data, compress_type=method)
    raw = bytearray(buf.getvalue())
    # Damage the archive: lie in a local or central header, or flip payload bytes.
    for _ in range(draw(st.integers(0, 3))):
        if not raw:
            break
        pos = draw(st.integers(0, len(raw) - 1))
        if draw(st.booleans()):
            raw[pos] ^= 0xFF
        else:
            raw[pos : pos + 4] = pack("<I", draw(HOSTILE_INTS))
    return bytes(raw)


@fuzz_settings(70)
@given(zips(), st.sampled_from([".pt", ".keras", ".pth", ".zip", ".bin"]))
def test_zip_formats(data: bytes, ext: str) -> None:
    with workdir() as d:
        path = write(d, f"model{ext}", data)
        try:
            zf, entries = list_zip(path)
        except (BadContent, Refused):
            pass
        else:
            with zf:
                for e in entries[:5]:
                    # zlib.error: open bug, see test_keras_with_a_damaged_deflate_stream
                    with contextlib.suppress(BadContent, zlib.error):
                        read_entry(zf, e.name, 1 << 16)
                if any(e.name == "config.json" for e in entries):
                    with contextlib.suppress(BadContent, zlib.error):
                        inspect_keras(zf, entries, Facts())
        inspect_checked(path)


@st.composite
def keras_archives(draw: st.DrawFn) -> bytes:
    config = draw(st.one_of(
        st.fixed_dictionaries({
            "class_name": TEXT,
            "config": st.one_of(st.fixed_dictionaries({
                "name": TEXT,
                "layers": st.one_of(st.lists(st.one_of(
                    st.fixed_dictionaries({"class_name": st.one_of(TEXT, st.just("Lambda"))}),
                    JSON_VALUES), max_size=5), JSON_VALUES),
            }), JSON_VALUES),
            "compile_config": st.one_of(st.fixed_dictionaries({"loss": JSON_VALUES}), JSON_VALUES),
        }),
        JSON_VALUES,
    ))  # fmt: skip
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("config.json", json.dumps(config))
        zf.writestr("metadata.json", json.dumps(draw(st.one_of(
            st.fixed_dictionaries({"keras_version": TEXT, "date_saved": TEXT}), JSON_VALUES))))  # fmt: skip
        zf.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n" + b"\0" * 8)
    return buf.getvalue()


@fuzz_settings(30)
@given(keras_archives())
def test_keras(data: bytes) -> None:
    with workdir() as d:
        facts = inspect_checked(write(d, "model.keras", data))
        assert facts.format == "keras"


def test_zip_claiming_a_huge_entry_is_refused_before_reading() -> None:
    """A central directory declaring a 4 GiB entry from 60 bytes: refused by its ratio."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("archive/data.pkl", b"\x80\x02N.")
    raw = bytearray(buf.getvalue())
    cd = raw.rfind(b"PK\x01\x02")
    raw[cd + 24 : cd + 28] = struct.pack("<I", 0xFFFFFFF0)  # uncompressed size
    with workdir() as d:
        facts = inspect_checked(write(d, "model.pt", bytes(raw)))
        assert facts.refused and "zip bomb" in facts.refused
