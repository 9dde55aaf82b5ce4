"""`regtui audit` says what each event changed, as the TUI's audit table does: a
registration its path and hash, an edit the fields it changed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from regtui.catalog.service import Catalog
from tests.unit.helpers import artifact


def test_every_kind_of_event_says_what_changed(tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite"
    with Catalog(db, user="alice") as cat:
        cat.register(artifact(tmp_path, "model.bin", "weights"), "churn")
        v = cat.get("churn:1")
        cat.edit("churn:1", description="first cut", reason="describe it")
        cat.edit("churn", tags={"team": "growth"}, reason="owner")
    with Catalog(db, user="bob") as bob:
        bob.approve("churn:1", "fine")
    done = subprocess.run(
        [sys.executable, "-m", "regtui", "--db", str(db), "audit"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 0, done.stderr
    rows = {line.split()[4]: line for line in done.stdout.splitlines()[1:]}  # seq, day, time, actor
    assert v.sha256[:5] in rows["registered"]
    assert "first cut" in rows["edited"] or "growth" in rows["edited"]
    assert "approved" in rows["approved"].split("approved", 1)[1]  # the change, not the action
