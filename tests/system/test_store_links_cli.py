"""`regtui register ..` as a shell runs it, from inside a bundle: the version is the
bundle folder, its kept copy is named after it, and a retry keeps another model's
copy intact. The store's link rules, in-process: tests/unit/test_store_links.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from regtui.catalog.service import Catalog
from tests.unit.test_store_links import weights


@pytest.mark.parametrize("spelling", ["..", ".", "../../bert/", "./sub/../"])
def test_register_dotdot_keeps_the_folder_it_means(tmp_path: Path, spelling: str) -> None:
    """`regtui register ..` from inside a bundle: the version is the bundle folder,
    its kept copy is named after it, and a retry keeps another model's copy intact."""
    db = str(tmp_path / "catalog.sqlite")
    other = tmp_path / "other.safetensors"
    other.write_bytes(weights(1))
    bundle = tmp_path / "bert"
    (bundle / "sub").mkdir(parents=True)
    (bundle / "config.json").write_text('{"model_type": "bert"}')
    (bundle / "model.safetensors").write_bytes(weights(2))
    cwd = bundle / "sub" if spelling.startswith("..") else bundle

    def regtui(*args: str, where: Path = tmp_path) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([sys.executable, "-m", "regtui", *args], cwd=where,
                              capture_output=True, text=True, timeout=120,
                              env={**os.environ, "REGTUI_DB": db})  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        return proc

    regtui("register", str(other), "--model", "other")
    regtui("approve", "other:1", "--reason", "ok")
    regtui("promote", "other:1", "--reason", "r", "--to", "production")
    regtui("register", spelling, "--model", "bert", where=cwd)
    cat = Catalog(db)
    (v,) = cat.versions("bert")
    assert v.path == str(bundle)
    regtui("approve", "bert:1", "--reason", "ok")
    for _ in range(2):  # the retry the issue saw delete another model's copy
        regtui("promote", "bert:1", "--reason", "r", "--to", "production")
        regtui("demote", "bert", "--stage", "production", "--reason", "again")
    regtui("promote", "bert:1", "--reason", "r", "--to", "production")
    kept = Path(regtui("resolve", "bert@production").stdout.strip())
    assert kept.name == "bert" and (kept / "model.safetensors").read_bytes() == weights(2)
    served = Path(regtui("resolve", "other@production").stdout.strip())
    assert served.read_bytes() == weights(1) and served != other
    regtui("verify")  # exit 0: every artifact and kept copy matches
