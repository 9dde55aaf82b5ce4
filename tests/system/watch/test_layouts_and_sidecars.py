"""Which folders become versions (a Trainer's run folder never holds its
checkpoints), scan and watch agreeing on that, and sidecars written after the
model attaching to its version."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from regtui.catalog.scan import scan
from regtui.catalog.service import Catalog
from regtui.hashing import hash_tree, iter_tree
from regtui.inspect.bundles import bundle_files
from regtui.inspect.layouts import units_for
from tests.system.watch.conftest import SETTLE, Harness, wait_for, weights


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def trainer_run(run: Path, steps: tuple[int, ...], final: bool) -> None:
    """What transformers.Trainer leaves: checkpoint-N/ folders, then the final model."""
    for step in steps:
        ck = run / f"checkpoint-{step}"
        write(ck / "config.json", b'{"model_type": "bert"}')
        write(ck / "model.safetensors", weights(f"step {step}"))
        write(ck / "trainer_state.json", json.dumps({"global_step": step}).encode())
    if final:
        write(run / "config.json", b'{"model_type": "bert"}')
        write(run / "model.safetensors", weights("final"))
        write(run / "training_args.bin", b"\x80\x04N.")


# ------------------------------------------------------ the run folder's identity


@pytest.mark.parametrize("steps", [(2,), (2, 4, 6), (10, 20, 30, 40)])
def test_run_folder_hash_and_files_exclude_its_checkpoints(tmp_path: Path, steps) -> None:
    run = tmp_path / "run"
    trainer_run(run, (), final=True)
    alone = hash_tree(run)
    trainer_run(run, steps, final=False)
    assert hash_tree(run) == alone  # checkpoints come and go: the final model is the same
    listed = {rel for rel, _ in iter_tree(run, checkpoints=False)}
    assert listed == {"config.json", "model.safetensors", "training_args.bin"}
    assert {p.name for p in bundle_files(run)} == listed
    # ...while a change to the model itself still changes the hash.
    write(run / "model.safetensors", weights("final, retrained"))
    assert hash_tree(run) != alone


def test_scan_registers_each_checkpoint_and_the_final_model(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    run = root / "bert"
    trainer_run(run, (2, 4, 6), final=True)
    with Catalog(tmp_path / "c.sqlite") as cat:
        items = scan(cat, [root])
        assert sorted(i.outcome for i in items) == ["registered"] * 4
        paths = sorted(v.path for v in cat.versions("bert"))
        assert paths == sorted([str(run), *(str(run / f"checkpoint-{s}") for s in (2, 4, 6))])
        [final] = [v for v in cat.versions("bert") if v.path == str(run)]
        assert final.sha256 == hash_tree(run).sha256
        assert final.size_bytes == sum(
            (run / n).stat().st_size
            for n in ("config.json", "model.safetensors", "training_args.bin")
        )


@pytest.mark.parametrize("outer_bundle", [False, True])
def test_a_file_in_a_checkpoint_is_that_checkpoint_only(tmp_path: Path, outer_bundle: bool) -> None:
    root = tmp_path / "runs"
    run = root / "bert"
    trainer_run(run, (2,), final=outer_bundle)
    ck = run / "checkpoint-2"
    for name in ("model.safetensors", "optimizer.pt", "trainer_state.json"):
        assert units_for(root, ck / name) == [(ck, True)]
    # A checkpoint folder still being made (no weights yet) is nothing yet.
    write(run / "checkpoint-4" / "config.json", b"{}")
    assert units_for(root, run / "checkpoint-4" / "config.json") == []
    if outer_bundle:
        assert units_for(root, run / "model.safetensors") == [(run, True)]


def test_watched_trainer_layout_gives_one_version_per_checkpoint_and_one_final(
    harness: Harness,
) -> None:
    harness.start()
    run = harness.root / "bert"
    for step in (2, 4, 6):
        trainer_run(run, (step,), final=False)
        time.sleep(SETTLE / 3)
    trainer_run(run, (), final=True)
    wait_for(lambda: harness.count("bert") == 4)
    time.sleep(SETTLE * 4)
    paths = [v.path for v in harness.catalog.versions("bert")]
    assert sorted(paths) == sorted([str(run), *(str(run / f"checkpoint-{s}") for s in (2, 4, 6))])
    assert not harness.rec.of("changed", "error")


# -------------------------------------------------------------------- sidecars


def test_sidecar_written_after_the_model_is_logged_onto_its_version(harness: Harness) -> None:
    harness.start()
    run = harness.root / "churn" / "run-1"
    write(run / "model.safetensors", weights("m"))
    wait_for(lambda: harness.count() == 1)
    time.sleep(5)  # the evaluation takes a while
    write(run / "metrics.json", json.dumps({"auc": 0.91, "eval": {"loss": 0.2}}).encode())
    wait_for(lambda: harness.rec.of("logged"))
    [ev] = harness.rec.of("logged")
    assert ev.path == str(run / "metrics.json") and ev.ref == "churn:1"
    assert ev.to_json()["event"] == "logged"
    v = harness.catalog.get("churn:1")
    assert v.metrics == {"auc": 0.91, "eval.loss": 0.2}
    assert set(v.logged) == {"metrics.auc", "metrics.eval.loss"}
    [audit] = [e for e in harness.catalog.audit_events() if e.action == "logged"]
    assert audit.target == "churn:1"
    assert audit.reason == "sidecar metrics.json written after the model"
    assert harness.count() == 1  # a sidecar is never a version


@pytest.mark.parametrize(
    ("name", "body", "expect"),
    [
        ("params.json", {"lr": 0.01}, {"params": {"lr": 0.01}}),
        ("hparams.yaml", "batch: 32\n", {"params": {"batch": 32}}),
        ("eval_results.json", {"eval_f1": 0.8}, {"metrics": {"eval_f1": 0.8}}),
        ("all_results.json", {"train_loss": 1.5}, {"metrics": {"train_loss": 1.5}}),
    ],
)
def test_each_sidecar_kind_attaches(harness: Harness, name: str, body, expect) -> None:
    harness.start()
    run = harness.root / "fraud"
    write(run / "model.safetensors", weights(name))
    wait_for(lambda: harness.count() == 1)
    raw = body if isinstance(body, str) else json.dumps(body)
    write(run / name, raw.encode())
    wait_for(lambda: harness.rec.of("logged"))
    v = harness.catalog.get("fraud:1")
    for kind, values in expect.items():
        assert getattr(v, kind) == values


def test_sidecar_goes_to_the_folders_newest_version_only(harness: Harness) -> None:
    harness.start()
    run = harness.root / "churn"
    write(run / "epoch-1.safetensors", weights("1"))
    wait_for(lambda: harness.count() == 1)
    write(run / "epoch-2.safetensors", weights("2"))
    wait_for(lambda: harness.count() == 2)
    write(run / "metrics.json", b'{"auc": 0.7}')
    wait_for(lambda: harness.rec.of("logged"))
    assert harness.catalog.get("churn:1").metrics == {}
    assert harness.catalog.get("churn:2").metrics == {"auc": 0.7}
    # Rewritten with the same values: nothing new, no event.
    write(run / "metrics.json", b'{"auc": 0.7}')
    time.sleep(SETTLE * 4)
    assert len(harness.rec.of("logged")) == 1


def test_sidecar_before_any_model_attaches_nowhere(harness: Harness) -> None:
    harness.start()
    write(harness.root / "churn" / "metrics.json", b'{"auc": 0.7}')
    time.sleep(SETTLE * 4)
    assert harness.count() == 0 and not harness.rec.of("logged", "error")
    # The model that follows reads it when it is registered.
    write(harness.root / "churn" / "model.safetensors", weights("x"))
    wait_for(lambda: harness.count() == 1)
    assert harness.catalog.get("churn:1").metrics == {"auc": 0.7}


def test_lightning_hparams_written_late_attach_to_the_newest_checkpoint(harness: Harness) -> None:
    """Lightning keeps hparams.yaml and metrics.csv in version_N/, the .ckpt
    files in version_N/checkpoints/."""
    harness.start()
    run = harness.root / "regressor" / "lightning_logs" / "version_0"
    write(run / "checkpoints" / "epoch=0-step=4.ckpt", weights("epoch 0"))
    wait_for(lambda: harness.count() == 1)
    write(run / "hparams.yaml", b"lr: 0.1\nhidden: 4\n")
    wait_for(lambda: harness.rec.of("logged"))
    assert harness.catalog.get("regressor:1").params == {"lr": 0.1, "hidden": 4}
