"""Review findings 2, 3, 8, 10 and 11: nothing blocks on a FIFO, cut legacy PyTorch
and padded safetensors files are damaged, metric/param names and huge integers are
refused in one line, a sidecar cannot make regtui read (or echo) what it should not."""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regtui.catalog import datasets as data
from regtui.catalog.service import Catalog
from regtui.errors import ArtifactError, UsageError
from regtui.hashing import hash_file, hash_path
from regtui.inspect import inspect_path
from tests.support.hypothesis_runs import examples
from tests.unit.helpers import artifact
from tests.unit.inspect.helpers import safetensors_bytes

GUARD_SECONDS = 30  # far above any honest run: only a hang reaches it


@contextlib.contextmanager
def no_hang(seconds: int = GUARD_SECONDS) -> Iterator[None]:
    """Fail (instead of blocking the suite) if the body hangs, e.g. in open() of a FIFO."""

    def fire(_sig: int, _frame: Any) -> None:
        raise TimeoutError(f"hung for {seconds}s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert text and "\n" not in text and "Traceback" not in text
    return text


# ------------------------------------------------------------------- FIFOs (2)

MODEL_NAMES = ["model.safetensors", "model.pt", "model.onnx", "model.gguf", "model.pkl",
               "model.joblib", "model.keras", "model.bin", "model.json", "saved.zip"]  # fmt: skip


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_a_fifo_named_as_a_model_is_refused_without_blocking(tmp_path: Path, name: str) -> None:
    fifo = tmp_path / name
    os.mkfifo(fifo)
    with no_hang():
        facts = inspect_path(fifo, root=tmp_path)
        with pytest.raises(ArtifactError) as err:
            hash_file(fifo)
        with pytest.raises(ArtifactError) as err2:
            Catalog(tmp_path / "c.sqlite").register(fifo, "m")
    assert facts.refused and "FIFO" in facts.refused
    assert "FIFO" in one_line(err.value) and "FIFO" in one_line(err2.value)


# Where a FIFO can sit inside a Hugging Face bundle: a sidecar the inspector reads,
# a weights file it inspects, a file only the hasher reads, a nested one.
BUNDLE_SPOTS = ["tokenizer.json", "model.safetensors", "extra/notes.txt", "README.md",
                "generation_config.json", "sub/deeper/p"]  # fmt: skip


@pytest.mark.parametrize("spot", BUNDLE_SPOTS)
def test_a_fifo_inside_a_bundle_refuses_the_bundle(tmp_path: Path, spot: str) -> None:
    bundle = tmp_path / "hf"
    artifact(bundle, "config.json", json.dumps({"model_type": "bert"}))
    if spot != "model.safetensors":
        artifact(bundle, "model.safetensors", "weights")
    (bundle / spot).parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(bundle / spot)
    cat = Catalog(tmp_path / "c.sqlite")
    with no_hang(), pytest.raises(ArtifactError) as err:
        cat.register(bundle, "hf")
    assert "FIFO" in one_line(err.value)
    assert cat.versions() == []
    with no_hang(), pytest.raises(ArtifactError):
        hash_path(bundle)


@pytest.mark.parametrize("in_folder", [False, True])
def test_a_fifo_given_as_a_dataset_is_refused(tmp_path: Path, in_folder: bool) -> None:
    model = artifact(tmp_path, "run/model.safetensors", "m")
    target = tmp_path / "data"
    if in_folder:
        artifact(target, "ok.csv", "a\n1\n")
        os.mkfifo(target / "p")
    else:
        os.mkfifo(target)
    cat = Catalog(tmp_path / "c.sqlite")
    with no_hang(), pytest.raises(ArtifactError) as err:
        cat.register(model, "m", datasets=[target])
    assert "FIFO" in one_line(err.value)
    assert cat.versions() == []


@pytest.mark.parametrize(
    ("sidecar", "named"),
    [
        ("datasets.json", ["data"]),  # a folder holding a FIFO
        ("datasets.json", ["data/p"]),  # the FIFO itself
        ("datasets.json", {"train": "data/p"}),
        ("data.yaml", None),
    ],
)
@pytest.mark.parametrize("with_root", [False, True])
def test_a_fifo_named_by_a_sidecar_is_a_warning_and_the_model_registers(
    tmp_path: Path, sidecar: str, named: Any, with_root: bool
) -> None:
    run = tmp_path / "run"
    model = artifact(run, "model.safetensors", "m")
    (run / "data").mkdir()
    os.mkfifo(run / "data" / "p")
    text = "train: data/p\n" if named is None else json.dumps(named)
    (run / sidecar).write_text(text)
    cat = Catalog(tmp_path / "c.sqlite")
    with no_hang():
        v = cat.register(model, "m", root=tmp_path if with_root else None)
    # A folder holding one is refused with a warning; the FIFO itself is kept by
    # path and never opened. Either way the model registers and nothing is hashed.
    assert any("FIFO" in w for w in v.warnings) or [d["kind"] for d in v.datasets] == ["path"]
    assert all("sha256" not in d for d in v.datasets)


@pytest.mark.parametrize("sidecar", ["metrics.json", "params.json", "datasets.json",
                                     "data.yaml", "MLmodel", "README.md"])  # fmt: skip
def test_a_fifo_as_a_sidecar_never_blocks(tmp_path: Path, sidecar: str) -> None:
    model = artifact(tmp_path, "model.safetensors", "m")
    os.mkfifo(tmp_path / sidecar)
    with no_hang():
        facts = inspect_path(model, root=tmp_path)
        Catalog(tmp_path / "c.sqlite").register(model, "m", root=tmp_path)
    assert facts.refused is None


@pytest.mark.parametrize("where", ["file", "in-folder"])
def test_keeping_a_copy_refuses_a_fifo_put_in_the_artifacts_place(
    tmp_path: Path, where: str
) -> None:
    from regtui.catalog import store

    src = artifact(tmp_path / "run", "model.safetensors", "m")
    if where == "file":
        sha = hash_path(src).sha256
        src.unlink()
        os.mkfifo(src)
    else:
        src = src.parent
        sha = hash_path(src).sha256
        os.mkfifo(src / "late")
    with no_hang(), pytest.raises(ArtifactError) as err:
        store.keep("m", sha, tmp_path / "store", [src])
    assert "FIFO" in one_line(err.value)
    assert not any((tmp_path / "store").rglob("*.safetensors"))


# --------------------------------------------------------- legacy PyTorch (3)


def _legacy_file(tmp_path: Path) -> bytes:
    torch = pytest.importorskip("torch")
    state = {
        "w": torch.arange(12, dtype=torch.float32).reshape(3, 4),
        "ids": torch.ones(5, dtype=torch.int64),
        "h": torch.zeros(3, dtype=torch.bfloat16),
        "flag": torch.tensor([True, False]),
        "view": torch.arange(10.0, dtype=torch.float64)[2:7],
        "step": 7,
    }
    path = tmp_path / "whole.pt"
    torch.save(state, path, _use_new_zipfile_serialization=False)
    return path.read_bytes()


@pytest.mark.frameworks
def test_every_cut_of_a_legacy_checkpoint_is_damaged(tmp_path: Path) -> None:
    whole = _legacy_file(tmp_path)
    path = tmp_path / "cut.pt"
    path.write_bytes(whole)
    facts = inspect_path(path)
    assert facts.format == "pytorch-legacy" and facts.damage is None and facts.complete
    for cut in range(1, len(whole)):
        path.write_bytes(whole[:cut])
        facts = inspect_path(path)
        assert not facts.complete, cut
        assert facts.damage or facts.refused, cut


@pytest.mark.frameworks
@pytest.mark.parametrize("extra", [1, 7, 100])
def test_a_legacy_checkpoint_with_trailing_bytes_is_not_proven_complete(
    tmp_path: Path, extra: int
) -> None:
    path = tmp_path / "pad.pt"
    path.write_bytes(_legacy_file(tmp_path) + b"\0" * extra)
    facts = inspect_path(path)
    assert facts.damage is None and not facts.complete
    assert any(f"{extra} bytes after" in w for w in facts.warnings)


@pytest.mark.frameworks
def test_a_cut_legacy_checkpoint_is_gated_like_any_damaged_version(tmp_path: Path) -> None:
    whole = _legacy_file(tmp_path)
    cat = Catalog(tmp_path / "c.sqlite")
    for name, cut in (("half", len(whole) // 2), ("end", len(whole) - 100), ("magic", 15)):
        artifact(tmp_path / name, "m.pt", b"")
        (tmp_path / name / "m.pt").write_bytes(whole[:cut])
        v = cat.register(tmp_path / name / "m.pt", name)
        assert v.damage, name


# ------------------------------------------------------------ safetensors (8)


@settings(max_examples=examples(40), deadline=None)
@given(extra=st.binary(min_size=1, max_size=64))
def test_safetensors_with_bytes_past_its_data_is_damaged(
    tmp_path_factory: Any, extra: bytes
) -> None:
    path = tmp_path_factory.mktemp("st") / "extra.safetensors"
    path.write_bytes(safetensors_bytes({"a": ("F32", [3]), "b": ("U8", [5])}) + extra)
    facts = inspect_path(path)
    assert facts.damage and "past the data" in facts.damage and not facts.complete


def _raw_safetensors(header: dict[str, Any], data_len: int) -> bytes:
    raw = json.dumps(header).encode()
    return len(raw).to_bytes(8, "little") + raw + b"\0" * data_len


@pytest.mark.parametrize(
    "offsets",
    [
        [[4, 16], [16, 21]],  # a gap before the first tensor
        [[0, 12], [14, 19]],  # a gap between tensors
        [[0, 12], [8, 13]],  # overlapping tensors
    ],
)
def test_safetensors_whose_tensors_do_not_tile_the_data_is_damaged(
    tmp_path: Path, offsets: list[list[int]]
) -> None:
    header = {
        "a": {"dtype": "F32", "shape": [3], "data_offsets": offsets[0]},
        "b": {"dtype": "U8", "shape": [5], "data_offsets": offsets[1]},
    }
    path = tmp_path / "gap.safetensors"
    path.write_bytes(_raw_safetensors(header, max(o[1] for o in offsets)))
    facts = inspect_path(path)
    assert facts.damage and not facts.complete


def test_sound_safetensors_stay_sound(tmp_path: Path) -> None:
    for tensors in ({"a": ("F32", [3])}, {"a": ("F32", [0]), "b": ("I64", [2, 2])}, {}):
        path = tmp_path / "ok.safetensors"
        path.write_bytes(safetensors_bytes(tensors))
        facts = inspect_path(path)
        assert facts.damage is None and facts.complete, tensors


@pytest.mark.frameworks
def test_the_safetensors_library_agrees(tmp_path: Path) -> None:
    load = pytest.importorskip("safetensors").safe_open
    good = safetensors_bytes({"a": ("F32", [3]), "b": ("U8", [5])})
    for blob in (good, good + b"x"):
        path = tmp_path / "lib.safetensors"
        path.write_bytes(blob)
        try:
            with load(str(path), framework="numpy"):
                loads = True
        except Exception:
            loads = False
        assert loads == (inspect_path(path).damage is None)


# ----------------------------------------------------------- metric keys (10)


def _registered(tmp_path: Path) -> Catalog:
    cat = Catalog(tmp_path / "c.sqlite")
    cat.register(artifact(tmp_path, "m.safetensors", "m"), "m")
    return cat


@pytest.mark.parametrize("digits", [310, 400, 5000])
def test_an_integer_metric_past_float_range_is_a_usage_error(tmp_path: Path, digits: int) -> None:
    cat = _registered(tmp_path)
    big = 10 ** (digits - 1)
    for call in (
        lambda: cat.log("m:1", metrics={"big": big}),
        lambda: cat.log("m:1", metrics={"big": -big}),
        lambda: cat.register(artifact(tmp_path, "n.safetensors", "n"), "n", metrics={"b": big}),
    ):
        with pytest.raises(UsageError) as err:
            call()
        assert "finite" in one_line(err.value) and len(str(err.value)) < 200


BAD_KEYS = ["", " ", "\t", "k" * 201, "é" * 5000]


@pytest.mark.parametrize("key", BAD_KEYS)
@pytest.mark.parametrize("kind", ["metrics", "params"])
def test_empty_and_overlong_names_are_refused(tmp_path: Path, key: str, kind: str) -> None:
    cat = _registered(tmp_path)
    calls: list[Callable[[], object]] = [
        lambda: cat.log("m:1", **{kind: {key: 1}}),
        lambda: cat.register(artifact(tmp_path, "n.safetensors", "n"), "n", **{kind: {key: 1}}),
    ]
    for call in calls:
        with pytest.raises(UsageError) as err:
            call()
        assert len(one_line(err.value)) < 300
    assert cat.get("m:1").metrics == {} and [v.model for v in cat.versions()] == ["m"]


def test_names_up_to_the_limit_are_kept(tmp_path: Path) -> None:
    cat = _registered(tmp_path)
    v = cat.log("m:1", metrics={"k" * 200: 1, "a": 10**300}, params={"p" * 200: "x"})
    assert v.metrics["k" * 200] == 1 and v.params["p" * 200] == "x"


# ------------------------------------------------------ dataset secrets (11)


@settings(max_examples=examples(30), deadline=None)
@given(
    user=st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True),
    password=st.from_regex(r"[A-Za-z0-9!$%^&*()_+=-]{4,16}", fullmatch=True),
    shape=st.sampled_from(["{u}:{p}@host:/x", "/data/{u}:{p}@host/x", "ssh-{u}:{p}@h:/d"]),
)
def test_a_password_in_a_dataset_spec_is_never_echoed(user: str, password: str, shape: str) -> None:
    spec = shape.format(u=user, p=password)
    with pytest.raises((ArtifactError, UsageError)) as err:
        data.identify(spec)
    assert f"{user}:{password}" not in str(err.value)  # the user may contain the password
    with pytest.raises((ArtifactError, UsageError)) as err:
        data.identify(spec + "\x00")
    assert f"{user}:{password}" not in str(err.value)


def _secret(tmp_path: Path) -> Path:
    return artifact(tmp_path / "outside", "shadow", "root:$6$secret\n")


@pytest.mark.parametrize("spelling", ["absolute", "dotdot", "symlink", "link-folder"])
@pytest.mark.parametrize("with_root", [False, True])
def test_a_sidecar_cannot_make_regtui_read_a_file_outside(
    tmp_path: Path, spelling: str, with_root: bool
) -> None:
    secret = _secret(tmp_path)
    root = tmp_path / "scan"
    run = root / "run"
    model = artifact(run, "model.safetensors", "m")
    if spelling == "absolute":
        named = str(secret)
    elif spelling == "dotdot":
        named = "../../outside/shadow"
    elif spelling == "symlink":
        (run / "data.csv").symlink_to(secret)
        named = "data.csv"
    else:
        (run / "data").symlink_to(secret.parent, target_is_directory=True)
        named = "data/shadow"
    (run / "datasets.json").write_text(json.dumps([named]))
    v = Catalog(tmp_path / "c.sqlite").register(model, "m", root=root if with_root else None)
    [ds] = v.datasets
    assert "sha256" not in ds and "size_bytes" not in ds and ds["kind"] == "path"
    assert ds["unhashed"]


@pytest.mark.parametrize("with_root", [False, True])
def test_data_inside_the_root_or_run_folder_is_still_hashed(
    tmp_path: Path, with_root: bool
) -> None:
    root = tmp_path / "scan"
    run = root / "run"
    model = artifact(run, "model.safetensors", "m")
    artifact(run, "data/train.csv", "a\n1\n")
    artifact(root, "shared/test.csv", "a\n2\n")
    (run / "datasets.json").write_text(
        json.dumps({"train": "data/train.csv", "test": "../shared/test.csv"})
    )
    v = Catalog(tmp_path / "c.sqlite").register(model, "m", root=root if with_root else None)
    by_ctx = {d["context"]: d for d in v.datasets}
    assert by_ctx["training"]["sha256"]
    # The shared file is inside the scanned root, but outside the run folder.
    assert ("sha256" in by_ctx["test"]) == with_root
