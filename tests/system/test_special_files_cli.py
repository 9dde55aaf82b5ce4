"""`regtui register` of a special file as a subprocess: one `regtui: error:` line
naming the file, no traceback; a bundle holding one is refused alike; scan finishes.
The rules, in-process: tests/unit/test_special_files.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.system.cli.test_cli import fail, run
from tests.unit.helpers import model_bytes
from tests.unit.test_special_files import _HF_CONFIG, _make_special

_LINKS = ("dev-zero", "dev-urandom", "blockdev")


@pytest.mark.parametrize("kind", ["fifo", "socket", "dev-zero"])
def test_cli_register_of_a_special_file_is_one_error_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """The command as a subprocess: one `regtui: error:` line naming the file,
    exit 6, no traceback; a bundle holding one is refused alike; scan finishes."""
    weights = tmp_path / "run" / "model.safetensors"
    _make_special(weights, kind, monkeypatch)
    db = str(tmp_path / "cli.sqlite")
    line = fail("register", str(weights), "--model", "m", db=db, code=6)
    assert "model.safetensors" in line and "not a regular file" in line
    if kind in _LINKS:
        return  # links inside bundles: issue 12 item 7
    hf = tmp_path / "hf"
    hf.mkdir()
    (hf / "config.json").write_text(_HF_CONFIG)
    (hf / "model.safetensors").write_bytes(model_bytes("hf"))
    _make_special(hf / "model-00001-of-00002.safetensors", kind, monkeypatch)
    line = fail("register", str(hf), "--model", "m", db=db)
    assert "model-00001-of-00002.safetensors" in line
    scanned = run("scan", str(tmp_path / "run"), db=db, ok=False)
    assert "Traceback" not in scanned.stderr
