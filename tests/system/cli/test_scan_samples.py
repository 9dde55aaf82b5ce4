"""`regtui scan --json` over real training outputs and hostile files (sample_models/)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[3] / "sample_models"

EXPECTED_FORMATS = {
    "churn-lgbm/2026-11-19/model.txt": "lightgbm",
    "churn-onnx/2026-10-01/model.onnx": "onnx",
    "churn-xgb/2026-11-18/model.json": "xgboost-json",
    "churn-xgb/2026-11-22/model.ubj": "xgboost-ubj",
    "credit-mlflow/2026-11-02/model": "mlflow",
    "fraud-forest/2026-11-15/model.joblib": "joblib",
    "fraud-logreg/2026-11-10/model.pkl": "pickle",
    "sentiment-bert/2026-11-25": "huggingface",
    "sentiment-bert/2026-11-25/checkpoint-100": "huggingface",
    "tiny-llm/2026-09-01/model.gguf": "gguf",
    "vision-mlp/2026-10-28/model.pt": "pytorch-legacy",
    "vision-mlp/2026-11-01/model.pt": "pytorch",
    "vision-mlp/2026-11-09/model.safetensors": "safetensors",
}


def scan(folder: Path, db: str) -> list[dict]:
    proc = subprocess.run(
        [sys.executable, "-m", "regtui", "scan", str(folder), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "REGTUI_DB": db},
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_real_outputs_get_their_format_hash_size_and_model(sqlite_path: str) -> None:
    items = scan(SAMPLES / "runs", sqlite_path)
    by_rel = {str(Path(i["path"]).relative_to(SAMPLES / "runs")): i for i in items}
    assert {i["outcome"] for i in items} == {"registered"}
    for rel, fmt in EXPECTED_FORMATS.items():
        v = by_rel[rel]["version"]
        assert v["format"] == fmt, rel
        assert v["model"] == rel.split("/")[0]
        path = SAMPLES / "runs" / rel
        if path.is_file():
            assert v["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
            assert v["size_bytes"] == path.stat().st_size
    # Facts that come from inside the files, not from their names.
    st = by_rel["vision-mlp/2026-11-09/model.safetensors"]["version"]["metadata"]
    assert st["tensors"] > 0 and st["parameters"] > 0
    gguf = by_rel["tiny-llm/2026-09-01/model.gguf"]["version"]["metadata"]
    assert gguf["architecture"] and gguf["tensors"] > 0
    onnx = by_rel["churn-onnx/2026-10-01/model.onnx"]["version"]["metadata"]
    assert onnx["ir_version"] > 0 and onnx["inputs"]
    # Sidecars become metrics and params.
    xgb = by_rel["churn-xgb/2026-11-18/model.json"]["version"]
    assert xgb["metrics"] and xgb["params"]
    # Pickle-based formats say what loading them would import.
    pkl = by_rel["fraud-logreg/2026-11-10/model.pkl"]["version"]
    assert any("sklearn" in w for w in pkl["warnings"])


def test_hostile_files_are_refused_or_warned_about(sqlite_path: str) -> None:
    items = {Path(i["path"]).name: i for i in scan(SAMPLES / "hostile", sqlite_path)}
    refused = {name for name, i in items.items() if i["outcome"] == "refused"}
    assert {"bomb.keras", "bomb.pt", "empty.pt", "escape.keras", "outside-link.pkl"} <= refused
    assert "zip bomb" in items["bomb.pt"]["detail"]
    assert "outside" in items["outside-link.pkl"]["detail"]

    def warnings(name: str) -> str:
        return " ".join(items[name]["version"]["warnings"])

    assert "posix.system" in warnings("os-system.pkl")
    assert "eval" in warnings("eval.joblib")
    assert "posix.system" in warnings("evil-checkpoint.pt")
    # Damaged files are refused with the reason, never registered.
    for name, words in (
        ("lying-header.safetensors", "107374182400"),
        ("huge-array.gguf", "claims"),
        ("truncated.safetensors", "need 4000000 data bytes"),
        ("truncated.onnx", "truncated or lying length"),
    ):
        assert items[name]["outcome"] == "refused", name
        assert items[name]["detail"].startswith("damaged: ") and words in items[name]["detail"]
