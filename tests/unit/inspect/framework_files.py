"""Builders for the files ML frameworks write, made by hand (no ML library needed):
torch-style zips, skops and torch.export archives, a Lightning run folder, an
MLflow file store. The layouts copy what the real libraries wrote
(tests/unit/inspect/test_frameworks.py checks the real ones)."""

from __future__ import annotations

import io
import json
import math
import pickle
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.unit.inspect.helpers import safetensors_bytes


def zip_bytes(entries: dict[str, bytes | str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data.encode() if isinstance(data, str) else data)
    return buf.getvalue()


def torch_zip(top: Any, prefix: str = "archive") -> bytes:
    """What torch.save writes, for a pickle of plain data: data.pkl and version."""
    return zip_bytes(
        {f"{prefix}/data.pkl": pickle.dumps(top, protocol=2), f"{prefix}/version": "3\n"}
    )


def lightning_ckpt(epoch: int, global_step: int, version: str = "2.6.6", **extra: Any) -> bytes:
    """A Lightning checkpoint's zip: its data.pkl is a dict with the trainer's counters."""
    return torch_zip(
        {
            "epoch": epoch,
            "global_step": global_step,
            "pytorch-lightning_version": version,
            "state_dict": {},
            "hparams_name": "kwargs",
            **extra,
        }
    )


def cell(value: float | None) -> str:
    """A metrics.csv cell as Lightning's CSV writer leaves it."""
    return "" if value is None else repr(value)


@dataclass
class LightningRun:
    """A Lightning CSVLogger run folder `version_N/` with its checkpoints."""

    folder: Path
    hparams: dict[str, Any]
    val_loss: list[float]  # one per epoch
    steps_per_epoch: int
    checkpoints: dict[Path, tuple[int, int]] = field(default_factory=dict)  # -> (epoch, step)


def lightning_run(
    folder: Path,
    hparams: dict[str, Any],
    val_loss: list[float],
    *,
    steps_per_epoch: int = 3,
    log_every: int = 1,
    naming: str = "default",
    train_values: list[float] | None = None,
) -> LightningRun:
    """Write `folder/{hparams.yaml, metrics.csv, checkpoints/*.ckpt}` as Lightning does:
    training rows every `log_every` steps, a validation row and an epoch row at the
    end of each epoch, one checkpoint per epoch named by `naming`:
    default `epoch=E-step=S`, `metric` adds `-val_loss=V`, `counters` names it
    `model-vE` (only its data.pkl says where it is), `last` adds `last.ckpt`."""
    run = LightningRun(folder, hparams, val_loss, steps_per_epoch)
    (folder / "checkpoints").mkdir(parents=True, exist_ok=True)
    (folder / "hparams.yaml").write_text(yaml.safe_dump(hparams))
    rows = ["epoch,step,train_loss_step,val_loss,train_loss_epoch"]
    values = iter(train_values or [])
    for epoch, loss in enumerate(val_loss):
        for i in range(steps_per_epoch):
            step = epoch * steps_per_epoch + i
            if (step + 1) % log_every == 0:
                rows.append(f"{epoch},{step},{cell(next(values, 0.5))},,")
        last = (epoch + 1) * steps_per_epoch - 1
        rows.append(f"{epoch},{last},,{cell(loss)},")
        rows.append(f"{epoch},{last},,,{cell(float(epoch))}")
        global_step = (epoch + 1) * steps_per_epoch
        name = {
            "default": f"epoch={epoch}-step={global_step}",
            "metric": f"epoch={epoch}-step={global_step}-val_loss={loss:.4f}",
            "counters": f"model-v{epoch}",
            "last": f"epoch={epoch}-step={global_step}",
        }[naming]
        ckpt = folder / "checkpoints" / f"{name}.ckpt"
        ckpt.write_bytes(lightning_ckpt(epoch, global_step))
        run.checkpoints[ckpt] = (epoch, global_step)
    if naming == "last":
        ckpt = folder / "checkpoints" / "last.ckpt"
        epoch = len(val_loss) - 1
        ckpt.write_bytes(lightning_ckpt(epoch, len(val_loss) * steps_per_epoch, last=True))
        run.checkpoints[ckpt] = (epoch, len(val_loss) * steps_per_epoch)
    (folder / "metrics.csv").write_text("\n".join(rows) + "\n")
    return run


def hf_checkpoint(folder: Path, step: int, log_history: list[dict[str, Any]], **state: Any) -> Path:
    """A Trainer `checkpoint-N/` folder: config, weights and trainer_state.json."""
    ckpt = folder / f"checkpoint-{step}"
    ckpt.mkdir(parents=True, exist_ok=True)
    (ckpt / "config.json").write_text(json.dumps({"model_type": "bert"}))
    (ckpt / "model.safetensors").write_bytes(
        safetensors_bytes({"w": ("U8", [4])}, {"step": str(step)})
    )
    doc = {"global_step": step, "epoch": step / 10, "log_history": log_history, **state}
    (ckpt / "trainer_state.json").write_text(json.dumps(doc))
    return ckpt


MLMODEL = """\
artifact_path: model
flavors:
  python_function:
    loader_module: mlflow.sklearn
    model_path: model.skops
  sklearn:
    pickled_model: model.skops
    serialization_format: skops
mlflow_version: 3.17.2
model_uuid: 05a61eb67d2e43c581565f61d55f11bf
run_id: {run_id}
"""


def mlflow_store(
    root: Path,
    run_id: str,
    metrics: dict[str, list[tuple[int, float, int]]],
    params: dict[str, str],
    *,
    layout: int = 3,
) -> Path:
    """A local mlruns store with one run and its logged model; the model folder.
    `metrics` maps a name to its (timestamp, value, step) lines, in file order."""
    exp = root / "mlruns" / "0"
    run = exp / run_id
    run.mkdir(parents=True)
    (exp / "meta.yaml").write_text("experiment_id: '0'\nname: Default\n")
    (run / "meta.yaml").write_text(f"run_id: {run_id}\nexperiment_id: '0'\n")
    for name, lines in metrics.items():
        path = run / "metrics" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{ts} {value!r} {step}\n" for ts, value, step in lines))
    for name, value in params.items():
        path = run / "params" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value)
    if layout == 2:
        model = run / "artifacts" / "model"
    else:
        model = exp / "models" / "m-9ad9d796c41f442c861300ada1c5c11c" / "artifacts"
    model.mkdir(parents=True)
    (model / "MLmodel").write_text(MLMODEL.format(run_id=run_id))
    (model / "model.skops").write_bytes(skops_bytes(skops_schema()))
    (model / "requirements.txt").write_text("scikit-learn==1.9.1\n")
    return model


def latest(lines: list[tuple[int, float, int]]) -> float | None:
    """MLflow's latest value: highest step, then latest timestamp; finite only."""
    finite = [line for line in lines if math.isfinite(line[1])]
    return max(finite, key=lambda t: (t[2], t[0]))[1] if finite else None


def node(module: str, cls: str, loader: str = "ObjectNode", **extra: Any) -> dict[str, Any]:
    return {"__module__": module, "__class__": cls, "__loader__": loader, **extra}


def json_node(value: Any) -> dict[str, Any]:
    return node("builtins", "str", "JsonNode", content=json.dumps(value), is_json=True)


def skops_schema(
    params: dict[str, Any] | None = None, extra: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The schema skops writes for a LogisticRegression, with `extra` nodes in it."""
    content = {k: json_node(v) for k, v in (params or {"C": 0.5, "solver": "lbfgs"}).items()}
    content["coef_"] = node("numpy", "ndarray", "NdArrayNode", type="numpy", file="1.npy")
    for i, n in enumerate(extra or []):
        content[f"extra_{i}_"] = n
    return node(
        "sklearn.linear_model._logistic",
        "LogisticRegression",
        content=node("builtins", "dict", "DictNode", content=content),
        protocol=2,
        _skops_version="0.16.0",
    )


def skops_bytes(schema: Any) -> bytes:
    return zip_bytes({"schema.json": json.dumps(schema), "1.npy": b"\x93NUMPY"})


def pt2_bytes(
    *,
    name: str = "m",
    program: Any = None,
    weights: dict[str, dict[str, Any]] | None = None,
    files: dict[str, bytes | str] | None = None,
) -> bytes:
    """A torch.export archive as torch 2.13 writes it (see test_frameworks for a real one)."""
    program = (
        program
        if program is not None
        else {
            "graph_module": {
                "graph": {"nodes": [{"target": "torch.ops.aten.linear.default"}]},
                "signature": {
                    "input_specs": [{"parameter": {}}, {"user_input": {}}],
                    "output_specs": [{"user_output": {}}],
                },
                "metadata": {},
            },
            "schema_version": {"major": 8, "minor": 20},
            "torch_version": "2.13.0+cpu",
        }
    )
    config = (
        weights
        if weights is not None
        else {
            "l.weight": {
                "path_name": "weight_0",
                "use_pickle": False,
                "tensor_meta": {"sizes": [{"as_int": 2}, {"as_int": 4}]},
            }
        }
    )
    entries: dict[str, bytes | str] = {
        f"{name}/archive_format": "pt2",
        f"{name}/archive_version": "0",
        f"{name}/models/model.json": program if isinstance(program, str) else json.dumps(program),
        f"{name}/data/weights/model_weights_config.json": json.dumps({"config": config}),
        f"{name}/data/weights/weight_0": b"\0" * 32,
        f"{name}/data/constants/model_constants_config.json": json.dumps({"config": {}}),
        f"{name}/byteorder": "little",
    }
    entries.update(files or {})
    return zip_bytes(entries)
