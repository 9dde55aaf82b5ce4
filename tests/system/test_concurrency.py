"""Several processes registering one model at once: gapless numbers, no errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from regtui.catalog.service import Catalog

ROOT = Path(__file__).resolve().parents[2]
FULL = os.environ.get("REGTUI_FULL") == "1"
# Issue 7 asks for 4 x 500; the everyday run keeps the suite short with 4 x 250.
PROCS, PER_PROC = 4, (500 if FULL else 250)


@pytest.mark.slow
def test_parallel_registrations_are_gapless(db_url: str, tmp_path: Path) -> None:
    Catalog(db_url).close()  # create the schema once, as a first run would
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.register_many",
                db_url,
                str(tmp_path / "a"),
                str(w),
                str(PER_PROC),
            ],
            cwd=ROOT,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(PROCS)
    ]
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * PROCS, errors
    cat = Catalog(db_url)
    numbers = [v.version for v in cat.versions("shared")]
    assert numbers == list(range(1, PROCS * PER_PROC + 1))
    assert len({v.sha256 for v in cat.versions("shared")}) == PROCS * PER_PROC
    check = cat.verify_audit()
    assert check.ok and check.events == PROCS * PER_PROC + 1  # + model_created


def test_concurrent_first_open_creates_schema_once(sqlite_path: str) -> None:
    code = "import sys; from regtui.catalog.service import Catalog; Catalog(sys.argv[1]).models()"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, sqlite_path], stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    errs = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, errs
