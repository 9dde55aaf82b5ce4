"""The inspectors' shortcuts must answer exactly as the long way round."""

from __future__ import annotations

import json
from pathlib import Path

from regtui.inspect import inspect_path
from regtui.inspect.detect import HEAD_BYTES
from regtui.inspect.safetensors import read_header
from tests.unit.inspect.helpers import safetensors_bytes


def _model(folder: Path, name: str, seed: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_bytes(safetensors_bytes({"w": ("U8", [4 + seed])}, {"seed": str(seed)}))
    return p


def test_a_sidecar_written_after_the_first_file_of_a_folder_counts(tmp_path: Path) -> None:
    # The watcher registers a run folder's files over time: a metrics file that
    # appears between two checkpoints must show up on the second one.
    run = tmp_path / "root" / "churn"
    first = inspect_path(_model(run, "a.safetensors"), root=tmp_path / "root")
    assert first.metrics == {}
    (run / "metrics.json").write_text(json.dumps({"auc": 0.9}))
    (run / "params.yaml").write_text("lr: 0.1\n")
    second = inspect_path(_model(run, "b.safetensors", 1), root=tmp_path / "root")
    assert second.metrics == {"auc": 0.9}
    assert second.params == {"lr": 0.1}
    (run / "metrics.json").unlink()
    assert inspect_path(run / "b.safetensors").metrics == {}


def test_sidecars_that_are_links_or_folders_are_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps({"auc": 0.5}))
    run = tmp_path / "run"
    p = _model(run, "m.safetensors")
    (run / "metrics.json").symlink_to(outside)
    (run / "eval_results.json").mkdir()
    assert inspect_path(p).metrics == {}


def test_a_path_through_a_linked_folder_out_of_the_root_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    _model(outside, "m.safetensors")
    root = tmp_path / "root"
    root.mkdir()
    (root / "run").symlink_to(outside, target_is_directory=True)
    f = inspect_path(root / "run" / "m.safetensors", root=root)
    assert f.refused and "outside the watched root" in f.refused
    # Spelled with `..` out of the root: refused too.
    f = inspect_path(root / ".." / "outside" / "m.safetensors", root=root)
    assert f.refused and "outside the watched root" in f.refused


def test_a_linked_folder_that_stays_inside_the_root_is_fine(tmp_path: Path) -> None:
    root = tmp_path / "root"
    _model(root / "real", "m.safetensors")
    (root / "alias").symlink_to(root / "real", target_is_directory=True)
    assert inspect_path(root / "alias" / "m.safetensors", root=root).refused is None
    # A root that is itself a link: what is under it is inside.
    (tmp_path / "root-link").symlink_to(root, target_is_directory=True)
    link_root = tmp_path / "root-link"
    assert inspect_path(link_root / "real" / "m.safetensors", root=link_root).refused is None


def test_safetensors_header_from_the_head_bytes_matches_the_file(tmp_path: Path) -> None:
    for n_tensors in (1, 200):  # a header inside the first bytes read, and one past them
        tensors = {f"layer.{i}.weight": ("F32", [2, 3]) for i in range(n_tensors)}
        p = tmp_path / f"m{n_tensors}.safetensors"
        p.write_bytes(safetensors_bytes(tensors, {"format": "pt"}))
        data = p.read_bytes()
        assert (len(data) > HEAD_BYTES) == (n_tensors == 200)
        from_file = read_header(p)
        assert read_header(p, data[:HEAD_BYTES], len(data)) == from_file
        assert inspect_path(p).metadata["tensors"] == n_tensors


def test_a_lying_safetensors_length_takes_the_checked_path(tmp_path: Path) -> None:
    p = tmp_path / "lie.safetensors"
    good = safetensors_bytes({"w": ("U8", [4])})
    p.write_bytes((10**6).to_bytes(8, "little") + good[8:])
    f = inspect_path(p)
    assert f.damage and "claims 1000000 bytes" in f.damage
