"""Real libraries write the files; `scan` must make each artifact exactly one version
carrying the metrics and params its run wrote. Tiny models with random init,
nothing downloaded. Needs the `frameworks` extra (`pip install -e '.[frameworks]'`);
each test skips when its library is missing."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import pytest

from regtui.catalog.scan import scan
from regtui.catalog.service import Catalog
from regtui.inspect import inspect_path

pytestmark = pytest.mark.frameworks

# Set before any framework is imported: nothing may be fetched from a hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")  # the local mlruns layout


def _catalog(tmp_path: Path) -> Catalog:
    return Catalog(str(tmp_path / "catalog.sqlite"))


def _by_path(cat: Catalog, model: str) -> dict[Path, Any]:
    return {Path(v.path): v for v in cat.versions(model)}


def test_lightning_run_each_checkpoint_one_version_with_hparams_and_its_epoch(
    tmp_path: Path,
) -> None:
    torch = pytest.importorskip("torch")
    pl = pytest.importorskip("pytorch_lightning")
    from pytorch_lightning.callbacks import ModelCheckpoint
    from pytorch_lightning.loggers import CSVLogger
    from torch.nn import functional as F
    from torch.utils.data import DataLoader, TensorDataset

    class Tiny(pl.LightningModule):
        def __init__(self, lr: float = 0.05, hidden: int = 4) -> None:
            super().__init__()
            self.save_hyperparameters()
            self.layer = torch.nn.Linear(4, 1)

        def training_step(self, batch: Any, _i: int) -> Any:
            x, y = batch
            loss = F.mse_loss(self.layer(x), y)
            self.log("train_loss", loss, on_step=True, on_epoch=True)
            return loss

        def validation_step(self, batch: Any, _i: int) -> None:
            x, y = batch
            self.log("val_loss", F.mse_loss(self.layer(x), y))

        def configure_optimizers(self) -> Any:
            return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)

    torch.manual_seed(0)
    data = TensorDataset(torch.randn(40, 4), torch.randn(40, 1))
    root = tmp_path / "runs"
    trainer = pl.Trainer(
        max_epochs=3,
        logger=CSVLogger(root / "tiny"),
        callbacks=[ModelCheckpoint(save_top_k=-1, monitor="val_loss")],
        enable_progress_bar=False,
        enable_model_summary=False,
        log_every_n_steps=2,
        accelerator="cpu",
    )
    trainer.fit(Tiny(), DataLoader(data, batch_size=4), DataLoader(data, batch_size=8))

    version = root / "tiny" / "lightning_logs" / "version_0"
    ckpts = sorted((version / "checkpoints").glob("*.ckpt"))
    assert len(ckpts) == 3
    with (version / "metrics.csv").open() as fh:
        val = {int(r["epoch"]): float(r["val_loss"]) for r in csv.DictReader(fh) if r["val_loss"]}

    cat = _catalog(tmp_path)
    items = scan(cat, [root])
    assert [i.outcome for i in items] == ["registered"] * 3
    versions = _by_path(cat, "tiny")
    assert set(versions) == set(ckpts)
    for path, v in versions.items():
        epoch = int(v.metrics["epoch"])
        assert path.name.startswith(f"epoch={epoch}-step={(epoch + 1) * 10}")
        assert v.params == {"lr": 0.05, "hidden": 4}
        assert v.metrics["val_loss"] == val[epoch]
        assert v.metrics["step"] == (epoch + 1) * 10
        assert v.metadata["lightning"]["global_step"] == (epoch + 1) * 10
    assert [i.outcome for i in scan(cat, [root])] == ["exists"] * 3


def test_trainer_run_each_checkpoint_carries_the_eval_metrics_of_its_step(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("accelerate")

    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=50, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=16, max_position_embeddings=16, num_labels=2,
    )  # fmt: skip
    model = transformers.BertForSequenceClassification(config)

    class Data(torch.utils.data.Dataset):  # input_ids fed directly: no tokenizer
        def __init__(self, n: int) -> None:
            g = torch.Generator().manual_seed(n)
            self.x = torch.randint(0, 50, (n, 8), generator=g)
            self.y = torch.randint(0, 2, (n,), generator=g)

        def __len__(self) -> int:
            return len(self.x)

        def __getitem__(self, i: int) -> dict[str, Any]:
            return {"input_ids": self.x[i], "labels": self.y[i]}

    out = tmp_path / "runs" / "bert"
    args = transformers.TrainingArguments(
        output_dir=str(out), max_steps=6, per_device_train_batch_size=4, save_steps=2,
        eval_strategy="steps", eval_steps=2, logging_steps=1, report_to=[], use_cpu=True,
        disable_tqdm=True,
    )  # fmt: skip
    trainer = transformers.Trainer(
        model=model, args=args, train_dataset=Data(24), eval_dataset=Data(8)
    )
    trainer.train()
    evals = {h["step"]: h["eval_loss"] for h in trainer.state.log_history if "eval_loss" in h}
    assert sorted(evals) == [2, 4, 6]

    cat = _catalog(tmp_path)
    scan(cat, [tmp_path / "runs"])
    versions = _by_path(cat, "bert")
    for step in (2, 4, 6):
        v = versions[out / f"checkpoint-{step}"]
        assert v.format == "huggingface"
        assert v.metrics["eval_loss"] == evals[step]
        assert v.metrics["global_step"] == step
    assert all(v.metrics["eval_loss"] in evals.values() for v in versions.values())


def test_mlflow_saved_and_logged_models_with_their_runs_metrics(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    mlflow = pytest.importorskip("mlflow")
    sklearn_flavor = pytest.importorskip("mlflow.sklearn")
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x = rng.random((20, 3))
    clf = LogisticRegression(C=0.5).fit(x, (x[:, 0] > 0.5).astype(int))
    root = tmp_path / "runs"
    # Requirements given: inferring them starts a Python that imports everything (slow).
    needs = ["scikit-learn"]
    sklearn_flavor.save_model(clf, str(root / "saved" / "model"), pip_requirements=needs)
    mlflow.set_tracking_uri((root / "tracked" / "mlruns").as_uri())
    with mlflow.start_run():
        mlflow.log_param("C", 0.5)
        for step, acc in enumerate([0.7, 0.8, 0.9]):
            mlflow.log_metric("acc", acc, step=step)
        sklearn_flavor.log_model(clf, name="model", pip_requirements=needs)

    cat = _catalog(tmp_path)
    items = scan(cat, [root])
    assert sorted((i.model, i.outcome) for i in items) == [
        ("saved", "registered"),
        ("tracked", "registered"),
    ]
    (saved,) = cat.versions("saved")
    (logged,) = cat.versions("tracked")
    assert saved.format == logged.format == "mlflow"
    assert logged.metrics == {"acc": 0.9} and logged.params == {"C": "0.5"}
    assert saved.metrics == {}


def test_torch_export_archive(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer = torch.nn.Linear(4, 2)

        def forward(self, x: Any) -> Any:
            return torch.relu(self.layer(x))

    program = torch.export.export(Net(), (torch.randn(3, 4),))
    path = tmp_path / "net.pt2"
    torch.export.save(program, str(path))
    facts = inspect_path(path)
    assert (facts.format, facts.framework) == ("pytorch-export", "torch")
    assert facts.metadata["archive_format"] == "pt2"
    assert facts.metadata["parameters"] == 10
    (model,) = facts.metadata["models"]
    assert model["torch_version"] == torch.__version__
    assert "torch.ops.aten.relu.default" in model["operators"]
    assert facts.damage is None
    assert "unsafe_imports" not in facts.metadata  # its sample inputs are plain tensors


def _double(x: Any) -> Any:
    return x * 2


def test_skops_files_safe_and_untrusted(tmp_path: Path) -> None:
    sio = pytest.importorskip("skops.io")
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    x = np.random.default_rng(0).random((20, 3))
    y = (x[:, 0] > 0.5).astype(int)
    safe = make_pipeline(StandardScaler(), LogisticRegression(C=2.0)).fit(x, y)
    sio.dump(safe, tmp_path / "safe.skops")
    facts = inspect_path(tmp_path / "safe.skops")
    assert (facts.format, facts.framework) == ("skops", "sklearn")
    assert facts.metadata["object"] == "sklearn.pipeline.Pipeline"
    assert "sklearn.linear_model._logistic.LogisticRegression" in facts.metadata["types"]
    assert "untrusted_types" not in facts.metadata
    assert sio.get_untrusted_types(file=tmp_path / "safe.skops") == []

    custom = make_pipeline(FunctionTransformer(_double), LogisticRegression()).fit(x, y)
    sio.dump(custom, tmp_path / "custom.skops")
    facts = inspect_path(tmp_path / "custom.skops")
    theirs = set(sio.get_untrusted_types(file=tmp_path / "custom.skops"))
    assert theirs and theirs <= set(facts.metadata["untrusted_types"])
    assert any("outside the safe list" in w for w in facts.warnings)


def test_keras_checkpoints_get_the_runs_history_and_csv_log(tmp_path: Path) -> None:
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("keras runs here on the torch backend only")
    import numpy as np

    run = tmp_path / "runs" / "clf"
    run.mkdir(parents=True)
    x = np.random.default_rng(0).random((32, 4)).astype("float32")
    y = (x[:, 0] > 0.5).astype("float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile("sgd", "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(
        x, y, epochs=3, validation_split=0.25, verbose=0,
        callbacks=[
            keras.callbacks.CSVLogger(str(run / "training.log")),
            keras.callbacks.ModelCheckpoint(str(run / "ckpt" / "model-{epoch:02d}.keras")),
        ],
    )  # fmt: skip
    (run / "history.json").write_text(json.dumps(history.history))

    cat = _catalog(tmp_path)
    items = scan(cat, [tmp_path / "runs"])
    assert [i.outcome for i in items] == ["registered"] * 3
    val = history.history["val_loss"]
    for v in cat.versions("clf"):
        assert v.format == "keras"
        assert v.metrics["val_loss"] == pytest.approx(val[-1])
        assert v.metrics["best_val_loss"] == pytest.approx(min(val))
        assert v.metrics["loss"] == pytest.approx(history.history["loss"][-1])
