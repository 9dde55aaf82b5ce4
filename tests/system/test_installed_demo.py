"""`regtui demo` where regtui is installed the way pipx or `uv tool` installs it: a
wheel built from the source, installed into a fresh venv outside the repository, run
from a folder that is not the repository. Its demo seeds the real sample models that
ship inside the wheel (not placeholders), with their metrics, and says nothing on stderr.

Offline and honest: the wheel is built by pip from a copy of exactly the files a
build needs; the new venv has no regtui but the wheel's, and borrows its
dependencies (Textual, SQLModel, ...) from the test venv's site-packages through a
.pth line (which runs no .pth of that folder, so the editable regtui stays out).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "sample_models"
# What a build reads: the rest of the repository (tests, bench, .venv) stays behind.
BUILD_INPUTS = ("pyproject.toml", "setup.py", "README.md", "src", "sample_models")
# A symlink to /etc/passwd in the repository: a wheel would carry the build machine's file.
NOT_SHIPPED = {"hostile/outside-link.pkl"}

# Values the sample runs' metrics files hold (sample_models/runs/*/*/metrics.json and
# the Trainer's files), as the demo prints them.
KNOWN = {
    "churn-xgb:1": ("xgboost-json", "auc=0.9239"),
    "churn-lgbm:2": ("lightgbm", "auc=0.83"),
    "churn-onnx:1": ("onnx", "auc=0.78"),
    "vision-mlp:4": ("safetensors", "val_acc=0.93"),
    "tiny-llm:2": ("gguf", "perplexity=11"),
    "sentiment-bert:1": ("huggingface", "eval_accuracy=0.9"),
    "credit-mlflow:2": ("mlflow", "accuracy=0.9025"),
}


def _shipped_samples() -> set[str]:
    """Every sample file the wheel must hold, relative to sample_models/."""
    return {
        p.relative_to(SAMPLES).as_posix()
        for folder in ("runs", "hostile")
        for p in (SAMPLES / folder).rglob("*")
        if p.is_file() or p.is_symlink()
    } - NOT_SHIPPED


def _run(cmd: list[str | Path], cwd: Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, f"{cmd}: {proc.stdout[-2000:]}{proc.stderr[-2000:]}"
    return proc.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("build")
    source = work / "regtui-src"
    source.mkdir()
    for name in BUILD_INPUTS:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(
                src,
                source / name,
                symlinks=True,
                ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
            )
        else:
            shutil.copy2(src, source / name)
    dist = work / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, source], work)
    [built] = dist.glob("regtui-*.whl")
    return built


def test_the_wheel_holds_the_sample_models_and_nothing_it_should_not(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    prefix = "regtui/sample_models/"
    shipped = {n.removeprefix(prefix) for n in names if n.startswith(prefix)}
    assert shipped == _shipped_samples()
    assert not any("make_samples" in n or "passwd" in n for n in names)
    size = sum(i.file_size for i in zipfile.ZipFile(wheel).infolist() if prefix in i.filename)
    assert size < 2_000_000, f"{size} bytes of samples: keep them small"


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv outside the repository holding regtui from the wheel only."""
    venv = tmp_path_factory.mktemp("pipx-like") / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], venv.parent)
    python = venv / "bin" / "python"
    site = Path(
        _run([python, "-c", "import site; print(site.getsitepackages()[0])"], venv.parent).strip()
    )
    (site / "borrowed-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(
        [sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "-q", wheel],
        venv.parent,
    )
    return venv


def _outside_env(home: Path) -> dict[str, str]:
    keep = {"PATH", "LANG", "LC_ALL", "TZ", "TMPDIR"}
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "cfg"))
    return env


def test_the_installed_demo_shows_the_real_samples_with_metrics(
    installed: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "somewhere-else"
    elsewhere.mkdir()
    proc = subprocess.run(
        [installed / "bin" / "regtui", "demo", "--headless-check"],
        cwd=elsewhere,
        env=_outside_env(tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # no protobuf (or any) warnings
    lines = proc.stdout.splitlines()
    # The samples came from the installed package, not from this repository.
    [where] = [line for line in lines if line.startswith("samples: ")]
    samples = Path(where.removeprefix("samples: "))
    assert samples.is_relative_to(installed) and not samples.is_relative_to(REPO)
    assert samples.parts[-2:] == ("regtui", "sample_models")
    by_ref = {line.split("  ")[0]: line.split("  ") for line in lines if ":" in line.split("  ")[0]}
    for ref, (fmt, metric) in KNOWN.items():
        assert by_ref[ref][1] == fmt, by_ref[ref]
        assert metric in by_ref[ref][-1].split(), by_ref[ref]
    assert re.search(
        r"demo catalog: 9 models, 22 versions, 21 with metrics, \d+ audit", proc.stdout
    )

    # What it makes of the hostile samples: refused, or registered and flagged, never run.
    assert re.search(r"^  refused  bomb\.keras  zip bomb: ", proc.stdout, re.M)
    assert re.search(
        r"^  registered  os-system\.pkl  .*would run on load.*system$", proc.stdout, re.M
    )

    # The installed demo is the source tree's demo, line for line (but where the samples
    # are, and the symlink to /etc/passwd the wheel leaves out).
    from regtui.demo import check_demo

    here = io.StringIO()
    assert check_demo(here) == 0
    source_lines = [x for x in here.getvalue().splitlines() if "outside-link" not in x]
    assert lines[1:] == source_lines[1:]
