"""Structured fuzzing of the binary header parsers: safetensors, GGUF, ONNX and the
protobuf wire walker, TFLite flatbuffers, UBJSON / XGBoost .ubj.

Generators build headers that look valid but carry hostile lengths, counts, types
and strings; each is run through the parser's lowest-level entry point (which may
raise only its documented errors) and through `inspect_path` (which may raise
nothing, must be fast and small, and must return JSON-serialisable Facts).
"""

from __future__ import annotations

import contextlib
import io
import json
import struct
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from regtui.inspect.bounds import BadContent, Refused
from regtui.inspect.facts import Facts
from regtui.inspect.gguf import inspect_gguf
from regtui.inspect.onnx import inspect_onnx
from regtui.inspect.protobuf_wire import LEN, Wire
from regtui.inspect.safetensors import read_header, summarise
from regtui.inspect.tensorflow import inspect_tflite
from regtui.inspect.ubjson import UbjReader
from tests.unit.fuzz.support import (
    HOSTILE_INTS,
    JSON_VALUES,
    TEXT,
    U32,
    U64,
    fuzz_settings,
    inspect_checked,
    pack,
    sparse,
    workdir,
    write,
)

# ------------------------------------------------------------------ safetensors

DTYPES = st.one_of(
    st.sampled_from(["F32", "F16", "BF16", "I64", "U8", "BOOL", "F4", "F6_E2M3", "F8_E8M0"]),
    TEXT,
)
DIM = st.one_of(st.integers(0, 64), HOSTILE_INTS, st.integers(-5, -1))
TENSOR_INFO = st.one_of(
    st.fixed_dictionaries(
        {
            "dtype": DTYPES,
            "shape": st.one_of(st.lists(DIM, max_size=6), JSON_VALUES),
            "data_offsets": st.one_of(st.lists(st.one_of(DIM, U64), max_size=3), JSON_VALUES),
        }
    ),
    JSON_VALUES,
)


@st.composite
def safetensors_files(draw: st.DrawFn) -> tuple[bytes, int]:
    header: dict[str, Any] = draw(st.dictionaries(TEXT, TENSOR_INFO, max_size=6))
    if draw(st.booleans()):
        header["__metadata__"] = draw(
            st.one_of(st.dictionaries(TEXT, st.one_of(TEXT, JSON_VALUES), max_size=6), JSON_VALUES)
        )
    raw = json.dumps(header).encode()
    if draw(st.booleans()):  # damaged JSON
        raw = raw[: draw(st.integers(0, len(raw)))] + draw(st.binary(max_size=8))
    claimed = draw(st.one_of(st.just(len(raw)), U64, st.integers(0, len(raw) + 16)))
    extra = draw(st.one_of(st.just(0), st.integers(0, 1 << 20), st.sampled_from([1 << 30])))
    if extra >= 1 << 30 and 1 << 20 < claimed <= 100 << 20:
        # a header of up to 100 MiB that fits is read whole: open bug, see
        # test_safetensors_header_claim_is_read_whole in test_known_bugs.py
        claimed = len(raw)
    return struct.pack("<Q", claimed) + raw, len(raw) + 8 + extra


@fuzz_settings(50)
@given(safetensors_files())
def test_safetensors(case: tuple[bytes, int]) -> None:
    head, size = case
    with workdir() as d:
        path = sparse(d / "model.safetensors", head, size)
        try:
            header, n, file_size = read_header(path)
        except BadContent:
            pass
        else:
            summarise(header, n, file_size)  # any JSON object: never raises
        facts = inspect_checked(path)
        assert facts.format == "safetensors"


@fuzz_settings(30)
@given(st.dictionaries(TEXT, JSON_VALUES, max_size=8), U64, st.integers(0, 1 << 40))
def test_safetensors_summarise_any_header(header: dict[str, Any], n: int, size: int) -> None:
    meta, warnings = summarise(header, n % (1 << 27), size)
    json.dumps(meta, allow_nan=False)
    assert all(isinstance(w, str) for w in warnings)


# ------------------------------------------------------------------------- GGUF

GGUF_TYPES = st.one_of(st.integers(0, 13), U32)


@st.composite
def gguf_value(draw: st.DrawFn, vtype: int, wide: bool, depth: int = 0) -> bytes:
    """An encoding of a value of `vtype`, honest or (sometimes) lying about lengths."""
    widths = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
              10: "<Q", 11: "<q", 12: "<d"}  # fmt: skip
    count_fmt = "<Q" if wide else "<I"
    if vtype in widths:
        return draw(st.binary(min_size=struct.calcsize(widths[vtype]),
                              max_size=struct.calcsize(widths[vtype])))  # fmt: skip
    if vtype == 8:
        text = draw(TEXT).encode("utf-8", "surrogatepass")
        n = draw(st.one_of(st.just(len(text)), U64))
        return pack(count_fmt, n) + text
    if vtype == 9:
        item = draw(st.one_of(st.integers(0, 12), U32))
        n = draw(st.one_of(st.integers(0, 4), U64))
        body = b""
        if depth < 3:
            for _ in range(min(n, 4)):
                body += draw(gguf_value(item, wide, depth + 1))
        return pack("<I", item) + pack(count_fmt, n) + body
    return draw(st.binary(max_size=16))


@st.composite
def gguf_files(draw: st.DrawFn) -> tuple[bytes, int]:
    version = draw(st.one_of(st.sampled_from([1, 2, 3]), U32))
    wide = version >= 2
    count_fmt = "<Q" if wide else "<I"
    kvs = b""
    n_kv = draw(st.integers(0, 5))
    for _ in range(n_kv):
        key = draw(st.one_of(st.sampled_from(["general.name", "general.architecture",
                                              "general.file_type", "llama.context_length"]),
                             TEXT)).encode("utf-8", "surrogatepass")  # fmt: skip
        vtype = draw(GGUF_TYPES)
        kvs += pack(count_fmt, len(key)) + key + pack("<I", vtype)
        kvs += draw(gguf_value(vtype % (1 << 32), wide))
    tensors = b""
    n_tensors = draw(st.integers(0, 3))
    for _ in range(n_tensors):
        name = draw(TEXT).encode("utf-8", "surrogatepass")
        dims = draw(st.lists(U64, max_size=4))
        n_dims = draw(st.one_of(st.just(len(dims)), U32))
        tensors += pack(count_fmt, len(name)) + name + pack("<I", n_dims)
        tensors += b"".join(pack(count_fmt, d) for d in dims)
        tensors += pack("<I", draw(U32)) + pack("<Q", draw(U64))
    claimed_t = draw(st.one_of(st.just(n_tensors), U64))
    claimed_kv = draw(st.one_of(st.just(n_kv), U64))
    body = b"GGUF" + pack("<I", version) + pack(count_fmt, claimed_t) + pack(count_fmt, claimed_kv)
    body += kvs + tensors
    if draw(st.booleans()):
        body = body[: draw(st.integers(4, len(body)))]
    # A hole after the header, at most 256 KiB: sizes beyond that are in test_known_bugs.
    return body, len(body) + draw(st.one_of(st.just(0), st.integers(0, 1 << 18)))


@fuzz_settings(60)
@given(gguf_files())
def test_gguf(case: tuple[bytes, int]) -> None:
    head, size = case
    with workdir() as d:
        path = sparse(d / "model.gguf", head, size)
        with contextlib.suppress(BadContent):
            inspect_gguf(path, Facts())
        facts = inspect_checked(path)
        assert facts.format == "gguf"


# ------------------------------------------------------------- ONNX / protobuf


def varint(n: int) -> bytes:
    out = bytearray()
    n %= 1 << 70
    while True:
        b = n & 0x7F
        n >>= 7
        if not n:
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)


@st.composite
def pb_message(draw: st.DrawFn, depth: int = 0) -> bytes:
    """A protobuf message: varint, fixed and length-delimited fields (nested or text),
    with the occasional lying length, unknown wire type or field number 0."""
    out = b""
    for _ in range(draw(st.integers(0, 6))):
        number = draw(st.one_of(st.integers(1, 15), st.integers(0, 1 << 29)))
        wtype = draw(st.sampled_from([0, 0, 1, 2, 2, 2, 5, 3, 6]))
        key = varint(number << 3 | wtype)
        if wtype == 0:
            out += key + varint(draw(st.one_of(st.integers(0, 300), U64)))
        elif wtype == 1:
            out += key + draw(st.binary(min_size=8, max_size=8))
        elif wtype == 5:
            out += key + draw(st.binary(min_size=4, max_size=4))
        elif wtype == 2:
            if depth < 5 and draw(st.booleans()):
                payload = draw(pb_message(depth + 1))
            else:
                payload = draw(TEXT).encode("utf-8", "surrogatepass")
            length = draw(st.one_of(st.just(len(payload)), st.just(len(payload)), U64))
            out += key + varint(length) + payload
        else:
            out += key + draw(st.binary(max_size=4))
    return out


@st.composite
def onnx_files(draw: st.DrawFn) -> bytes:
    # Starts like a ModelProto so that sniffing picks ONNX, then anything.
    ir = draw(st.integers(2, 20))
    second = draw(st.sampled_from([0x12, 0x1A, 0x22, 0x3A, 0x42, 0x72]))
    payload = draw(pb_message())
    return bytes([0x08, ir, second]) + varint(len(payload)) + payload + draw(pb_message())


def _walk(w: Wire, start: int, end: int, depth: int = 0) -> None:
    """Visit every field, descending into each LEN payload as if it were a message."""
    for _num, wt, val, at in w.fields(start, end):
        if wt == LEN and depth < 8 and val is not None:
            with contextlib.suppress(BadContent):
                _walk(w, at, at + val, depth + 1)


@fuzz_settings(50)
@given(st.one_of(onnx_files(), pb_message()))
def test_protobuf_wire_walker(data: bytes) -> None:
    w = Wire(io.BytesIO(data), len(data))
    with contextlib.suppress(BadContent):
        _walk(w, 0, len(data))


@fuzz_settings(60)
@given(onnx_files())
def test_onnx(data: bytes) -> None:
    with workdir() as d:
        path = write(d / "m", "model.onnx", data)
        with contextlib.suppress(BadContent, Refused):
            inspect_onnx(path, Facts())
        facts = inspect_checked(path)
        assert facts.format == "onnx"


def _pb(number: int, value: int | bytes) -> bytes:
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    return varint(number << 3 | 2) + varint(len(value)) + value


@st.composite
def onnx_models(draw: st.DrawFn) -> bytes:
    """ModelProto-shaped: graph, nodes, initializers (possibly external), value infos,
    metadata_props, opsets, with hostile strings and dims."""
    text = lambda: draw(TEXT).encode("utf-8", "surrogatepass")  # noqa: E731
    graph = b""
    for _ in range(draw(st.integers(0, 3))):
        graph += _pb(1, _pb(4, text()) + _pb(1, text()))
    for _ in range(draw(st.integers(0, 3))):
        tensor = b"".join(_pb(1, d) for d in draw(st.lists(U64, max_size=4)))
        tensor += _pb(8, text()) + _pb(2, 1)
        if draw(st.booleans()):
            location = draw(st.sampled_from(["w.bin", "../escape.bin", "/etc/passwd", "", "a\\..\\..\\b"]))
            tensor += _pb(13, _pb(1, b"location") + _pb(2, location.encode())) + _pb(14, 1)
        graph += _pb(5, tensor)
    for num in (11, 12):
        for _ in range(draw(st.integers(0, 2))):
            dims = b"".join(_pb(1, _pb(1, d) if isinstance(d, int) else _pb(2, d))
                            for d in draw(st.lists(st.one_of(U64, st.just(b"batch")), max_size=4)))  # fmt: skip
            ttype = _pb(1, _pb(1, draw(st.integers(0, 30))) + _pb(2, dims))
            graph += _pb(num, _pb(1, text()) + _pb(2, ttype))
    model = _pb(1, draw(st.integers(3, 10))) + _pb(2, text()) + _pb(3, text())
    model += _pb(6, text()) + _pb(7, graph) + _pb(8, _pb(1, text()) + _pb(2, 17))
    for _ in range(draw(st.integers(0, 3))):
        model += _pb(14, _pb(1, text()) + _pb(2, text()))
    return model


@fuzz_settings(40)
@given(onnx_models())
def test_onnx_structured(data: bytes) -> None:
    with workdir() as d:
        path = write(d / "m", "model.onnx", data)
        facts = inspect_checked(path)
        # an external location outside the folder is refused, never followed
        if facts.refused:
            assert "outside" in facts.refused
        else:
            assert facts.format == "onnx"


# ----------------------------------------------------------------------- TFLite


@st.composite
def tflite_files(draw: st.DrawFn) -> bytes:
    """root offset, TFL3, a vtable and a table whose field offsets may point anywhere."""
    fields = draw(st.lists(st.one_of(st.integers(0, 64), st.integers(0, 0xFFFF)), max_size=9))
    vtable = struct.pack("<HH", draw(st.one_of(st.just(4 + 2 * len(fields)), st.integers(0, 0xFFFF))),
                         draw(st.integers(0, 0xFFFF)))  # fmt: skip
    vtable += b"".join(struct.pack("<H", f) for f in fields)
    vt_at = 8
    table_at = vt_at + len(vtable)
    soffset = draw(st.one_of(st.just(table_at - vt_at), st.integers(-(1 << 31), (1 << 31) - 1)))
    table = struct.pack("<i", soffset) + draw(st.binary(max_size=64))
    tail = b"".join(pack("<I", draw(U32)) for _ in range(draw(st.integers(0, 8))))
    root = draw(st.one_of(st.just(table_at), U32))
    return struct.pack("<I", root % (1 << 32)) + b"TFL3" + vtable + table + tail


@fuzz_settings(50)
@given(tflite_files())
def test_tflite(data: bytes) -> None:
    with workdir() as d:
        path = write(d, "model.tflite", data)
        with contextlib.suppress(BadContent):
            inspect_tflite(path, Facts())
        facts = inspect_checked(path)
        assert facts.format == "tflite"


# ------------------------------------------------------------- UBJSON / .ubj

UBJ_INT = {"i": ">b", "U": ">B", "I": ">h", "l": ">i", "L": ">q"}


@st.composite
def ubj_value(draw: st.DrawFn, depth: int = 0) -> bytes:
    kind = draw(st.sampled_from(["int", "float", "str", "Z", "T", "N", "arr", "obj", "typed", "junk"]))
    if kind == "int":
        m = draw(st.sampled_from(list(UBJ_INT)))
        return m.encode() + pack(UBJ_INT[m], draw(U64))
    if kind == "float":
        return b"D" + draw(st.binary(min_size=8, max_size=8))
    if kind == "str":
        raw = draw(TEXT).encode("utf-8", "surrogatepass")
        n = draw(st.one_of(st.just(len(raw)), U64))
        return b"SL" + pack(">q", n) + raw
    if kind in ("Z", "T", "N"):
        return kind.encode()
    if kind == "junk":
        return draw(st.binary(min_size=1, max_size=4))
    if depth >= 4:
        return b"Z"
    if kind == "typed":  # a strongly typed numeric array with a possibly lying count
        m = draw(st.sampled_from(["i", "U", "l", "d", "D"]))
        n = draw(st.one_of(st.integers(0, 20), U64))
        body = draw(st.binary(max_size=64))
        return b"[$" + m.encode() + b"#L" + pack(">q", n) + body
    items = draw(st.lists(ubj_value(depth + 1), max_size=4))
    if kind == "arr":
        return b"[" + b"".join(items) + b"]"
    out = b"{"
    for item in items:
        key = draw(st.sampled_from([b"learner", b"version", b"gradient_booster", b"trees", b"x"]))
        out += b"U" + bytes([len(key)]) + key + item
    return out + b"}"


@st.composite
def ubj_files(draw: st.DrawFn) -> bytes:
    # Sniffed as XGBoost UBJSON only if 'learner' is among the first bytes.
    return b"{U\x07learner" + draw(ubj_value()) + draw(st.binary(max_size=8)) + b"}"


@fuzz_settings(50)
@given(ubj_files())
def test_ubjson_and_xgboost_ubj(data: bytes) -> None:
    with contextlib.suppress(BadContent):
        UbjReader(io.BytesIO(data), len(data)).value()
    with workdir() as d:
        path = write(d, "model.ubj", data)
        facts = inspect_checked(path)
        assert facts.format == "xgboost-ubj"


@fuzz_settings(25)
@given(st.binary(max_size=256))
def test_every_parser_on_raw_bytes(data: bytes) -> None:
    """Arbitrary bytes under every model extension (sniffing decides, names break ties)."""
    with workdir() as d:
        for ext in (".safetensors", ".gguf", ".onnx", ".pt", ".pkl", ".joblib", ".tflite",
                    ".ubj", ".json", ".txt", ".keras", ".h5", ".bin", ".pb", ".cbm"):  # fmt: skip
            inspect_checked(write(d, f"model{ext}", data))
