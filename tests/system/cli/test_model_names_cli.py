"""Model names as people write them, from the command line: upper case, spaces and
ref punctuation register, list, resolve and change exactly; a name holding ':' or '@'
is written in double quotes in a ref (and printed so); MLflow's URIs reach it; the
filter language matches it as a string; a name that is not one printable line is one
clear error that writes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.helpers import artifact


def _cli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REGTUI_DB": str(db), "REGTUI_USER": "alice"}
    cmd = [sys.executable, "-m", "regtui", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)


def _ok(db: Path, *args: str) -> str:
    done = _cli(db, *args)
    assert done.returncode == 0, (args, done.stderr)
    return done.stdout


@pytest.mark.parametrize(
    ("name", "ref"),
    [
        ("Churn Model v2", "Churn Model v2"),
        ("team:churn", '"team:churn"'),
        ("ops@eu", '"ops@eu"'),
        ('say "hi"', 'say "hi"'),
    ],
)
def test_a_name_as_written_works_in_every_command(tmp_path: Path, name: str, ref: str) -> None:
    db = tmp_path / "c.sqlite"
    for i in (1, 2):
        path = artifact(tmp_path, f"m{i}.bin", f"model {i}")
        _ok(db, "register", str(path), "--model", name, "--metric", f"auc=0.{i}")
    # the upper-case twin is another model: names match exactly
    _ok(db, "register", str(artifact(tmp_path, "o.bin", "other")), "--model", name.upper())
    names = [m["name"] for m in json.loads(_ok(db, "models", "--json"))]
    assert sorted(names) == sorted([name, name.upper()])
    assert [v["version"] for v in json.loads(_ok(db, "versions", name, "--json"))] == [1, 2]
    assert [v["version"] for v in json.loads(_ok(db, "versions", ref, "--json"))] == [1, 2]
    _ok(db, "approve", f"{ref}:1", "--reason", "ok")
    _ok(db, "promote", f"{ref}:1", "--to", "production", "--reason", "first")
    shown = json.loads(_ok(db, "show", f"{ref}@production", "--json"))
    assert (shown["model"], shown["version"]) == (name, 1)
    first = (tmp_path / "m1.bin").read_bytes()
    assert Path(_ok(db, "resolve", f"{ref}@production").strip()).read_bytes() == first
    if "@" not in name:
        uri = f"models:/{name}@Production"  # the alias as MLflow users spell it
        assert Path(_ok(db, "resolve", uri).strip()).read_bytes() == first
    assert f"{ref}:2" in _ok(db, "show", f"{ref}:2")  # printed as it is typed
    quoted = name.replace("\\", "\\\\").replace("'", "\\'")
    found = json.loads(
        _ok(
            db, "versions", name, "--filter", f"model = '{quoted}' and metrics.auc > 0.15", "--json"
        )
    )
    assert [v["version"] for v in found] == [2]
    _ok(db, "promote", f"{ref}:2", "--reason", "r", "--to", "staging")
    _ok(db, "demote", ref, "--stage", "staging", "--reason", "done")
    assert "promoted" in _ok(db, "audit", ref)
    _ok(db, "audit", "--verify")
    checks = json.loads(_ok(db, "verify", ref, "--json"))
    assert checks and all(c["state"] == "ok" for c in checks), checks


@pytest.mark.parametrize("bad", ["bad\tname", "x" * 129, '"unclosed', "a\u202eb"])
def test_a_name_that_is_not_one_printable_line_is_one_error(tmp_path: Path, bad: str) -> None:
    db = tmp_path / "c.sqlite"
    done = _cli(db, "register", str(artifact(tmp_path, "m.bin", "m")), "--model", bad)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("regtui: error:"), done.stderr
    assert "\t" not in lines[0] and "\u202e" not in lines[0]
    assert _ok(db, "models", "--json").strip() in ("[]", "")
