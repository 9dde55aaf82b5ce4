"""`regtui scan` names a new path whose bytes are already a version (and stays quiet
about a path scanned again)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.inspect.helpers import safetensors_bytes


def scan(db: Path, *dirs: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "regtui", "--db", str(db), "scan", *map(str, dirs), "--model", "m"],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("twin", ["b/model.safetensors", "b/c/renamed.safetensors"])
def test_same_bytes_elsewhere_are_named_once(tmp_path: Path, twin: str) -> None:
    weights = safetensors_bytes({"w": ("U8", [64])})
    first = tmp_path / "a" / "model.safetensors"
    first.parent.mkdir()
    first.write_bytes(weights)
    db = tmp_path / "c.sqlite"
    assert "registered  m:1" in scan(db, tmp_path / "a")
    again = scan(db, tmp_path / "a")
    assert "same bytes" not in again and "1 already registered" in again  # a re-scan
    other = tmp_path / twin
    other.parent.mkdir(parents=True)
    other.write_bytes(weights)
    out = scan(db, tmp_path / "a", tmp_path / "b")
    lines = [line for line in out.splitlines() if line.startswith("same bytes")]
    assert lines == [f"same bytes  {other}  as m:1 ({first})"]
