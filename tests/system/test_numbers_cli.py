"""Numbers that JSON cannot hold, through the command line as a subprocess: each
spelling of a non-finite number is a one-line usage error naming the key, only ASCII
digits are numbers, and every `--json` output is strict JSON, even over a legacy row.
The rule and the in-process entries: tests/unit/test_numbers.py.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from regtui.catalog.service import Catalog
from tests.unit.helpers import artifact
from tests.unit.test_numbers import strict_loads

# Spellings a person or a file may use; each reads as a non-finite number.
NON_FINITE_TEXT = ["1e999", "-1e999", "1E309", "inf", "-inf", "+inf", "INF", "Infinity",
                   "-Infinity", "infinity", "NaN", "nan", "-nan", "1" + "0" * 400,
                   "-" + "9" * 400, "1" + "0" * 309 + ".0"]  # fmt: skip


def regtui(*args: str, db: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "regtui", *args, "--db", db],
        capture_output=True,
        text=True,
        timeout=120,
    )


def one_line_error(proc: subprocess.CompletedProcess[str], code: int = 2) -> str:
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("regtui: error: "), proc.stderr
    return lines[0]


@pytest.mark.parametrize("spelling", NON_FINITE_TEXT)
@pytest.mark.parametrize(
    "entry", [("register", "--metric"), ("register", "--param"), ("log", "--param")]
)
def test_the_cli_refuses_non_finite_spellings_naming_the_key(
    tmp_path: Path, spelling: str, entry: tuple[str, str]
) -> None:
    db = str(tmp_path / "c.sqlite")
    path = artifact(tmp_path, "a.bin", "A")
    Catalog(db).register(path, "m")
    command, flag = entry
    target = (
        [str(artifact(tmp_path, "b.bin", "B")), "--model", "m"]
        if command == "register"
        else ["m:1", "--reason", "r"]
    )
    line = one_line_error(regtui(command, *target, flag, f"bad_key={spelling}", db=db))
    assert "bad_key" in line
    assert len(Catalog(db).versions("m")) == 1


@pytest.mark.parametrize("text", ["١٢", "１２", "²", "1_000", "0x10", " ", ""])
def test_only_ascii_numbers_are_numbers_on_the_cli(tmp_path: Path, text: str) -> None:
    db = str(tmp_path / "c.sqlite")
    line = one_line_error(
        regtui(
            "register",
            str(artifact(tmp_path, "a.bin", "A")),
            "--model",
            "m",
            "--metric",
            f"acc={text}",
            db=db,
        )
    )
    assert "'acc' must be a number" in line
    proc = regtui(
        "register", str(artifact(tmp_path, "a.bin", "A")), "--model", "m", "--param", f"p={text}",
        "--json", db=db,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert strict_loads(proc.stdout)["params"]["p"] == text  # kept as text


def json_commands(db: str, tmp_path: Path) -> list[list[str]]:
    return [
        ["models"], ["versions", "m"], ["versions", "m", "--filter", "metrics.x > 0"],
        ["show", "m:1"], ["show", "m"], ["diff", "m:1", "m:2"], ["audit"], ["stages", "m"],
        ["verify"], ["policy"], ["locate"], ["store"], ["export", "-"],
        ["log", "m:2", "--metric", "late=1", "--reason", "r"],
        ["promote", "m:2", "--to", "staging", "--reason", "r"],
        ["scan", str(tmp_path / "more")],
    ]  # fmt: skip


def test_every_json_output_is_strict_json_even_over_a_legacy_row(tmp_path: Path) -> None:
    """A catalog written before non-finite numbers were refused (a NaN and an
    Infinity in the stored JSON text) still gives valid JSON from every command."""
    db = str(tmp_path / "c.sqlite")
    cat = Catalog(db)
    cat.register(artifact(tmp_path, "a.bin", "A"), "m", params={"lr": 0.1})
    cat.register(artifact(tmp_path, "b.bin", "B"), "m", params={"lr": 0.2})
    cat.close()
    artifact(tmp_path / "more", "c.bin", "C")
    con = sqlite3.connect(db)
    con.execute(
        'UPDATE version SET params = \'{"lr": Infinity, "n": NaN}\', '
        "meta = '{\"x\": -Infinity}' WHERE number = 1"
    )
    con.commit()
    con.close()
    for args in json_commands(db, tmp_path):
        out = args if args[0] == "export" else [*args, "--json"]
        proc = regtui(*out, db=db)
        assert proc.returncode == 0, (args, proc.stderr)
        strict_loads(proc.stdout)
