"""Real training libraries writing into a watched folder, each in its own
process as a training script would (tiny models, random init, nothing
downloaded): every checkpoint exactly one version, the run folder never a
bundle of its checkpoints, an MLflow folder one version once it is whole."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from regtui.hashing import hash_tree
from tests.system.watch.conftest import Harness, wait_for

pytestmark = pytest.mark.frameworks

SETTLE = 1.0  # a loaded machine may stall a checkpoint's writer for a few hundred ms


def needs(*modules: str) -> None:
    """Skip unless the libraries are installed (found, not imported: they are slow)."""
    for m in modules:
        if importlib.util.find_spec(m) is None:
            pytest.skip(f"{m} is not installed")


def run_script(code: str, *args: object, env: dict[str, str] | None = None) -> None:
    out = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **(env or {})},
    )
    assert out.returncode == 0, out.stderr[-3000:]


TRAINER = """
import sys, torch
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments
torch.manual_seed(0)
cfg = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                 intermediate_size=32, max_position_embeddings=32, num_labels=2)
class Data(torch.utils.data.Dataset):
    def __len__(self): return 16
    def __getitem__(self, i):
        g = torch.Generator().manual_seed(i)
        return {"input_ids": torch.randint(0, 50, (8,), generator=g), "labels": torch.tensor(i % 2)}
args = TrainingArguments(output_dir=sys.argv[1], max_steps=6, save_steps=2, eval_strategy="steps",
                         eval_steps=2, logging_steps=2, per_device_train_batch_size=4,
                         report_to=[], use_cpu=True, disable_tqdm=True)
trainer = Trainer(model=BertForSequenceClassification(cfg), args=args,
                  train_dataset=Data(), eval_dataset=Data())
trainer.train()
trainer.save_model()
"""


def test_trainer_run_every_checkpoint_one_version_and_the_final_model_one(
    harness: Harness,
) -> None:
    needs("torch", "transformers", "accelerate")
    harness.start(settle=SETTLE)
    run = harness.root / "bert-run"
    run_script(TRAINER, run)
    expected = {str(run), *(str(run / f"checkpoint-{s}") for s in (2, 4, 6))}
    wait_for(lambda: harness.count("bert-run") >= 4, timeout=60)
    time.sleep(SETTLE * 3)
    versions = harness.catalog.versions("bert-run")
    assert sorted(v.path for v in versions) == sorted(expected)  # each exactly once
    [final] = [v for v in versions if v.path == str(run)]
    assert final.sha256 == hash_tree(run).sha256
    assert not any("checkpoint-" in f["file"] for f in final.metadata.get("files", []))
    for v in versions:
        if v.path != str(run):
            step = int(v.path.rsplit("-", 1)[1])
            assert v.metrics["global_step"] == step and "eval_loss" in v.metrics
    assert not harness.rec.of("changed", "error", "waiting")


LIGHTNING = """
import sys, torch, lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger
torch.manual_seed(0)
class Model(L.LightningModule):
    def __init__(self, lr=0.1):
        super().__init__(); self.save_hyperparameters(); self.net = torch.nn.Linear(3, 1)
    def training_step(self, batch, i):
        x, y = batch
        return torch.nn.functional.mse_loss(self.net(x), y)
    def validation_step(self, batch, i):
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self.net(x), y))
    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)
x = torch.randn(32, 3); y = x.sum(1, keepdim=True)
data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=8)
checkpoints = ModelCheckpoint(filename="{epoch}-{val_loss:.4f}", save_top_k=-1, save_last=True,
                              monitor="val_loss")
trainer = L.Trainer(max_epochs=3, default_root_dir=sys.argv[1], logger=CSVLogger(sys.argv[1]),
                    callbacks=[checkpoints], enable_progress_bar=False,
                    enable_model_summary=False, accelerator="cpu", devices=1)
trainer.fit(Model(), data, data)
"""


def test_lightning_run_every_checkpoint_one_version(harness: Harness) -> None:
    needs("torch", "lightning")
    harness.start(settle=SETTLE)
    run = harness.root / "regressor"
    run_script(LIGHTNING, run)
    ckpts = sorted((run / "lightning_logs" / "version_0" / "checkpoints").glob("epoch=*.ckpt"))
    assert len(ckpts) == 3
    wait_for(lambda: harness.count("regressor") >= 3, timeout=60)
    time.sleep(SETTLE * 3)
    versions = harness.catalog.versions("regressor")
    by_path: dict[str, list[str]] = {}
    for v in versions:
        by_path.setdefault(v.path, []).append(v.sha256)
    for ck in ckpts:
        assert len(by_path.pop(str(ck))) == 1
    # last.ckpt (a copy or a link of the newest checkpoint) adds nothing new
    # beyond the versions of its own rewrites; nothing else becomes a version.
    assert set(by_path) <= {str(ckpts[0].parent / "last.ckpt")}
    assert not harness.rec.of("error", "waiting")


MLFLOW = """
import sys
import numpy as np
import mlflow.sklearn
from sklearn.linear_model import LogisticRegression
X = np.random.RandomState(0).randn(40, 3)
model = LogisticRegression().fit(X, (X[:, 0] > 0).astype(int))
mlflow.sklearn.save_model(model, sys.argv[1])
"""


def test_mlflow_save_model_into_a_watched_folder_is_one_version(
    harness: Harness, tmp_path: Path
) -> None:
    """save_model writes MLmodel, then infers the requirements (seconds, far
    past the settle time), then writes the environment files MLmodel names."""
    needs("mlflow", "sklearn")
    harness.start(settle=0.3, hold=120)
    folder = harness.root / "churn" / "model"
    run_script(
        MLFLOW,
        folder,
        env={
            "MLFLOW_TRACKING_URI": (tmp_path / "mlruns").as_uri(),
            "MLFLOW_REQUIREMENTS_INFERENCE_TIMEOUT": "20",
        },
    )
    wait_for(lambda: harness.count("churn") >= 1, timeout=30)
    time.sleep(0.3 * 4)
    [v] = harness.catalog.versions("churn")
    assert v.path == str(folder) and v.format == "mlflow"
    assert v.sha256 == hash_tree(folder).sha256  # the whole folder, as it ended
    assert not harness.rec.of("changed", "error", "incomplete")
