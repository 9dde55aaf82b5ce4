"""Policy gates through the CLI, as a subprocess: protecting a stage that holds a
damaged or unapproved version exits 4 naming the rule, the stage and the version;
`--protect ''` needs --reason; import of an edited export refuses whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.system.cli.test_cli import js, run
from tests.unit.helpers import artifact

HTML = b"<!doctype html><title>Not Found</title>"


def _two(db: str, tmp_path: Path) -> None:
    """churn:1 damaged, churn:2 sound and pending."""
    bad = tmp_path / "m1.bin"
    bad.write_bytes(HTML)
    run("register", str(bad), "--model", "churn", db=db, user="alice")
    run("register", str(artifact(tmp_path, "m2.bin", "two")), "--model", "churn", db=db)


@pytest.mark.parametrize(
    ("n", "rule"), [(1, "artifact-damaged"), (2, "protected-stage-needs-approval")]
)
def test_protecting_a_stage_with_a_bad_holder_exits_4(
    db_url: str, tmp_path: Path, n: int, rule: str
) -> None:
    _two(db_url, tmp_path)
    run("promote", f"churn:{n}", "--reason", "r", "--to", "staging", db=db_url, user="bob")
    proc = run("policy", "--protect", "production,staging", "--reason", "x", db=db_url, ok=False)
    assert proc.returncode == 4, proc.stderr
    assert rule in proc.stderr and "staging" in proc.stderr and f"churn:{n}" in proc.stderr
    assert len(proc.stderr.splitlines()) == 1
    assert js("policy", db=db_url)["protected_stages"] == ["production"]  # type: ignore[index]


def test_removing_every_protection_needs_a_reason(db_url: str, tmp_path: Path) -> None:
    proc = run("policy", "--protect", "", db=db_url, ok=False)
    assert proc.returncode == 2 and "--reason" in proc.stderr
    assert len(proc.stderr.splitlines()) == 1
    out = js("policy", "--protect", "", "--reason", "window", db=db_url)
    assert out["protected_stages"] == []  # type: ignore[index]


def test_import_of_an_export_with_a_damaged_production_refuses_whole(
    db_url: str, tmp_path: Path
) -> None:
    _two(db_url, tmp_path)
    run("promote", "churn:1", "--reason", "r", "--to", "staging", db=db_url, user="bob")
    export = tmp_path / "x.json"
    run("export", str(export), db=db_url)
    data = json.loads(export.read_text())
    for s in data["stages"]:
        s["name"] = "production"  # the review's edit: staging -> production
    export.write_text(json.dumps(data))
    target = str(tmp_path / "target.sqlite")
    proc = run("import", str(export), db=target, ok=False)
    assert proc.returncode == 4, proc.stderr
    assert "artifact-damaged" in proc.stderr and "stages[0]" in proc.stderr
    assert len(proc.stderr.splitlines()) == 1
    assert js("models", db=target) == []
