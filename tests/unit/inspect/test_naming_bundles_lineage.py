"""Naming rules shared with the scanner/watcher, bundle detection, sidecars, lineage."""

from __future__ import annotations

from pathlib import Path

import pytest

from regtui.inspect import (
    bundle_root,
    inspect_path,
    is_artifact_candidate,
    is_bundle_dir,
    is_ignored_name,
)
from regtui.inspect.lineage import git_facts
from tests.unit.inspect.helpers import RUNS, safetensors_bytes


@pytest.mark.parametrize(
    "name",
    ["model.pt.tmp", "x.part", "y.partial", "z.lock", "m.pkl~", ".hidden", ".git", "metrics.json",
     "trainer_state.json", "hparams.yaml", "__pycache__"],
)  # fmt: skip
def test_ignored_names(name: str) -> None:
    assert is_ignored_name(name)


@pytest.mark.parametrize("name", ["model.pt", "model.safetensors", "run-1", "model.json"])
def test_not_ignored_names(name: str) -> None:
    assert not is_ignored_name(name)


def test_artifact_candidates_by_extension_or_magic(tmp_path: Path) -> None:
    (tmp_path / "model.onnx").write_bytes(b"")
    (tmp_path / "README.md").write_text("# hi")
    (tmp_path / "tokenizer.json").write_text("{}")
    (tmp_path / "notes.json").write_text('{"a": 1}')
    (tmp_path / "weights").write_bytes(safetensors_bytes({"w": ("F32", [2])}))  # no extension
    (tmp_path / "booster.json").write_text('{ "learner": {}}')
    got = {p.name for p in tmp_path.iterdir() if is_artifact_candidate(p)}
    assert got == {"model.onnx", "weights", "booster.json"}
    assert is_artifact_candidate(RUNS / "churn-lgbm" / "2026-11-19" / "model.txt")


def test_bundle_detection_and_bundle_root() -> None:
    hf = next(RUNS.glob("sentiment-bert/*"))
    mlflow = next(RUNS.glob("credit-mlflow/*/model"))
    assert is_bundle_dir(hf) and is_bundle_dir(mlflow) and is_bundle_dir(hf / "checkpoint-100")
    assert not is_bundle_dir(mlflow.parent) and not is_bundle_dir(RUNS)
    assert bundle_root(hf / "vocab.txt") == hf
    assert bundle_root(hf / "checkpoint-100" / "model.safetensors") == hf / "checkpoint-100"
    assert bundle_root(mlflow / "MLmodel", root=RUNS) == mlflow
    assert bundle_root(next(RUNS.glob("churn-xgb/*/model.json")), root=RUNS) is None


def test_savedmodel_is_a_bundle(tmp_path: Path) -> None:
    (tmp_path / "saved_model.pb").write_bytes(b"\x08\x01")
    (tmp_path / "variables").mkdir()
    (tmp_path / "variables" / "variables.data-00000-of-00001").write_bytes(b"x")
    assert is_bundle_dir(tmp_path)
    assert bundle_root(tmp_path / "variables" / "variables.data-00000-of-00001") == tmp_path


def test_sidecars_trainer_state_and_nested_params(tmp_path: Path) -> None:
    (tmp_path / "m.safetensors").write_bytes(safetensors_bytes({"w": ("F32", [2])}))
    (tmp_path / "params.yaml").write_text("optim:\n  name: adam\n  lr: 0.01\nlayers: [1, 2]\n")
    (tmp_path / "trainer_state.json").write_text(
        '{"best_metric": 0.9, "global_step": 50, "log_history": '
        '[{"eval_f1": 0.5, "step": 10}, {"loss": 1.0}, {"eval_f1": 0.8, "step": 50}]}'
    )
    f = inspect_path(tmp_path / "m.safetensors")
    assert f.params == {"optim.name": "adam", "optim.lr": 0.01, "layers": [1, 2]}
    assert f.metrics == {"best_metric": 0.9, "global_step": 50.0, "eval_f1": 0.8}


def test_lineage_from_git_files_written_by_hand(tmp_path: Path) -> None:
    sha = "a" * 40
    git = tmp_path / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/feature/x\n")
    (git / "packed-refs").write_text(f"# pack-refs\n{sha} refs/heads/feature/x\n")
    # a config that defines a filter: git must not be run at all (it could run commands)
    (git / "config").write_text('[filter "evil"]\n\tclean = touch /tmp/pwned\n')
    run = tmp_path / "runs" / "m" / "r1"
    run.mkdir(parents=True)
    facts = git_facts(run)
    assert facts["git_commit"] == sha and facts["git_branch"] == "feature/x"
    assert facts["git_dirty"] is None
