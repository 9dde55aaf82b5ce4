"""The peer's own virtual environment: bench/.mlflow-venv, created on first use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.common import BENCH_DIR

VENV = BENCH_DIR / ".mlflow-venv"


def mlflow_python() -> Path:
    """Python of a venv with mlflow installed; builds it (1-2 min) if missing."""
    py = VENV / "bin" / "python"
    if (
        py.exists()
        and subprocess.run([str(py), "-c", "import mlflow"], capture_output=True).returncode == 0
    ):
        return py
    print(f"setting up MLflow in {VENV} (once; 1-2 minutes)…", file=sys.stderr, flush=True)
    subprocess.run(["python3", "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", "mlflow"], check=True)
    return py
