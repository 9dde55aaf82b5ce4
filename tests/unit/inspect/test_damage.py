"""Damage and proven completeness, format by format.

For every format a family of valid files is generated, each checked whole (never
damaged; complete where the format can prove it) and cut at a generated offset
(always damaged, never complete). Lying headers, Git LFS pointers, error pages and
unrecognised content are damage too; a plain folder is not.
"""

from __future__ import annotations

import io
import json
import pickle
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from regtui.inspect import inspect_path
from regtui.inspect.detect import MODEL_EXTENSIONS, sniff
from regtui.inspect.zipcheck import NO_DIRECTORY
from tests.unit.fuzz.support import fuzz_settings, workdir
from tests.unit.inspect.helpers import gguf_string, pb_field, safetensors_bytes, sklearn_mlmodel

# ------------------------------------------------------------------ builders

_DTYPES = st.sampled_from(["F32", "F16", "I64", "U8"])
_SHAPES = st.lists(st.integers(1, 6), min_size=0, max_size=3)
# Entry names, never "." or "..": an entry that climbs out is refused, not damaged.
_NAMES = st.text("abcdefghij.", min_size=1, max_size=8).filter(lambda n: n.strip("."))


@st.composite
def safetensors_files(draw: st.DrawFn) -> tuple[bytes, int]:
    tensors = draw(st.dictionaries(_NAMES, st.tuples(_DTYPES, _SHAPES), min_size=1, max_size=5))
    meta = draw(st.none() | st.dictionaries(_NAMES, st.text(max_size=20), max_size=3))
    data = safetensors_bytes(tensors, meta)
    return data, len(data)  # every byte counts: the data ends the file


# ggml type -> (elements per block, bytes per block): the ones generated here.
_GGML = {0: (1, 4), 1: (1, 2), 8: (32, 34), 12: (256, 144)}


def gguf_bytes(tensors: list[tuple[int, list[int]]], alignment: int | None) -> tuple[bytes, int]:
    """A GGUF v3 file as llama.cpp writes it (each tensor padded to the alignment)
    and the byte where its last tensor's data ends."""
    align = alignment or 32
    kv = b""
    if alignment is not None:
        kv = gguf_string("general.alignment") + struct.pack("<II", 4, alignment)
    infos, offset, sizes = b"", 0, []
    for i, (ttype, dims) in enumerate(tensors):
        per, width = _GGML[ttype]
        n = -(-(dims[0] * per) // per) * width
        for d in dims[1:]:
            n *= d
        sizes.append(n)
        shape = [dims[0] * per, *dims[1:]]
        infos += gguf_string(f"t{i}") + struct.pack("<I", len(shape))
        infos += b"".join(struct.pack("<Q", d) for d in shape)
        infos += struct.pack("<IQ", ttype, offset)
        offset += -(-n // align) * align
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), 1 if kv else 0) + kv + infos
    head += b"\0" * (-len(head) % align)
    body = b""
    last_end = 0
    for n in sizes:
        last_end = len(head) + len(body) + n
        body += b"\x01" * n + b"\0" * (-n % align)
    return head + body, last_end


@st.composite
def gguf_files(draw: st.DrawFn) -> tuple[bytes, int]:
    tensors = draw(
        st.lists(
            st.tuples(
                st.sampled_from(sorted(_GGML)), st.lists(st.integers(1, 3), min_size=1, max_size=2)
            ),
            min_size=1,
            max_size=4,
        )
    )
    alignment = draw(st.sampled_from([None, 8, 32, 64]))
    return gguf_bytes(tensors, alignment)


@st.composite
def zip_files(draw: st.DrawFn) -> tuple[bytes, int]:
    buf = io.BytesIO()
    entries = draw(st.dictionaries(_NAMES, st.binary(max_size=300), min_size=1, max_size=4))
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps({"w": 1}, protocol=2))
        for name, data in entries.items():
            method = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
            zf.writestr(f"archive/data/{name}", data, compress_type=method)
    data = buf.getvalue()
    return data, len(data)


_PLAIN = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def pickle_files(draw: st.DrawFn) -> tuple[bytes, int]:
    # A container at the top, as a saved model is (protocols 0 and 1 have no header
    # to tell a pickle of one bare scalar from text).
    top = st.lists(_PLAIN, max_size=4) | st.dictionaries(st.text(max_size=5), _PLAIN, max_size=4)
    data = pickle.dumps(draw(top), protocol=draw(st.integers(0, 5)))
    return data, len(data)


def onnx_bytes(initializer_sizes: list[int], producer: str) -> bytes:
    """A ModelProto as exporters write it: ir_version, producer, graph, opset_import."""
    graph = pb_field(2, b"g")
    for i, n in enumerate(initializer_sizes):
        tensor = pb_field(1, n) + pb_field(2, 1) + pb_field(8, f"w{i}".encode())
        graph += pb_field(5, tensor + pb_field(9, b"\0" * 4 * n))
    graph += pb_field(1, pb_field(1, b"x") + pb_field(2, b"y") + pb_field(4, b"Relu"))
    return (
        pb_field(1, 8)
        + pb_field(2, producer.encode())
        + pb_field(7, graph)
        + pb_field(8, pb_field(2, 17))
    )


@st.composite
def onnx_files(draw: st.DrawFn) -> tuple[bytes, int]:
    sizes = draw(st.lists(st.integers(1, 40), max_size=4))
    data = onnx_bytes(sizes, draw(st.text("abc", min_size=1, max_size=10)))
    return data, len(data)


@st.composite
def xgboost_files(draw: st.DrawFn) -> tuple[bytes, int]:
    doc = {"learner": {"objective": {"name": "binary:logistic"}, "extra": draw(_PLAIN)}}
    data = json.dumps(doc, separators=(",", ":")).encode()
    return data, len(data)


# name, strategy, file name, proves complete
FAMILIES: list[tuple[str, Callable[[], st.SearchStrategy[tuple[bytes, int]]], str, bool]] = [
    ("safetensors", safetensors_files, "model.safetensors", True),
    ("gguf", gguf_files, "model.gguf", True),
    ("torch zip", zip_files, "model.pt", True),
    ("keras zip", zip_files, "model.keras", True),
    ("pt2 zip", zip_files, "model.pt2", True),
    ("skops zip", zip_files, "model.skops", True),
    ("npz zip", zip_files, "weights.npz", True),
    ("pickle", pickle_files, "model.pkl", True),
    ("onnx", onnx_files, "model.onnx", False),
    ("xgboost json", xgboost_files, "model.json", False),
]


@pytest.mark.parametrize(
    ("strategy", "name", "provable"),
    [pytest.param(s, n, c, id=i) for i, s, n, c in FAMILIES],
)
def test_whole_files_are_sound_and_every_cut_is_damage(
    strategy: Callable[[], st.SearchStrategy[tuple[bytes, int]]], name: str, provable: bool
) -> None:
    @fuzz_settings(40)
    @given(strategy(), st.data())
    def check(made: tuple[bytes, int], data: st.DataObject) -> None:
        whole, needed = made
        cut = data.draw(st.integers(1, needed - 1), label="cut")
        with workdir() as d:
            path = d / name
            path.write_bytes(whole)
            intact = inspect_path(path)
            assert intact.damage is None, intact
            assert intact.complete is provable, intact
            path.write_bytes(whole[:cut])
            facts = inspect_path(path)
            assert facts.damage, (cut, facts)
            assert not facts.complete
            assert "\n" not in facts.damage  # one line

    check()


def test_the_cut_shows_where_the_format_stopped(tmp_path: Path) -> None:
    whole = safetensors_bytes({"w": ("F32", [100])})
    (tmp_path / "m.safetensors").write_bytes(whole[:-1])
    damage = inspect_path(tmp_path / "m.safetensors").damage or ""
    assert "need 400 data bytes but the file holds 399" in damage
    data, _ = gguf_bytes([(0, [10])], None)
    (tmp_path / "m.gguf").write_bytes(data[:-30])  # 40 bytes of data, padded to 64
    assert "GGUF tensor data runs to byte" in (inspect_path(tmp_path / "m.gguf").damage or "")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps({}, protocol=2))
    (tmp_path / "m.pt").write_bytes(buf.getvalue()[:-1])
    assert inspect_path(tmp_path / "m.pt").damage == NO_DIRECTORY
    (tmp_path / "m.pkl").write_bytes(pickle.dumps(list(range(50)), protocol=4)[:-1])
    assert "ends before its STOP opcode" in (inspect_path(tmp_path / "m.pkl").damage or "")


# ------------------------------------------------------------- lying headers


def _lie_safetensors_offsets() -> bytes:
    header = json.dumps({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 64]}}).encode()
    return struct.pack("<Q", len(header)) + header + b"\0" * 16


def _lie_safetensors_width() -> bytes:
    header = json.dumps({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 8]}}).encode()
    return struct.pack("<Q", len(header)) + header + b"\0" * 8


def _lie_gguf_offset() -> bytes:
    data, _ = gguf_bytes([(0, [8])], None)
    at = data.index(gguf_string("t0")) + len(gguf_string("t0")) + 4 + 8 + 4
    return data[:at] + struct.pack("<Q", 1 << 20) + data[at + 8 :]


def _lie_zip_entry_size() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps({}, protocol=2))
        zf.writestr("archive/data/0", b"\1" * 100, compress_type=zipfile.ZIP_STORED)
    data = bytearray(buf.getvalue())
    cd = data.index(b"PK\x01\x02", data.index(b"PK\x01\x02") + 1)  # the second entry
    struct.pack_into("<II", data, cd + 20, 5000, 5000)  # compressed and real size
    return bytes(data)


def _lie_onnx_length() -> bytes:
    graph = pb_field(2, b"g")
    return pb_field(1, 8) + bytes([7 << 3 | 2, 100]) + graph + pb_field(8, pb_field(2, 17))


def _lie_hdf5_eof() -> bytes:
    # superblock v2: signature, version, offset and length sizes, flags, base, ext, EOF
    return b"\x89HDF\r\n\x1a\n" + bytes([2, 8, 8, 0]) + struct.pack("<QQQQ", 0, 0, 1 << 30, 0)


@pytest.mark.parametrize(
    ("name", "make", "words"),
    [
        ("m.safetensors", _lie_safetensors_offsets, "need 64 data bytes"),
        ("m.safetensors", _lie_safetensors_width, "lying header"),
        ("m.gguf", _lie_gguf_offset, "GGUF tensor data runs to byte"),
        ("m.pt", _lie_zip_entry_size, "runs past the archive's data"),
        ("m.onnx", _lie_onnx_length, "truncated or lying length"),
        ("m.h5", _lie_hdf5_eof, "HDF5 superblock says the file ends at byte 1073741824"),
    ],
)
def test_lying_headers_are_damage(
    tmp_path: Path, name: str, make: Callable[[], bytes], words: str
) -> None:
    path = tmp_path / name
    path.write_bytes(make())
    facts = inspect_path(path)
    assert facts.damage and words in facts.damage, facts
    assert not facts.complete and facts.refused is None


# ------------------------------------------- impostors under a model's name

_LFS = (
    "version https://git-lfs.github.com/spec/v1\n"
    "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
    "size 12345678\n"
)
_IMPOSTORS = {
    "lfs": (_LFS, "Git LFS pointer for a file of 12345678 bytes", "git lfs pull"),
    "html": (
        "<!DOCTYPE html>\n<html><head><title>404 [bold]x[/]</title></head></html>",
        "an HTML page, not a model: a failed download?",
        "404",
    ),
    "html-bom": ("\ufeff  <html><body>Access denied</body></html>", "an HTML page", "denied"),
    "xml": (
        '<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>',
        "an XML document, not a model",
        "AccessDenied",
    ),
    "json": (
        '{"error": "Repository not found", "code": 401}',
        "a JSON document, not a model",
        "Repository not found",
    ),
}


@pytest.mark.parametrize("ext", sorted(MODEL_EXTENSIONS))
@pytest.mark.parametrize("kind", sorted(_IMPOSTORS))
def test_pointers_and_error_pages_under_any_model_name_are_damage(
    tmp_path: Path, ext: str, kind: str
) -> None:
    text, reason, detail = _IMPOSTORS[kind]
    path = tmp_path / f"model{ext}"
    path.write_text(text)
    facts = inspect_path(path)
    assert facts.damage and reason in facts.damage and detail in facts.damage, facts
    assert "\x1b" not in facts.damage and "\n" not in facts.damage
    assert not facts.complete


@fuzz_settings(40)
@given(st.binary(min_size=1, max_size=64))
def test_unrecognised_content_is_damage(data: bytes) -> None:
    data = b"\0" + data  # not a protocol 0/1 pickle's first opcode either
    assume(sniff(data, len(data)) is None)
    with workdir() as d:
        path = d / "weights.bin"
        path.write_bytes(data)
        facts = inspect_path(path)
        assert facts.damage, facts
        assert not facts.complete


def test_text_registered_by_name_is_damage(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_text("model 1")
    facts = inspect_path(tmp_path / "model.bin")
    assert facts.damage and facts.damage.startswith("content not recognised as a model format")


def test_a_plain_folder_registered_by_name_is_not_damaged(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "notes.txt").write_text("not a model")
    facts = inspect_path(tmp_path / "run")
    assert facts.format == "folder" and facts.damage is None


def test_the_nine_byte_onnx_of_issue_12_is_not_taken_for_safetensors(tmp_path: Path) -> None:
    data = bytes.fromhex("080212000800 0b007b".replace(" ", ""))
    assert sniff(data, len(data)) != "safetensors"
    path = tmp_path / "model.onnx"
    path.write_bytes(data)
    facts = inspect_path(path)
    assert facts.format == "onnx" and facts.damage  # a nine-byte ONNX holds no model


@fuzz_settings(30)
@given(st.integers(2, 1 << 20), st.sampled_from([b'{"', b"{}", b'{ "']))
def test_safetensors_is_sniffed_by_length_and_json_start(n: int, start: bytes) -> None:
    head = struct.pack("<Q", n) + start + b"x" * 8
    assert sniff(head, 1 << 30, ".safetensors") == "safetensors"
    if n > len(head) - 8:  # a header the head holds must also parse to count without a name
        assert sniff(head, 1 << 30) == "safetensors"
    assert sniff(struct.pack("<Q", n) + b"{x" + b"x" * 8, 1 << 30) != "safetensors"
    assert sniff(struct.pack("<Q", n + (200 << 20)) + start + b"x" * 8, 1 << 40) != "safetensors"


# ------------------------------------------------------------------ bundles


def _hf(folder: Path, index: dict[str, str] | None, shards: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps({"model_type": "bert"}))
    for s in shards:
        (folder / s).write_bytes(safetensors_bytes({"w": ("U8", [4])}))
    if index is not None:
        (folder / "model.safetensors.index.json").write_text(json.dumps({"weight_map": index}))
    return folder


@fuzz_settings(20)
@given(st.integers(2, 6), st.data())
def test_a_weights_index_naming_missing_shards_is_damage(total: int, data: st.DataObject) -> None:
    names = [f"model-{i:05d}-of-{total:05d}.safetensors" for i in range(1, total + 1)]
    present = data.draw(st.lists(st.sampled_from(names), unique=True, max_size=total - 1))
    with workdir() as d:
        index = {f"layer{i}.w": n for i, n in enumerate(names)}
        facts = inspect_path(_hf(d / "run", index, present))
        assert facts.format == "huggingface"
        missing = sorted(set(names) - set(present))
        assert facts.damage and missing[0] in facts.damage, facts
        whole = inspect_path(_hf(d / "run", index, names))
        assert whole.damage is None and not whole.complete  # a bundle keeps the settle time


def test_shard_names_imply_their_siblings_without_an_index(tmp_path: Path) -> None:
    facts = inspect_path(_hf(tmp_path / "run", None, ["model-00001-of-00002.safetensors"]))
    assert facts.damage and "model-00002-of-00002.safetensors" in facts.damage


def test_a_damaged_weights_file_makes_the_bundle_damaged(tmp_path: Path) -> None:
    run = _hf(tmp_path / "run", None, [])
    (run / "model.safetensors").write_bytes(safetensors_bytes({"w": ("F32", [64])})[:-10])
    facts = inspect_path(run)
    assert facts.damage and facts.damage.startswith("model.safetensors: safetensors tensors need")


_MLMODEL = sklearn_mlmodel(input_example=True)
_MLFLOW_FILES = ["model.pkl", "conda.yaml", "python_env.yaml", "input_example.json"]


@pytest.mark.parametrize("gone", _MLFLOW_FILES)
def test_an_mlmodel_naming_a_missing_file_is_damage(tmp_path: Path, gone: str) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "MLmodel").write_text(_MLMODEL)
    for name in _MLFLOW_FILES:
        if name != gone:
            (folder / name).write_bytes(pickle.dumps(1) if name.endswith(".pkl") else b"x: 1\n")
    facts = inspect_path(folder)
    assert facts.format == "mlflow"
    assert facts.damage and f"'{gone}'" in facts.damage and "not there" in facts.damage
    (folder / gone).write_bytes(pickle.dumps(1) if gone.endswith(".pkl") else b"x: 1\n")
    assert inspect_path(folder).damage is None


@pytest.mark.parametrize("spelled", ["-r requirements.txt", "-r reqs/pinned.txt", "-r  extra.txt"])
def test_a_python_env_asking_for_a_missing_requirements_file_is_damage(
    tmp_path: Path, spelled: str
) -> None:
    """MLflow writes requirements.txt after MLmodel, in any order with the env
    files; python_env.yaml names it, MLmodel does not."""
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "MLmodel").write_text(_MLMODEL)
    for name in _MLFLOW_FILES:
        (folder / name).write_bytes(pickle.dumps(1) if name.endswith(".pkl") else b"x: 1\n")
    (folder / "python_env.yaml").write_text(
        f"python: 3.11\nbuild_dependencies: [pip]\ndependencies:\n- {spelled}\n"
    )
    wanted = folder / spelled[3:].strip()
    facts = inspect_path(folder)
    assert facts.damage and f"'{wanted.name}" in facts.damage.replace("reqs/", ""), facts.damage
    assert "incomplete" in facts.damage
    wanted.parent.mkdir(exist_ok=True)
    wanted.write_text("scikit-learn==1.5.0\n")
    assert inspect_path(folder).damage is None


def test_a_python_env_naming_files_outside_the_folder_is_not_followed(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "MLmodel").write_text(_MLMODEL)
    for name in _MLFLOW_FILES:
        (folder / name).write_bytes(pickle.dumps(1) if name.endswith(".pkl") else b"x: 1\n")
    (folder / "python_env.yaml").write_text("dependencies:\n- -r ../../etc/shadow\n- numpy\n")
    assert inspect_path(folder).damage is None


def test_mlmodel_paths_that_leave_the_folder_are_not_followed(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "MLmodel").write_text("flavors:\n  sklearn:\n    pickled_model: ../../etc/x\n")
    assert inspect_path(folder).damage is None


# ------------------------------------------------- files real libraries wrote


def test_real_safetensors_files(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    st_numpy = pytest.importorskip("safetensors.numpy")
    path = tmp_path / "model.safetensors"
    st_numpy.save_file({"a": np.ones((3, 5), np.float32), "b": np.arange(7)}, str(path))
    assert inspect_path(path).complete
    whole = path.read_bytes()
    for cut in range(1, len(whole), max(1, len(whole) // 50)):
        path.write_bytes(whole[:cut])
        assert inspect_path(path).damage, cut


def test_real_onnx_models(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    init = helper.make_tensor("w", TensorProto.FLOAT, [4, 4], [0.5] * 16)
    node = helper.make_node("MatMul", ["x", "w"], ["y"])
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        [init],
    )
    path = tmp_path / "model.onnx"
    onnx.save(helper.make_model(graph), str(path))
    intact = inspect_path(path)
    assert intact.damage is None and not intact.complete  # ONNX cannot prove itself whole
    whole = path.read_bytes()
    for cut in range(1, len(whole)):
        path.write_bytes(whole[:cut])
        assert inspect_path(path).damage, cut


def test_real_hdf5_files(tmp_path: Path) -> None:
    h5py = pytest.importorskip("h5py")
    np = pytest.importorskip("numpy")
    path = tmp_path / "model.h5"
    with h5py.File(path, "w") as f:
        f["w"] = np.arange(1000.0)
    assert inspect_path(path).damage is None
    whole = path.read_bytes()
    for cut in (10, 40, 100, len(whole) // 2, len(whole) - 1):
        path.write_bytes(whole[:cut])
        assert inspect_path(path).damage, cut


def test_real_mlflow_folders(tmp_path: Path) -> None:
    mlflow_sklearn = pytest.importorskip("mlflow.sklearn")
    np = pytest.importorskip("numpy")
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit(np.random.default_rng(0).random((20, 3)), [0, 1] * 10)
    folder = tmp_path / "model"
    mlflow_sklearn.save_model(model, str(folder))
    assert inspect_path(folder).damage is None
    # What MLmodel names (mlflow writes it before its environment files).
    for name in ("conda.yaml", "python_env.yaml", "model.skops"):
        if not (folder / name).exists():
            continue
        kept = (folder / name).read_bytes()
        (folder / name).unlink()
        facts = inspect_path(folder)
        assert facts.damage and f"'{name}'" in facts.damage, facts
        (folder / name).write_bytes(kept)


def test_real_torch_checkpoints(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    state = {"w": torch.ones(8, 4), "b": torch.arange(5), "step": 3}
    path = tmp_path / "model.pt"
    torch.save(state, path)
    assert inspect_path(path).complete
    whole = path.read_bytes()
    for cut in range(1, len(whole), max(1, len(whole) // 60)):
        path.write_bytes(whole[:cut])
        facts = inspect_path(path)
        assert facts.damage and not facts.complete, cut
    legacy = tmp_path / "legacy.pt"
    torch.save(state, legacy, _use_new_zipfile_serialization=False)
    facts = inspect_path(legacy)
    assert facts.format == "pytorch-legacy" and facts.damage is None
    data = legacy.read_bytes()
    for cut in (5, 20, 60):  # inside its leading pickles
        legacy.write_bytes(data[:cut])
        assert inspect_path(legacy).damage, cut


def test_a_damaged_file_keeps_its_sidecars_and_lineage(tmp_path: Path) -> None:
    (tmp_path / "model.safetensors").write_bytes(safetensors_bytes({"w": ("F32", [8])})[:-1])
    (tmp_path / "metrics.json").write_text(json.dumps({"auc": 0.9}))
    facts = inspect_path(tmp_path / "model.safetensors")
    assert facts.damage and facts.metrics == {"auc": 0.9} and facts.lineage
