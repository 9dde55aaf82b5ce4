"""`regtui --db` on a real MLflow tracking database (made by MLflow itself) says what
it is in one line, for every command that opens the catalog, and leaves the file and
its folder as they were."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def _mlflow_database(folder: Path) -> Path:
    """A SQLite tracking store with one run and one registered model version."""
    code = """
import sys, mlflow
from mlflow import MlflowClient
mlflow.set_tracking_uri("sqlite:///" + sys.argv[1])
with mlflow.start_run() as run:
    mlflow.log_metric("auc", 0.9)
client = MlflowClient()
client.create_registered_model("Churn Model")
client.create_model_version("Churn Model", "runs:/" + run.info.run_id + "/model", run.info.run_id)
"""
    db = folder / "mlflow.db"
    env = {**os.environ, "MLFLOW_ALLOW_FILE_STORE": "true"}
    subprocess.run(
        [sys.executable, "-c", code, str(db)], check=True, cwd=folder, env=env, timeout=300
    )
    return db


@pytest.fixture(scope="module")
def made_by_mlflow(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("mlflow")
    return _mlflow_database(tmp_path_factory.mktemp("made"))


def _state(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()
    }


@pytest.mark.parametrize(
    "command",
    [["models"], ["versions", "churn"], ["show", "churn:1"], ["audit", "--verify"]],
)
def test_an_mlflow_database_is_named_for_what_it_is(
    tmp_path: Path, made_by_mlflow: Path, command: list[str]
) -> None:
    folder = tmp_path / "tracking"
    folder.mkdir()
    db = folder / "mlflow.db"
    shutil.copyfile(made_by_mlflow, db)
    before = _state(folder)
    proc = subprocess.run(
        [sys.executable, "-m", "regtui", "--db", str(db), *command],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert lines == [
        f"regtui: error: {db} is an MLflow tracking database, not a regtui catalog; "
        f"to bring its registry over: regtui import-mlflow sqlite:///{db}"
    ]
    assert _state(folder) == before  # nothing written, no WAL or journal left beside it
