"""Damaged artifacts never ship: scan refuses each damaged kind with its reason; an
explicit register records it as damaged; policy rule `artifact-damaged` keeps it
from approval and from protected stages, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import io
import pickle
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from regtui.catalog.scan import scan
from regtui.errors import PolicyRefused
from tests.unit.helpers import artifact, model_bytes, open_as
from tests.unit.inspect.helpers import pb_field, safetensors_bytes


def _torch_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps({"w": 1}, protocol=2))
        zf.writestr("archive/data/0", b"\1" * 256)
    return buf.getvalue()


_ONNX = pb_field(1, 8) + pb_field(7, pb_field(2, b"g" * 40)) + pb_field(8, pb_field(2, 17))
_LFS = (
    b"version https://git-lfs.github.com/spec/v1\n"
    b"oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
    b"size 1000\n"
)

# kind -> (file name, damaged bytes, words the reason holds)
DAMAGED: dict[str, tuple[str, Callable[[], bytes], str]] = {
    "truncated safetensors": (
        "model.safetensors",
        lambda: safetensors_bytes({"w": ("F32", [64])})[:-7],
        "truncated",
    ),
    "lying safetensors header": (
        "model.safetensors",
        lambda: (1 << 30).to_bytes(8, "little") + b'{"w": {}}',
        "claims 1073741824 bytes",
    ),
    "zip still being written": (
        "model.pt",
        lambda: _torch_zip()[:-30],
        "without its central directory",
    ),
    "truncated onnx": ("model.onnx", lambda: _ONNX[:-5], "protobuf"),
    "truncated pickle": (
        "model.pkl",
        lambda: pickle.dumps({"w": list(range(100))}, protocol=4)[:-3],
        "STOP",
    ),
    "git lfs pointer": ("model.safetensors", lambda: _LFS, "git lfs pull"),
    "html page": ("model.bin", lambda: b"<!doctype html><title>Not Found</title>", "HTML page"),
    "unrecognised": ("model.bin", lambda: b"model 1", "content not recognised"),
}
KINDS = sorted(DAMAGED)


def _write(folder: Path, kind: str) -> Path:
    name, make, _ = DAMAGED[kind]
    path = folder / kind.replace(" ", "-") / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(make())
    return path


@pytest.mark.parametrize("kind", KINDS)
def test_scan_refuses_each_damaged_kind_with_its_reason(
    db_url: str, tmp_path: Path, kind: str
) -> None:
    cat = open_as(db_url, "alice")
    root = tmp_path / "runs"
    path = _write(root, kind)
    sound = artifact(root / "sound", "model.safetensors", "a sound model beside it")
    items = {Path(i.path): i for i in scan(cat, [root])}
    assert items[sound].outcome == "registered"
    refused = items[path]
    assert refused.outcome == "refused" and refused.version is None
    assert refused.detail.startswith("damaged: ") and DAMAGED[kind][2] in refused.detail
    assert [m.name for m in cat.models()] == ["sound"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_registered_damaged_version_can_never_ship(
    db_url: str, tmp_path: Path, kind: str
) -> None:
    alice, bob = open_as(db_url, "alice"), open_as(db_url, "bob")
    v = alice.register(_write(tmp_path, kind), "churn")
    assert v.damage and DAMAGED[kind][2] in v.damage
    assert bob.get("churn:1").damage == v.damage  # recorded, read back
    assert bob.get("churn:1").to_json()["damage"] == v.damage
    with pytest.raises(PolicyRefused) as approve:
        bob.approve("churn:1", "looks fine")
    assert approve.value.rule == "artifact-damaged"
    with pytest.raises(PolicyRefused) as promote:
        bob.promote("churn:1", "production", "ship it")
    assert promote.value.rule == "artifact-damaged"
    assert bob.get("churn:1").approval.status == "pending" and not bob.get("churn:1").stages
    # An unprotected stage may hold it (to try it out); rejecting it is fine.
    bob.promote("churn:1", "scratch")
    bob.demote("churn", "scratch")
    assert bob.reject("churn:1", "truncated upload").approval.status == "rejected"


def test_a_sound_version_of_the_same_model_still_ships(db_url: str, tmp_path: Path) -> None:
    alice, bob = open_as(db_url, "alice"), open_as(db_url, "bob")
    alice.register(_write(tmp_path, "truncated safetensors"), "churn")
    good = tmp_path / "good.safetensors"
    good.write_bytes(model_bytes("the whole model"))
    v2 = alice.register(good, "churn")
    assert v2.damage is None
    bob.approve("churn:2", "holdout ok")
    assert bob.promote("churn:2", "production").to_version == 2
