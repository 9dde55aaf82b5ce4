"""Damage through the CLI, as a subprocess: `scan` refuses each damaged kind with
its reason; `register` records it and says so; `show`, `versions` and `--json`
carry it; `approve` and `promote --to production` exit 4 naming artifact-damaged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.system.cli.test_cli import js, run
from tests.unit.helpers import model_bytes
from tests.unit.test_damaged_versions import DAMAGED, KINDS, _write


def test_scan_refuses_every_damaged_kind(db_url: str, tmp_path: Path) -> None:
    root = tmp_path / "runs"
    paths = {kind: _write(root, kind) for kind in KINDS}
    (root / "sound").mkdir()
    (root / "sound" / "model.safetensors").write_bytes(model_bytes("sound"))
    items = {Path(i["path"]): i for i in js("scan", str(root), db=db_url)}  # type: ignore[union-attr]
    for kind, path in paths.items():
        item = items[path]
        assert item["outcome"] == "refused", (kind, item)
        assert item["detail"].startswith("damaged: ") and DAMAGED[kind][2] in item["detail"]
        assert "version" not in item
    assert items[root / "sound" / "model.safetensors"]["outcome"] == "registered"
    text = run("scan", str(root), db=db_url).stdout
    assert f"scan: 0 registered, 1 already registered, {len(KINDS)} refused, 0 errors" in text
    assert text.count("refused     ") == len(KINDS)


@pytest.mark.parametrize("kind", ["git lfs pointer", "zip still being written", "unrecognised"])
def test_register_records_damage_and_policy_keeps_it_from_shipping(
    db_url: str, tmp_path: Path, kind: str
) -> None:
    path = _write(tmp_path, kind)
    out = run("register", str(path), "--model", "churn", db=db_url, user="alice").stdout
    reason = DAMAGED[kind][2]
    assert "registered churn:1" in out
    assert "damaged: " in out and reason in out and "can never be approved" in out
    shown = js("show", "churn:1", db=db_url)
    assert reason in shown["damage"]  # type: ignore[index]
    listed = js("versions", "churn", db=db_url)
    assert listed[0]["damage"] == shown["damage"]  # type: ignore[index]
    assert "DAMAGED" in run("versions", "churn", db=db_url).stdout
    assert "  damaged   " in run("show", "churn:1", db=db_url).stdout
    for args in (
        ("approve", "churn:1", "--reason", "fine"),
        ("promote", "churn:1", "--to", "production", "--reason", "ship"),
    ):
        proc = run(*args, db=db_url, user="bob", ok=False)
        assert proc.returncode == 4, proc.stderr
        assert "artifact-damaged" in proc.stderr and len(proc.stderr.splitlines()) == 1
    assert json.loads(run("show", "churn:1", "--json", db=db_url).stdout)["stages"] == []
