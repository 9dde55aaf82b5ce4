"""One test per format, on real files written by real libraries (sample_models/)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from regtui.inspect import inspect_path
from tests.unit.inspect.helpers import RUNS, pb_field


def _one(pattern: str) -> Path:
    found = sorted(RUNS.glob(pattern))
    assert found, pattern
    return found[0]


def test_safetensors_counts_parameters_and_reads_metadata() -> None:
    f = inspect_path(_one("vision-mlp/*/model.safetensors"), root=RUNS)
    assert f.format == "safetensors" and f.framework == "torch"
    # Linear(16,128) + Linear(128,4): 16*128+128 + 128*4+4
    assert f.metadata["parameters"] == 2692
    assert f.metadata["tensors"] == 4
    assert f.metadata["dtypes"] == {"F32": 4}
    assert f.metadata["metadata"]["epoch"] == "12"
    assert f.metrics["val_acc"] == pytest.approx(0.93)


def test_pytorch_zip_checkpoint_storages_tensors_and_imports() -> None:
    f = inspect_path(_one("vision-mlp/2026-11-01/model.pt"), root=RUNS)
    assert f.format == "pytorch" and f.framework == "torch"
    assert f.metadata["tensor_storages"] == 4
    assert f.metadata["parameters"] == 16 * 32 + 32 + 32 * 4 + 4
    assert f.metadata["storage_bytes"] == 4 * f.metadata["parameters"]
    assert "torch._utils._rebuild_tensor_v2" in f.metadata["imports"]
    assert "unsafe_imports" not in f.metadata
    assert any(w.startswith("pickle-based: loading it would import") for w in f.warnings)
    assert f.params["optimizer.lr"] == 0.001  # nested params.json flattened


def test_legacy_torch_pickle_sequence() -> None:
    f = inspect_path(_one("vision-mlp/2026-10-28/model.pt"), root=RUNS)
    assert f.format == "pytorch-legacy" and f.framework == "torch"
    assert f.metadata["tensor_storages"] == 4
    assert f.metadata["parameters"] == f.metadata["storage_elements"] == 16 * 16 + 16 + 16 * 4 + 4
    assert not any(w.startswith("extension") for w in f.warnings)


def test_mlflow_cloudpickle_model_gets_the_pickle_warning() -> None:
    f = inspect_path(_one("credit-mlflow/2026-11-06/model"), root=RUNS)
    assert f.metadata["flavors"]["sklearn"]["serialization_format"] == "cloudpickle"
    assert any(w.startswith("model.pkl: pickle-based") for w in f.warnings)


def test_lightning_style_checkpoint() -> None:
    f = inspect_path(_one("vision-mlp/*/last.ckpt"), root=RUNS)
    assert f.format == "pytorch"
    assert f.metadata["parameters"] == 2692
    assert f.params == {"hidden": 128, "lr": 0.001}


def test_sklearn_pickle_names_its_imports() -> None:
    f = inspect_path(_one("fraud-logreg/*/model.pkl"), root=RUNS)
    assert f.format == "pickle" and f.framework == "sklearn"
    assert "sklearn.linear_model._logistic.LogisticRegression" in f.metadata["imports"]
    assert "unsafe_imports" not in f.metadata
    assert f.warnings[0].startswith("pickle-based")


def test_joblib_steps_over_inline_arrays() -> None:
    f = inspect_path(_one("fraud-forest/*/model.joblib"), root=RUNS)
    assert f.format == "joblib" and f.framework == "sklearn"
    assert "sklearn.tree._tree.Tree" in f.metadata["imports"]
    assert not any("incomplete" in w for w in f.warnings), f.warnings
    assert f.params == {"n_estimators": 5, "max_depth": 4}


def test_onnx_graph_io_opset_parameters_props() -> None:
    f = inspect_path(_one("churn-onnx/2026-10-15/model.onnx"), root=RUNS)
    assert f.format == "onnx"
    m = f.metadata
    assert m["ir_version"] == 8 and m["opset_import"] == {"ai.onnx": 17}
    assert m["producer_name"] == "regtui-samples"
    assert m["parameters"] == 6 * 16 + 16 + 16
    assert m["inputs"] == [{"name": "x", "elem_type": "float32", "shape": ["batch", 6]}]
    assert m["outputs"][0]["name"] == "prob"
    assert m["metadata_props"] == {"author": "sample", "dataset": "churn-2026"}


def test_gguf_header_and_kv() -> None:
    f = inspect_path(_one("tiny-llm/2026-09-20/model.gguf"), root=RUNS)
    assert f.format == "gguf"
    m = f.metadata
    assert (m["architecture"], m["name"], m["context_length"]) == ("llama", "tiny-llm-v2", 1024)
    assert m["file_type"] == "ALL_F32" and m["tensors"] == 2 and m["parameters"] == 2 * 64 * 32
    tokens = m["kv"]["tokenizer.ggml.tokens"]
    assert tokens["array_length"] == 64 and len(tokens["first"]) == 8


def test_xgboost_json_and_ubj() -> None:
    j = inspect_path(_one("churn-xgb/2026-11-20/model.json"), root=RUNS)
    u = inspect_path(_one("churn-xgb/*/model.ubj"), root=RUNS)
    for f, trees in ((j, 40), (u, 60)):
        assert f.framework == "xgboost"
        assert f.metadata["objective"] == "binary:logistic"
        assert f.metadata["num_feature"] == 6 and f.metadata["num_trees"] == trees
        assert f.metadata["feature_names"][0] == "tenure"
    assert (j.format, u.format) == ("xgboost-json", "xgboost-ubj")
    assert j.params["max_depth"] == 4 and "auc" in j.metrics


def test_lightgbm_text() -> None:
    f = inspect_path(_one("churn-lgbm/2026-11-21/model.txt"), root=RUNS)
    assert f.format == "lightgbm"
    assert f.metadata["num_trees"] == 25 and f.metadata["num_features"] == 6
    assert f.metadata["objective"] == "binary sigmoid:1"
    assert f.metadata["parameters_used"]["num_leaves"] == 31
    assert f.params == {"num_leaves": 31, "learning_rate": 0.05, "boost.rounds": 25}


def test_mlflow_bundle() -> None:
    folder = _one("credit-mlflow/*/model")
    f = inspect_path(folder, root=RUNS)
    assert f.format == "mlflow" and f.framework == "sklearn"
    assert len(f.metadata["model_uuid"]) == 32
    assert "sklearn" in f.metadata["flavors"] and f.metadata["utc_time_created"]
    assert f.metadata["signature"]["inputs"][0]["type"] == "tensor"
    assert any(r.startswith("scikit-learn") for r in f.metadata["requirements"])
    assert "accuracy" in f.metrics and "C" in f.params  # sidecars of the run folder above


def test_huggingface_bundle_and_checkpoint() -> None:
    folder = _one("sentiment-bert/*")
    f = inspect_path(folder, root=RUNS)
    assert f.format == "huggingface"
    m = f.metadata
    assert m["architectures"] == ["BertForSequenceClassification"] and m["model_type"] == "bert"
    assert m["parameters"] == 100 * 32 + 32 * 32 + 2 * 32 + 2
    assert "vocab.txt" in m["tokenizer_files"]
    assert m["model_card"]["license"] == "apache-2.0" and m["model_card"]["datasets"] == ["imdb"]
    assert f.metrics["f1"] == 0.88 and f.metrics["global_step"] == 300
    ck = inspect_path(folder / "checkpoint-100", root=RUNS)
    assert ck.format == "huggingface" and ck.metadata["checkpoint_step"] == 100
    assert ck.metrics["global_step"] == 100 and ck.metrics["eval_accuracy"] == pytest.approx(0.7)
    assert "f1" not in ck.metrics  # the parent's model card is not the checkpoint's


def test_keras_archive(tmp_path: Path) -> None:
    path = tmp_path / "m.keras"
    config = {
        "class_name": "Sequential",
        "config": {"name": "seq", "layers": [{"class_name": "Dense"}, {"class_name": "Dense"}]},
    }
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("metadata.json", json.dumps({"keras_version": "3.6.0", "date_saved": "2026"}))
        zf.writestr("config.json", json.dumps(config))
        zf.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    f = inspect_path(path)
    assert f.format == "keras"
    assert f.metadata["keras_version"] == "3.6.0" and f.metadata["layers"] == 2


def test_hdf5_tflite_catboost_recognised(tmp_path: Path) -> None:
    (tmp_path / "a.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 64 + b"keras_version")
    (tmp_path / "c.cbm").write_bytes(b"CBM1" + b"\0" * 64)
    # a minimal TFLite flatbuffer: root table with version=3 and a description string
    import struct

    buf = bytearray(struct.pack("<I", 0) + b"TFL3")
    vtable_at = len(buf)
    buf += struct.pack("<HHHHHH", 12, 12, 4, 0, 0, 8)  # fields 0 (version) and 3 (description)
    table_at = len(buf)
    buf += struct.pack("<i", table_at - vtable_at) + struct.pack("<I", 3) + struct.pack("<I", 0)
    desc_at = len(buf)
    buf += struct.pack("<I", 4) + b"demo"
    struct.pack_into("<I", buf, table_at + 8, desc_at - (table_at + 8))
    struct.pack_into("<I", buf, 0, table_at)
    (tmp_path / "m.tflite").write_bytes(bytes(buf))
    h5 = inspect_path(tmp_path / "a.h5")
    assert (h5.format, h5.framework) == ("hdf5", "keras")
    assert inspect_path(tmp_path / "c.cbm").format == "catboost"
    t = inspect_path(tmp_path / "m.tflite")
    assert t.format == "tflite" and t.metadata["schema_version"] == 3
    assert t.metadata["description"] == "demo"


def test_savedmodel_folder(tmp_path: Path) -> None:
    meta_info = pb_field(4, b"serve") + pb_field(5, b"2.16.1")
    sig = pb_field(1, b"serving_default")
    meta_graph = pb_field(1, meta_info) + pb_field(5, sig)
    (tmp_path / "saved_model.pb").write_bytes(pb_field(1, 1) + pb_field(2, meta_graph))
    (tmp_path / "variables").mkdir()
    (tmp_path / "variables" / "variables.index").write_bytes(b"x" * 10)
    f = inspect_path(tmp_path)
    assert f.format == "savedmodel"
    assert f.metadata["meta_graphs"] == [
        {"tags": ["serve"], "signatures": ["serving_default"], "tensorflow_version": "2.16.1"}
    ]
    assert f.metadata["variables_bytes"] == 10


def test_every_sample_is_json_serialisable_and_not_refused() -> None:
    from regtui.inspect import is_artifact_candidate, is_bundle_dir

    paths = [p for p in RUNS.rglob("*") if p.is_file() and is_artifact_candidate(p)]
    paths += [p for p in RUNS.rglob("*") if is_bundle_dir(p)]
    assert len(paths) >= 20
    for path in paths:
        f = inspect_path(path, root=RUNS)
        assert f.refused is None, (path, f.refused)
        assert f.format != "unknown", path
        json.dumps([f.metadata, f.metrics, f.params, f.lineage, f.warnings], allow_nan=False)
