"""Make sample_models/: small real artifacts written by real libraries, laid out
like training runs (runs/<model>/<date>/...), plus hostile files in hostile/.

Run in its own virtualenv (these libraries are not regtui dependencies):

    python3 -m venv /tmp/samples-venv
    /tmp/samples-venv/bin/pip install torch==2.13.0 scikit-learn xgboost lightgbm \
        onnx safetensors gguf numpy mlflow
    /tmp/samples-venv/bin/python sample_models/make_samples.py

The output is deterministic in content (fixed seeds) but library files embed
timestamps/uuids, so hashes change between runs.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RUNS = HERE / "runs"
HOSTILE = HERE / "hostile"


def write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")


def churn_data(seed: int, n: int = 400) -> tuple[np.ndarray, np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] - x[:, 2] + rng.normal(scale=0.5, size=n) > 0).astype(int)
    names = ["tenure", "monthly_charges", "support_calls", "contract_len", "age", "usage"]
    return x, y, names


def make_xgboost() -> None:
    import xgboost as xgb
    from sklearn.metrics import roc_auc_score

    for i, (day, depth, rounds, eta) in enumerate(
        [("2026-11-18", 3, 20, 0.3), ("2026-11-20", 4, 40, 0.1), ("2026-11-22", 5, 60, 0.05)]
    ):
        x, y, names = churn_data(i)
        dtrain = xgb.DMatrix(x[:300], label=y[:300], feature_names=names)
        params = {"objective": "binary:logistic", "max_depth": depth, "eta": eta, "seed": i}
        booster = xgb.train(params, dtrain, num_boost_round=rounds)
        auc = float(
            roc_auc_score(y[300:], booster.predict(xgb.DMatrix(x[300:], feature_names=names)))
        )
        run = RUNS / "churn-xgb" / day
        run.mkdir(parents=True, exist_ok=True)
        # the last run saves UBJ (XGBoost's default binary format), the others JSON
        booster.save_model(str(run / ("model.ubj" if i == 2 else "model.json")))
        write_json(run / "metrics.json", {"auc": round(auc, 4), "logloss": round(1 - auc, 4) / 2})
        write_json(run / "params.json", {**params, "num_boost_round": rounds})


def make_lightgbm() -> None:
    import lightgbm as lgb

    for i, (day, leaves, lr) in enumerate([("2026-11-19", 15, 0.1), ("2026-11-21", 31, 0.05)]):
        x, y, names = churn_data(10 + i)
        ds = lgb.Dataset(x, label=y, feature_name=names)
        booster = lgb.train(
            {"objective": "binary", "num_leaves": leaves, "learning_rate": lr, "verbose": -1},
            ds,
            num_boost_round=25,
        )
        run = RUNS / "churn-lgbm" / day
        run.mkdir(parents=True, exist_ok=True)
        booster.save_model(str(run / "model.txt"))
        write_json(run / "metrics.json", {"auc": 0.81 + 0.02 * i, "f1": 0.7 + 0.03 * i})
        (run / "hparams.yaml").write_text(
            f"num_leaves: {leaves}\nlearning_rate: {lr}\nboost:\n  rounds: 25\n"
        )


def make_sklearn() -> None:
    import pickle

    import joblib
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    x, y, _ = churn_data(20)
    for day, c in [("2026-11-10", 1.0), ("2026-11-12", 0.1)]:
        run = RUNS / "fraud-logreg" / day
        run.mkdir(parents=True, exist_ok=True)
        model = LogisticRegression(C=c, max_iter=200).fit(x, y)
        with (run / "model.pkl").open("wb") as fh:
            pickle.dump(model, fh, protocol=5)
        write_json(run / "metrics.json", {"accuracy": round(model.score(x, y), 4)})
        write_json(run / "params.json", {"C": c, "penalty": "l2"})
    run = RUNS / "fraud-forest" / "2026-11-15"
    run.mkdir(parents=True, exist_ok=True)
    forest = RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0).fit(x, y)
    joblib.dump(forest, run / "model.joblib")
    write_json(run / "metrics.json", {"accuracy": round(forest.score(x, y), 4)})
    (run / "params.yaml").write_text("n_estimators: 5\nmax_depth: 4\n")


def make_torch() -> None:
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(0)
    for i, (day, hidden) in enumerate([("2026-11-01", 32), ("2026-11-05", 64)]):
        net = torch.nn.Sequential(
            torch.nn.Linear(16, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 4)
        )
        run = RUNS / "vision-mlp" / day
        run.mkdir(parents=True, exist_ok=True)
        torch.save(net.state_dict(), run / "model.pt")
        write_json(run / "metrics.json", {"val_loss": 0.42 - 0.05 * i, "val_acc": 0.88 + 0.02 * i})
        write_json(
            run / "params.json", {"hidden": hidden, "optimizer": {"name": "adam", "lr": 1e-3}}
        )
    run = RUNS / "vision-mlp" / "2026-11-09"
    run.mkdir(parents=True, exist_ok=True)
    net = torch.nn.Sequential(torch.nn.Linear(16, 128), torch.nn.ReLU(), torch.nn.Linear(128, 4))
    save_file(
        {k: v.contiguous() for k, v in net.state_dict().items()},
        run / "model.safetensors",
        metadata={"format": "pt", "epoch": "12"},
    )
    write_json(run / "metrics.json", {"val_loss": 0.3, "val_acc": 0.93})
    # a Lightning-style checkpoint: a zip with a nested dict and an optimizer state
    ck = RUNS / "vision-mlp" / "2026-11-12"
    ck.mkdir(parents=True, exist_ok=True)
    opt = torch.optim.Adam(net.parameters())
    torch.save(
        {"epoch": 3, "state_dict": net.state_dict(), "optimizer": opt.state_dict()},
        ck / "last.ckpt",
    )
    (ck / "hparams.yaml").write_text("hidden: 128\nlr: 0.001\n")


def make_torch_legacy() -> None:
    """The pre-1.6 format: several pickles in a row, then raw storage bytes."""
    import torch

    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Linear(16, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4))
    run = RUNS / "vision-mlp" / "2026-10-28"
    run.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), run / "model.pt", _use_new_zipfile_serialization=False)
    write_json(run / "metrics.json", {"val_loss": 0.5, "val_acc": 0.85})


def make_onnx() -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    for i, (day, hidden) in enumerate([("2026-10-01", 8), ("2026-10-15", 16)]):
        rng = np.random.default_rng(i)
        w1 = numpy_helper.from_array(rng.normal(size=(6, hidden)).astype(np.float32), "w1")
        b1 = numpy_helper.from_array(np.zeros(hidden, dtype=np.float32), "b1")
        w2 = numpy_helper.from_array(rng.normal(size=(hidden, 1)).astype(np.float32), "w2")
        nodes = [
            helper.make_node("MatMul", ["x", "w1"], ["h"]),
            helper.make_node("Add", ["h", "b1"], ["h1"]),
            helper.make_node("Relu", ["h1"], ["h2"]),
            helper.make_node("MatMul", ["h2", "w2"], ["logit"]),
            helper.make_node("Sigmoid", ["logit"], ["prob"]),
        ]
        graph = helper.make_graph(
            nodes,
            "churn_mlp",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 6])],
            [helper.make_tensor_value_info("prob", TensorProto.FLOAT, ["batch", 1])],
            [w1, b1, w2],
        )
        model = helper.make_model(
            graph,
            producer_name="regtui-samples",
            producer_version="1.0",
            opset_imports=[helper.make_opsetid("", 17)],
        )
        model.ir_version = 8
        helper.set_model_props(model, {"author": "sample", "dataset": "churn-2026"})
        onnx.checker.check_model(model)
        run = RUNS / "churn-onnx" / day
        run.mkdir(parents=True, exist_ok=True)
        onnx.save(model, run / "model.onnx")
        write_json(run / "metrics.json", {"auc": 0.78 + 0.03 * i})


def make_gguf() -> None:
    import gguf

    for i, (day, ctx) in enumerate([("2026-09-01", 512), ("2026-09-20", 1024)]):
        run = RUNS / "tiny-llm" / day
        run.mkdir(parents=True, exist_ok=True)
        w = gguf.GGUFWriter(str(run / "model.gguf"), "llama")
        w.add_name(f"tiny-llm-v{i + 1}")
        w.add_context_length(ctx)
        w.add_embedding_length(32)
        w.add_block_count(2)
        w.add_head_count(4)
        w.add_file_type(gguf.LlamaFileType.ALL_F32)
        w.add_token_list([f"tok{j}" for j in range(64)])
        rng = np.random.default_rng(i)
        w.add_tensor("token_embd.weight", rng.normal(size=(64, 32)).astype(np.float32))
        w.add_tensor("output.weight", rng.normal(size=(64, 32)).astype(np.float32))
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        write_json(run / "metrics.json", {"perplexity": 12.5 - i * 1.5})


def make_mlflow() -> None:
    import mlflow.sklearn
    from sklearn.linear_model import LogisticRegression

    x, y, _ = churn_data(30)
    for i, (day, c) in enumerate([("2026-11-02", 1.0), ("2026-11-06", 0.3)]):
        run = RUNS / "credit-mlflow" / day
        if run.exists():
            shutil.rmtree(run)
        run.mkdir(parents=True)
        model = LogisticRegression(C=c, max_iter=200).fit(x, y)
        from mlflow.models import infer_signature

        # MLflow 3 defaults to skops; the second version is a cloudpickle, as older MLflow wrote
        mlflow.sklearn.save_model(
            model,
            str(run / "model"),
            signature=infer_signature(x, model.predict(x)),
            serialization_format="skops" if i == 0 else "cloudpickle",
            pip_requirements=["scikit-learn", "numpy"],
        )
        write_json(run / "metrics.json", {"accuracy": round(model.score(x, y), 4)})
        write_json(run / "params.json", {"C": c})


def make_hf() -> None:
    import torch
    from safetensors.torch import save_file

    base = RUNS / "sentiment-bert" / "2026-11-25"
    if base.exists():
        shutil.rmtree(base)
    base.mkdir(parents=True)
    config = {
        "architectures": ["BertForSequenceClassification"],
        "model_type": "bert",
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "vocab_size": 100,
        "torch_dtype": "float32",
        "transformers_version": "4.57.0",
        "id2label": {"0": "NEGATIVE", "1": "POSITIVE"},
    }

    def weights(seed: int) -> dict[str, torch.Tensor]:
        g = torch.Generator().manual_seed(seed)
        return {
            "bert.embeddings.word_embeddings.weight": torch.randn(100, 32, generator=g),
            "bert.encoder.layer.0.attention.self.query.weight": torch.randn(32, 32, generator=g),
            "classifier.weight": torch.randn(2, 32, generator=g),
            "classifier.bias": torch.zeros(2),
        }

    for folder, seed, step in (
        (base, 3, 300),
        (base / "checkpoint-100", 1, 100),
        (base / "checkpoint-200", 2, 200),
    ):
        folder.mkdir(exist_ok=True)
        write_json(folder / "config.json", config)
        save_file(weights(seed), folder / "model.safetensors", metadata={"format": "pt"})
        log = [
            {"step": s, "eval_accuracy": 0.6 + s / 1000, "eval_loss": 1.0 - s / 1000}
            for s in (100, 200, 300)
            if s <= step
        ]
        write_json(
            folder / "trainer_state.json",
            {
                "best_metric": 0.6 + step / 1000,
                "global_step": step,
                "epoch": step / 100,
                "log_history": log,
            },
        )
    write_json(base / "tokenizer_config.json", {"do_lower_case": True, "model_max_length": 128})
    (base / "vocab.txt").write_text(
        "\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]"] + [f"w{i}" for i in range(96)]) + "\n"
    )
    write_json(base / "special_tokens_map.json", {"cls_token": "[CLS]", "sep_token": "[SEP]"})
    write_json(
        base / "all_results.json", {"eval_accuracy": 0.9, "eval_loss": 0.7, "train_runtime": 12.5}
    )
    (base / "README.md").write_text(
        "---\nlicense: apache-2.0\ntags:\n- text-classification\n- generated_from_trainer\n"
        "datasets:\n- imdb\nmodel-index:\n- name: sentiment-bert\n  results:\n  - task:\n      type: text-classification\n"
        "    dataset:\n      name: imdb\n      type: imdb\n    metrics:\n    - type: accuracy\n      value: 0.9\n"
        "    - type: f1\n      value: 0.88\n---\n\n# sentiment-bert\n\nA tiny BERT for the regtui demo.\n"
    )


# ---------------------------------------------------------------- hostile files


def make_hostile() -> None:
    if HOSTILE.exists():
        shutil.rmtree(HOSTILE)
    HOSTILE.mkdir()
    h = HOSTILE
    # safetensors header claiming 100 GB
    (h / "lying-header.safetensors").write_bytes(struct.pack("<Q", 100 << 30) + b'{"a":')
    # truncated safetensors: a real header, data cut short
    hdr = json.dumps(
        {"w": {"dtype": "F32", "shape": [1000, 1000], "data_offsets": [0, 4_000_000]}}
    ).encode()
    (h / "truncated.safetensors").write_bytes(struct.pack("<Q", len(hdr)) + hdr + b"\0" * 1000)
    (h / "empty.pt").write_bytes(b"")
    # GGUF with an array claiming 2**60 items
    g = bytearray(b"GGUF" + struct.pack("<IQQ", 3, 0, 1))
    key = b"tokenizer.ggml.tokens"
    g += struct.pack("<Q", len(key)) + key + struct.pack("<II", 9, 8) + struct.pack("<Q", 1 << 60)
    (h / "huge-array.gguf").write_bytes(bytes(g))
    # pickle that would call os.system, and one that would call builtins.eval
    import pickle

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    (h / "os-system.pkl").write_bytes(pickle.dumps(Evil(), protocol=4))

    class Evil2:
        def __reduce__(self):
            return (eval, ("__import__('os').getcwd()",))

    (h / "eval.joblib").write_bytes(pickle.dumps(Evil2(), protocol=2))
    # a PyTorch-style zip whose data.pkl runs os.system
    with zipfile.ZipFile(h / "evil-checkpoint.pt", "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps(Evil(), protocol=2))
        zf.writestr("archive/version", "3\n")
    # zip bombs: a .keras and a .pt whose single entry inflates ~1000x
    zeros = b"\0" * (64 << 20)
    for name, entry in (("bomb.keras", "config.json"), ("bomb.pt", "archive/data.pkl")):
        with zipfile.ZipFile(
            h / name, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9
        ) as zf:
            zf.writestr(entry, zeros)
    # zip entry escaping the folder
    with zipfile.ZipFile(h / "escape.keras", "w") as zf:
        zf.writestr("../../etc/evil.json", "{}")
        zf.writestr("config.json", "{}")
    # markup, ANSI escapes, bidi override and a very long string in metadata
    meta = {
        "format": "pt",
        "name": "[@click=app.quit]Quit[/] [bold red]x[/]",
        "ansi": "\x1b[31mred\x1b[0m\x1b]0;title\x07",
        "bidi": "safe\u202etxt.exe",
        "long": "A" * 100_000,
    }
    hdr = json.dumps(
        {"__metadata__": meta, "w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}
    ).encode()
    (h / "markup-metadata.safetensors").write_bytes(struct.pack("<Q", len(hdr)) + hdr + b"\0" * 8)
    # content that lies about its extension: safetensors bytes named .onnx
    (h / "wrong-extension.onnx").write_bytes((h / "markup-metadata.safetensors").read_bytes())
    # truncated ONNX: the first 200 bytes of a real one
    real = next(RUNS.glob("churn-onnx/*/model.onnx"))
    (h / "truncated.onnx").write_bytes(real.read_bytes()[:200])
    # symlink pointing outside the sample tree
    os.symlink("/etc/passwd", h / "outside-link.pkl")


def main() -> None:
    RUNS.mkdir(parents=True, exist_ok=True)
    make_xgboost()
    make_lightgbm()
    make_sklearn()
    make_torch()
    make_torch_legacy()
    make_onnx()
    make_gguf()
    make_mlflow()
    make_hf()
    make_hostile()
    total = sum(p.stat().st_size for p in HERE.rglob("*") if p.is_file() and not p.is_symlink())
    print(f"sample_models: {total / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
