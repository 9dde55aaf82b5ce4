"""Review findings 2, 10 and 11 through the command line as a subprocess: scan and
register never block on a FIFO, bad metric/param names are refused in one line, and
a dataset password stays out of the error. The in-process checks of the same
findings: tests/unit/test_fix_review_a.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.helpers import artifact


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "regtui", "--db", str(cwd / "c.sqlite"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,  # a hang fails the test instead of blocking the suite
    )


def test_scan_and_register_on_the_command_line_never_block(tmp_path: Path) -> None:
    for i in range(3):
        run = tmp_path / f"w/hang{i}/run"
        artifact(run, "model.safetensors", f"m{i}")
        (run / "data").mkdir()
        os.mkfifo(run / "data" / "p")
        (run / "datasets.json").write_text('["data"]')
    os.mkfifo(tmp_path / "w/hang0/run/weights.safetensors")
    artifact(tmp_path / "w/later", "model.safetensors", "later")
    scan = _cli("scan", "w", cwd=tmp_path)
    assert scan.returncode == 0, scan.stderr
    assert "4 registered" in scan.stdout
    reg = _cli("register", "w/hang0/run/weights.safetensors", "--model", "x", cwd=tmp_path)
    assert reg.returncode != 0 and "FIFO" in reg.stderr
    assert len(reg.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("arg", ["--metric", "--param"])
@pytest.mark.parametrize("key", [" ", "k" * 5000])
def test_the_command_line_refuses_bad_names_in_one_line(tmp_path: Path, arg: str, key: str) -> None:
    artifact(tmp_path, "m.safetensors", "m")
    assert _cli("register", "m.safetensors", "--model", "m", cwd=tmp_path).returncode == 0
    out = _cli("log", "m:1", arg, f"{key}=1", "--reason", "r", cwd=tmp_path)
    assert out.returncode != 0
    assert len(out.stderr.strip().splitlines()) == 1 and len(out.stderr) < 300


def test_the_command_line_keeps_a_dataset_password_out_of_its_error(tmp_path: Path) -> None:
    artifact(tmp_path, "m.safetensors", "m")
    out = _cli("register", "m.safetensors", "--model", "m", "--dataset", "bob:hunter2@host:/x",
               cwd=tmp_path)  # fmt: skip
    assert out.returncode != 0 and "hunter2" not in out.stderr + out.stdout
