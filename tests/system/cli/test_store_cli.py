"""`regtui store`, `store --set` and `locate` as a user's shell runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.system.cli.test_cli import fail, js, run
from tests.unit.inspect.helpers import safetensors_bytes


def _released(db: str, tmp_path: Path) -> Path:
    """churn:1 (real safetensors bytes) registered, approved and in production."""
    model = tmp_path / "out" / "model.safetensors"
    model.parent.mkdir()
    model.write_bytes(safetensors_bytes({"w": ("F32", [8])}, {"run": "1"}))
    run("register", str(model), "--model", "churn", db=db)
    run("approve", "churn:1", "--reason", "ok", db=db)
    run("promote", "churn:1", "--reason", "r", "--to", "production", db=db)
    return model


def test_store_shows_where_kept_copies_live(db_url: str, tmp_path: Path) -> None:
    shown = js("store", db=db_url)
    assert shown["source"] == "default" and shown["kept_copies"] == 0  # type: ignore[index]
    assert shown["reflinks"] is None  # type: ignore[index]  # no folder until a copy is kept
    if db_url.startswith("postgresql://"):
        data = Path(os.environ["REGTUI_DATA_DIR"])
        assert shown["host_local"] is True  # type: ignore[index]
        assert Path(shown["location"]).is_relative_to(data / "stores")  # type: ignore[index]
    else:
        assert shown["host_local"] is False  # type: ignore[index]
        assert shown["location"] == db_url + ".store"  # type: ignore[index]
    _released(db_url, tmp_path)
    text = run("store", db=db_url).stdout
    assert f"store: {shown['location']}" in text  # type: ignore[index]
    assert "source: default" in text and "kept copies: 1" in text
    assert "copies are full copies" in text or "copies are copy-on-write clones" in text
    host_local = "host-local: yes" in text
    assert host_local == db_url.startswith("postgresql://")
    assert ("regtui store --set" in text) == host_local  # says how to share it
    located = js("locate", db=db_url)
    assert located["store"] == shown["location"]  # type: ignore[index]
    assert f"store: {shown['location']}" in run("locate", db=db_url).stdout  # type: ignore[index]


def test_store_set_moves_copies_and_is_audited(db_url: str, tmp_path: Path) -> None:
    model = _released(db_url, tmp_path)
    old = js("store", db=db_url)["location"]  # type: ignore[index]
    shared = tmp_path / "shared store"
    moved = js("store", "--set", str(shared), "--reason", "team share", db=db_url)
    assert moved == {  # type: ignore[comparison-overlap]
        "location": str(shared),
        "source": "setting",
        "host_local": False,
        "note": moved["note"],  # type: ignore[index]
        "kept_copies": 1,
        "missing_copies": 0,
        "reflinks": moved["reflinks"],  # type: ignore[index]
    }
    assert isinstance(moved["reflinks"], bool)  # type: ignore[index]
    model.unlink()
    served = Path(run("resolve", "churn@production", db=db_url).stdout.strip())
    assert served.is_relative_to(shared) and served.name == "model.safetensors"
    events = js("audit", "--action", "store_moved", db=db_url)
    assert [(e["target"], e["reason"]) for e in events] == [("store", "team share")]  # type: ignore[union-attr,index]
    assert events[0]["before"]["location"] == old  # type: ignore[index]
    assert events[0]["after"] == {"location": str(shared)}  # type: ignore[index]
    assert js("audit", "--verify", db=db_url)["ok"] is True  # type: ignore[index]
    assert f"store: {shared}" in run("locate", db=db_url).stdout
    proc = run("verify", "--json", db=db_url, ok=False)
    assert proc.returncode == 9  # the training output is gone; its kept copy is not
    states = {c["ref"]: (c["state"], c["path"]) for c in json.loads(proc.stdout)}
    assert states == {
        "churn:1": ("missing", str(model)),
        "churn:1 (kept copy)": ("ok", str(served)),
    }
    text = run("store", "--set", str(tmp_path / "again"), db=db_url).stdout
    assert text.startswith(f"moved the store to {tmp_path / 'again'} (1 kept copy copied")


def test_store_errors_are_one_line(sqlite_path: str, tmp_path: Path) -> None:
    _released(sqlite_path, tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    line = fail("store", "--set", str(blocker / "store"), db=sqlite_path, code=2)
    assert "cannot use" in line
    fail("store", "--reason", "why", db=sqlite_path, code=2)
    where = js("store", db=sqlite_path)["location"]  # type: ignore[index]
    assert "already at" in fail("store", "--set", where, db=sqlite_path, code=5)  # type: ignore[arg-type]
    # A kept copy that matches nowhere: the move is refused and nothing changes.
    (tmp_path / "out" / "model.safetensors").write_bytes(b"overwritten by run 2")
    kept = Path(run("resolve", "churn@production", db=sqlite_path).stdout.strip())
    os.chmod(kept, 0o644)
    kept.write_bytes(b"tampered")
    line = fail("store", "--set", str(tmp_path / "new"), db=sqlite_path, code=6)
    assert "store not moved" in line and "churn:1" in line
    assert js("store", db=sqlite_path)["source"] == "default"  # type: ignore[index]
    line = fail("resolve", "churn@production", db=sqlite_path, code=6)
    assert "refusing to serve: kept copy" in line and "changed" in line
    proc = run("verify", db=sqlite_path, ok=False)
    assert proc.returncode == 9 and "churn:1 (kept copy)" in proc.stdout


def test_locate_never_creates_a_catalog(tmp_path: Path) -> None:
    db = tmp_path / "not-yet.sqlite"
    located = js("locate", db=str(db))
    assert located["store"] == str(db) + ".store"  # type: ignore[index]
    assert not db.exists()


@pytest.mark.pg
def test_two_hosts_resolve_the_same_copy_through_a_set_store(pg_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Two data dirs stand for two hosts of one PostgreSQL catalog."""
    db = pg_server.new_database()

    def on(host: str, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "REGTUI_DB": db, "REGTUI_DATA_DIR": str(tmp_path / host)}
        return subprocess.run(
            [sys.executable, "-m", "regtui", *args],
            capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip

    a, b = (json.loads(on(h, "store", "--json").stdout) for h in ("host-a", "host-b"))
    assert a["host_local"] and b["host_local"] and a["location"] != b["location"]
    shared = tmp_path / "nfs" / "store"
    assert on("host-a", "store", "--set", str(shared)).returncode == 0
    model = tmp_path / "out" / "model.safetensors"
    model.parent.mkdir()
    model.write_bytes(safetensors_bytes({"w": ("F32", [8])}, {"run": "1"}))
    for args in (
        ("register", str(model), "--model", "churn"),
        ("approve", "churn:1", "--reason", "ok"),
        ("promote", "churn:1", "--reason", "r", "--to", "production"),
    ):
        proc = on("host-a", *args)
        assert proc.returncode == 0, proc.stderr
    model.write_bytes(b"the next training run overwrote it")
    paths = [on(h, "resolve", "churn@production").stdout.strip() for h in ("host-a", "host-b")]
    assert paths[0] == paths[1] and Path(paths[0]).is_relative_to(shared)
    assert json.loads(on("host-b", "store", "--json").stdout)["location"] == str(shared)


@pytest.mark.parametrize("blank", ["", " ", "\t"])
def test_store_set_blank_is_a_usage_error(sqlite_path: str, blank: str) -> None:
    line = fail("store", "--set", blank, db=sqlite_path, code=2)
    assert "empty" in line
    assert js("store", db=sqlite_path)["source"] == "default"  # type: ignore[index]


@pytest.mark.parametrize("rel", ["kept", "a/b", "./c"])
def test_store_set_relative_is_made_absolute_and_said(
    sqlite_path: str, tmp_path: Path, rel: str
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "regtui", "--db", sqlite_path, "store", "--set", rel],
        capture_output=True, text=True, cwd=work, timeout=120,
    )  # fmt: skip
    absolute = os.path.abspath(work / rel)
    assert proc.returncode == 0, proc.stderr
    assert f"using {absolute}" in proc.stderr and f"moved the store to {absolute}" in proc.stdout
    assert js("store", db=sqlite_path)["location"] == absolute  # type: ignore[index]


def test_backup_takes_production_along(sqlite_path: str, tmp_path: Path) -> None:
    model = _released(sqlite_path, tmp_path)
    backup = tmp_path / "b" / "copy.sqlite"
    backup.parent.mkdir()
    proc = run("backup", str(backup), db=sqlite_path)
    assert f"copied 1 kept copy into {backup}.store" in proc.stderr
    model.write_bytes(b"retrained")  # the training output no longer matches
    served = Path(run("resolve", "churn@production", db=str(backup)).stdout.strip())
    assert served.is_relative_to(Path(f"{backup}.store"))
    shown = js("store", db=str(backup))
    assert (shown["kept_copies"], shown["missing_copies"]) == (1, 0)  # type: ignore[index]


@pytest.mark.parametrize("output", ["matches", "retrained"])
def test_a_moved_or_imported_catalog_counts_and_resolves_honestly(
    sqlite_path: str, tmp_path: Path, output: str
) -> None:
    model = _released(sqlite_path, tmp_path)
    export = tmp_path / "export.json"
    run("export", str(export), db=sqlite_path)
    imported = str(tmp_path / "imported.sqlite")
    moved = str(tmp_path / "moved.sqlite")
    run("import", str(export), db=imported)
    Path(sqlite_path).rename(moved)
    if output == "retrained":
        model.write_bytes(b"retrained")
    for db in (imported, moved):
        shown = js("store", db=db)
        assert (shown["kept_copies"], shown["missing_copies"]) == (0, 1)  # type: ignore[index]
        assert "missing kept copies: 1" in run("store", db=db).stdout
        if output == "matches":
            assert run("resolve", "churn@production", db=db).stdout.strip() == str(model)
        else:
            line = fail("resolve", "churn@production", db=db, code=6)
            assert "missing" in line and "training output changed" in line


@pytest.mark.parametrize("exists", [True, False])
def test_import_says_what_it_did_with_the_exports_store_setting(
    sqlite_path: str, tmp_path: Path, exists: bool
) -> None:
    _released(sqlite_path, tmp_path)
    shared = tmp_path / "shared"
    run("store", "--set", str(shared), db=sqlite_path)
    export = tmp_path / "export.json"
    run("export", str(export), db=sqlite_path)
    if not exists:
        data = json.loads(export.read_text())
        data["settings"]["store"]["location"] = str(tmp_path / "gone")
        export.write_text(json.dumps(data))
    target = str(tmp_path / "new.sqlite")
    proc = run("import", str(export), db=target)
    assert proc.stdout == "imported 1 version\n"
    notes = proc.stderr.strip().splitlines()
    assert len(notes) == 1 and notes[0].startswith("regtui: note: ")
    shown = js("store", db=target)
    if exists:
        assert "kept the export's store setting" in notes[0]
        assert (shown["source"], shown["location"]) == ("setting", str(shared))  # type: ignore[index]
    else:
        assert "dropped the export's store setting" in notes[0]
        assert (shown["source"], shown["location"]) == ("default", target + ".store")  # type: ignore[index]


def test_import_json_carries_its_notes(sqlite_path: str, tmp_path: Path) -> None:
    run("store", "--set", str(tmp_path / "gone"), db=sqlite_path)
    export = tmp_path / "export.json"
    run("export", str(export), db=sqlite_path)
    (tmp_path / "gone").rmdir()
    shown = js("import", str(export), db=str(tmp_path / "new.sqlite"))
    assert shown["versions"] == 0  # type: ignore[index]
    (note,) = shown["notes"]  # type: ignore[index]
    assert note.startswith("dropped the export's store setting") and str(tmp_path / "gone") in note
