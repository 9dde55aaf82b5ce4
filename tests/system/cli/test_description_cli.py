"""`edit REF --description` from the command line: `show` prints it (escaped, one
line per line, long ones cut with a pointer to --json), `show --json` carries it
exactly, `diff` shows the row, and `''` clears it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.unit.helpers import catalog_with_versions


def _cli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REGTUI_DB": str(db), "REGTUI_USER": "alice"}
    cmd = [sys.executable, "-m", "regtui", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)


def test_a_description_written_from_the_cli_shows_everywhere(tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite"
    catalog_with_versions(str(db), tmp_path, 2).close()
    note = "Retrained on March data.\n\x1b[31mred\x1b[0m stays text\n" + "\n".join(
        f"line {i}" for i in range(20)
    )
    done = _cli(db, "edit", "churn:2", "--reason", "r", "--description", note)
    assert done.returncode == 0, done.stderr
    shown = _cli(db, "show", "churn:2")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    at = lines.index("description:")
    assert lines[at + 1] == "  Retrained on March data."
    assert "\x1b" not in shown.stdout and "red" in lines[at + 2]
    assert lines[at + 13].startswith("  … 10 more lines")
    as_json = json.loads(_cli(db, "show", "churn:2", "--json").stdout)
    assert as_json["description"] == note
    diff = _cli(db, "diff", "churn:1", "churn:2")
    assert "description" in diff.stdout
    assert _cli(db, "edit", "churn:2", "--reason", "r", "--description", "").returncode == 0
    assert json.loads(_cli(db, "show", "churn:2", "--json").stdout)["description"] is None
    assert "description:" not in _cli(db, "show", "churn:2").stdout
