"""Hostile and damaged input: each is refused or warned about, quickly, never raised."""

from __future__ import annotations

import json
import os
import pickle
import struct
import time
import zipfile
from pathlib import Path

import pytest

from regtui.inspect import inspect_path
from tests.unit.inspect.helpers import HOSTILE, gguf_string, pb_field, safetensors_bytes


class _Reduce:
    """Pickles as a call of `func(*args)`; never unpickled here."""

    def __init__(self, func: object, args: tuple[object, ...]) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return self.func, self.args


def test_zero_byte_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "m.pt").write_bytes(b"")
    assert inspect_path(tmp_path / "m.pt").refused == "empty file (0 bytes)"


def test_safetensors_header_claiming_100_gb() -> None:
    start = time.perf_counter()
    f = inspect_path(HOSTILE / "lying-header.safetensors")
    assert time.perf_counter() - start < 0.5
    assert f.format == "safetensors" and f.refused is None
    assert f.damage and "claims 107374182400 bytes" in f.damage and not f.complete


def test_safetensors_over_the_header_cap(tmp_path: Path) -> None:
    path = tmp_path / "big-header.safetensors"
    with path.open("wb") as fh:
        fh.write(struct.pack("<Q", 200 << 20) + b"{")
        fh.truncate(8 + (200 << 20) + 10)  # sparse: the header length is not a lie
    f = inspect_path(path)
    assert any("exceeds the 100 MiB cap" in w for w in f.warnings)


def test_truncated_safetensors_data() -> None:
    f = inspect_path(HOSTILE / "truncated.safetensors")
    assert f.metadata["parameters"] == 1_000_000  # what the header said is kept
    assert f.damage and "truncated" in f.damage and not f.complete


def test_gguf_array_claiming_2_pow_60_items() -> None:
    f = inspect_path(HOSTILE / "huge-array.gguf")
    assert f.format == "gguf"
    assert f.damage and "claims 1152921504606846976 items" in f.damage and "lying" in f.damage


def test_gguf_tensor_count_beyond_file(tmp_path: Path) -> None:
    path = tmp_path / "m.gguf"
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 1 << 40, 0))
    f = inspect_path(path)
    assert f.damage and "tensor count claims" in f.damage


def test_gguf_long_string_is_cut(tmp_path: Path) -> None:
    body = gguf_string("general.name") + struct.pack("<I", 8) + gguf_string("N" * 50_000)
    path = tmp_path / "m.gguf"
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + body)
    f = inspect_path(path)
    assert len(f.metadata["name"]) < 1100 and "truncated" in f.metadata["name"]


def test_pickle_importing_os_system_is_named() -> None:
    f = inspect_path(HOSTILE / "os-system.pkl")
    assert f.refused is None and f.format == "pickle"
    unsafe = f.metadata["unsafe_imports"]
    assert unsafe in (["posix.system"], ["os.system"], ["nt.system"])
    assert any("outside the allow-list" in w and unsafe[0] in w for w in f.warnings)


def test_pickle_eval_via_stack_global_and_memo(tmp_path: Path) -> None:
    path = tmp_path / "m.pkl"
    path.write_bytes(pickle.dumps({"model": _Reduce(eval, ("1+1",))}, protocol=4))
    f = inspect_path(path)
    assert f.metadata["unsafe_imports"] == ["builtins.eval"]


def test_protocol_0_global(tmp_path: Path) -> None:
    path = tmp_path / "m.pkl"
    path.write_bytes(pickle.dumps(_Reduce(os.system, ("true",)), protocol=0))
    f = inspect_path(path)
    assert f.metadata["unsafe_imports"][0].endswith(".system")


def test_torch_zip_with_evil_pickle() -> None:
    f = inspect_path(HOSTILE / "evil-checkpoint.pt")
    assert f.format == "pytorch"
    assert f.metadata["unsafe_imports"][0].endswith(".system")


def test_truncated_pickle_keeps_what_it_found(tmp_path: Path) -> None:
    data = pickle.dumps([_Reduce(os.system, ("x",)), list(range(1000))], protocol=4)
    path = tmp_path / "m.pkl"
    path.write_bytes(data[: len(data) // 2])
    f = inspect_path(path)
    assert f.metadata["unsafe_imports"][0].endswith(".system")
    assert any("outside the allow-list" in w for w in f.warnings)
    assert f.damage and "ends before its STOP opcode" in f.damage


def test_compressed_joblib_is_scanned(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "m.joblib"
    path.write_bytes(gzip.compress(pickle.dumps(_Reduce(eval, ("1",)), protocol=4)))
    f = inspect_path(path)
    assert f.metadata["compressed"] is True
    assert f.metadata["unsafe_imports"] == ["builtins.eval"]


@pytest.mark.parametrize("name", ["bomb.keras", "bomb.pt"])
def test_zip_bombs_are_refused(name: str) -> None:
    start = time.perf_counter()
    f = inspect_path(HOSTILE / name)
    assert time.perf_counter() - start < 0.5
    assert f.refused and f.refused.startswith("zip bomb")


def test_zip_entry_escaping_the_folder() -> None:
    f = inspect_path(HOSTILE / "escape.keras")
    assert f.refused and "escapes the archive folder" in f.refused


def test_truncated_zip(tmp_path: Path) -> None:
    src = tmp_path / "ok.pt"
    with zipfile.ZipFile(src, "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps({}, protocol=2))
    (tmp_path / "cut.pt").write_bytes(src.read_bytes()[:40])
    f = inspect_path(tmp_path / "cut.pt")
    assert f.refused is None and f.format == "zip"
    assert f.damage == "zip archive without its central directory: incomplete"


def test_symlink_outside_root_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.pkl"
    outside.write_bytes(pickle.dumps(1))
    root = tmp_path / "root"
    root.mkdir()
    (root / "link.pkl").symlink_to(outside)
    f = inspect_path(root / "link.pkl", root=root)
    assert f.refused and "outside the watched root" in f.refused
    assert inspect_path(root / "link.pkl").refused is None  # explicit path, no root


def test_symlink_out_of_root_inside_a_bundle(tmp_path: Path) -> None:
    root = tmp_path / "root"
    bundle = root / "m" / "run"
    bundle.mkdir(parents=True)
    (bundle / "config.json").write_text("{}")
    (bundle / "model.safetensors").symlink_to("/etc/hostname")
    f = inspect_path(bundle, root=root)
    assert f.refused and "model.safetensors: symlink leaves the bundle" in f.refused


def test_broken_symlink(tmp_path: Path) -> None:
    (tmp_path / "x.pt").symlink_to(tmp_path / "missing")
    assert (inspect_path(tmp_path / "x.pt").refused or "").startswith("broken symlink")


def test_markup_escapes_and_bidi_kept_as_text_long_strings_cut() -> None:
    f = inspect_path(HOSTILE / "markup-metadata.safetensors")
    md = f.metadata["metadata"]
    assert md["name"] == "[@click=app.quit]Quit[/] [bold red]x[/]"
    assert md["ansi"].startswith("\x1b[31m") and "\u202e" in md["bidi"]
    assert len(md["long"]) < 1100 and md["long"].endswith("[truncated 99000 chars]")
    json.dumps(f.metadata)


def test_wrong_extension_is_noticed() -> None:
    f = inspect_path(HOSTILE / "wrong-extension.onnx")
    assert f.format == "safetensors"
    assert "extension .onnx but content is safetensors" in f.warnings


def test_truncated_onnx() -> None:
    f = inspect_path(HOSTILE / "truncated.onnx")
    assert f.format == "onnx" and f.refused is None
    assert f.damage and "truncated or lying length" in f.damage and not f.complete


def _onnx_with_external(location: str) -> bytes:
    tensor = (
        pb_field(1, 4)
        + pb_field(2, 1)
        + pb_field(8, b"w")
        + pb_field(13, pb_field(1, b"location") + pb_field(2, location.encode()))
        + pb_field(14, 1)
    )
    return pb_field(1, 8) + pb_field(7, pb_field(5, tensor)) + pb_field(8, pb_field(2, 17))


@pytest.mark.parametrize("location", ["../../secret.bin", "/etc/passwd"])
def test_onnx_external_data_outside_folder_is_refused(tmp_path: Path, location: str) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(_onnx_with_external(location))
    f = inspect_path(path)
    assert f.refused and "points outside the model's folder" in f.refused


def test_onnx_external_data_inside_folder(tmp_path: Path) -> None:
    (tmp_path / "m.onnx").write_bytes(_onnx_with_external("weights.bin"))
    (tmp_path / "weights.bin").write_bytes(b"\0" * 16)
    f = inspect_path(tmp_path / "m.onnx")
    assert f.refused is None and f.metadata["external_data"] == ["weights.bin"]
    assert f.metadata["parameters"] == 4


def test_yaml_alias_bomb_in_sidecar(tmp_path: Path) -> None:
    (tmp_path / "m.safetensors").write_bytes(safetensors_bytes({"w": ("F32", [2])}))
    (tmp_path / "hparams.yaml").write_text('a: &a ["x","x"]\nb: &b [*a,*a]\nc: [*b,*b]\n')
    (tmp_path / "metrics.json").write_text('{"auc": NaN, "acc": 0.5, "f": "0.1", "ok": true}')
    f = inspect_path(tmp_path / "m.safetensors")
    assert f.params == {}
    assert any("hparams.yaml" in w and "aliases" in w for w in f.warnings)
    assert f.metrics == {"acc": 0.5}  # NaN, strings and booleans are not metrics


def test_random_bytes_never_raise(tmp_path: Path) -> None:
    import random

    rng = random.Random(7)
    heads = [b"GGUF", b"PK\x03\x04", b"\x80\x04", b"\x08\x08\x12", b"{", b"tree\nversion=", b""]
    for i in range(200):
        path = (
            tmp_path
            / f"f{i}{rng.choice(['.pt', '.onnx', '.gguf', '.safetensors', '.pkl', '.ubj'])}"
        )
        path.write_bytes(rng.choice(heads) + rng.randbytes(rng.randint(1, 300)))
        f = inspect_path(path)
        assert not any(w.startswith("inspector failed") for w in f.warnings), (path, f.warnings)
        json.dumps(f.metadata)


def test_junk_with_an_onnx_name_is_rejected_quickly(tmp_path: Path) -> None:
    """A million one-byte "fields" must not be walked one by one (seen in the watcher)."""
    path = tmp_path / "junk.onnx"
    path.write_bytes(b"\x08\x07" + b"x" * 1_200_000)
    start = time.perf_counter()
    facts = inspect_path(path)
    assert time.perf_counter() - start < 1.0
    assert facts.damage and "not an ONNX model" in facts.damage
