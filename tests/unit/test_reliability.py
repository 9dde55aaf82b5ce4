"""What regtui promises under tampering, cleaned folders, races and storage faults."""

from __future__ import annotations

import os
import random
import sqlite3
from pathlib import Path

import pytest

from regtui.catalog.records import Policy
from regtui.catalog.service import Catalog
from regtui.errors import ArtifactError, CatalogError, Conflict, PolicyRefused, UsageError
from tests.unit.helpers import artifact, catalog_with_versions, model_bytes

FULL = os.environ.get("REGTUI_FULL") == "1"


def _approved_in_production(url: str, folder: Path) -> Catalog:
    cat = catalog_with_versions(url, folder, 2)
    cat.approve("churn:1", "ok")
    cat.approve("churn:2", "ok")
    cat.promote("churn:1", "production")
    cat.promote("churn:2", "production")
    return cat


def test_production_survives_a_cleaned_training_folder(db_url: str, tmp_path: Path) -> None:
    cat = _approved_in_production(db_url, tmp_path / "runs")
    v2 = cat.get("churn:2")
    assert v2.stored_path  # relative to the catalog's store
    kept = cat.store_location().path / v2.stored_path
    assert kept.read_bytes() == model_bytes("model 2")
    for f in (tmp_path / "runs").iterdir():
        f.unlink()
    served = cat.artifact_path(cat.resolve("churn@production"))
    assert served == kept
    cat.rollback("churn")
    assert cat.artifact_path(cat.resolve("churn@production")).read_bytes() == model_bytes("model 1")
    checks = {c.ref: c.state for c in cat.verify_artifacts("churn")}
    assert checks["churn:1"] == "missing" and checks["churn:1 (kept copy)"] == "ok"


def test_resolve_refuses_a_changed_artifact(sqlite_path: str, tmp_path: Path) -> None:
    cat = catalog_with_versions(sqlite_path, tmp_path, 1)
    cat.promote("churn:1", "staging")  # unprotected: no kept copy
    assert cat.get("churn:1").stored_path is None
    (tmp_path / "m1.bin").write_text("tampered")
    with pytest.raises(ArtifactError, match="refusing to serve"):
        cat.artifact_path(cat.resolve("churn@staging"))
    assert cat.artifact_path(cat.resolve("churn@staging"), check=False).exists()


def test_promote_to_protected_stage_refuses_a_vanished_artifact(
    sqlite_path: str, tmp_path: Path
) -> None:
    cat = catalog_with_versions(sqlite_path, tmp_path, 1)
    cat.approve("churn:1", "ok")
    (tmp_path / "m1.bin").unlink()
    with pytest.raises(ArtifactError, match="gone"):
        cat.promote("churn:1", "production")
    assert cat.model("churn").stages == {}


def test_expected_holder_turns_a_race_into_a_conflict(db_url: str, tmp_path: Path) -> None:
    cat = catalog_with_versions(db_url, tmp_path, 3)
    cat.promote("churn:1", "staging", expect_version=0)
    cat.promote("churn:2", "staging", expect_version=1)
    with pytest.raises(Conflict, match="holds version 2, not version 1"):
        cat.promote("churn:3", "staging", expect_version=1)
    assert cat.get("churn@staging").version == 2
    assert [m.to_version for m in cat.stage_history("churn", "staging")] == [1, 2]


def _tamper(path: str, kind: str, rng: random.Random) -> None:
    con = sqlite3.connect(path)
    seqs = [r[0] for r in con.execute("SELECT seq FROM audit_event ORDER BY seq")]
    seq = rng.choice(seqs[:-1])  # the last one alone needs the external head (see below)
    if kind == "edit":
        field = rng.choice(["actor", "action", "target", "reason"])
        con.execute(
            f"UPDATE audit_event SET {field} = coalesce({field}, '') || 'x' WHERE seq = ?", (seq,)
        )
    elif kind == "delete":
        con.execute("DELETE FROM audit_event WHERE seq = ?", (seq,))
    elif kind == "insert":
        # A forged event slipped in after `seq`, with a well-formed hash of its own.
        con.execute("UPDATE audit_event SET seq = seq + 1000000 WHERE seq > ?", (seq,))
        row = con.execute("SELECT hash FROM audit_event WHERE seq = ?", (seq,)).fetchone()
        con.execute(
            "INSERT INTO audit_event (seq, at, actor, action, model, target, before, after, "
            "reason, prev_hash, hash) VALUES (?, '2026-01-01 00:00:00', 'mallory', 'approved', "
            "'churn', 'churn:1', 'null', 'null', NULL, ?, ?)",
            (seq + 1, row[0], "f" * 64),
        )
        con.execute("UPDATE audit_event SET seq = seq - 1000000 + 1 WHERE seq > 1000000")
    elif kind == "reorder":
        other = seq + 1
        con.execute("UPDATE audit_event SET seq = -1 WHERE seq = ?", (seq,))
        con.execute("UPDATE audit_event SET seq = ? WHERE seq = ?", (seq, other))
        con.execute("UPDATE audit_event SET seq = ? WHERE seq = -1", (other,))
    con.commit()
    con.close()


def test_audit_tampering_is_always_detected(tmp_path: Path) -> None:
    trials = 1000 if FULL else 120
    base = tmp_path / "base.sqlite"
    cat = _approved_in_production(str(base), tmp_path / "runs")
    cat.rollback("churn", reason="r")
    cat.close()
    pristine = base.read_bytes()
    rng = random.Random(1234)
    work = tmp_path / "work.sqlite"
    missed = []
    for trial in range(trials):
        work.write_bytes(pristine)
        kind = ("edit", "delete", "insert", "reorder")[trial % 4]
        _tamper(str(work), kind, rng)
        check = Catalog(str(work)).verify_audit()
        if check.ok:
            missed.append(kind)
    assert missed == []


def test_cutting_the_tail_is_caught_by_the_kept_head(sqlite_path: str, tmp_path: Path) -> None:
    cat = catalog_with_versions(sqlite_path, tmp_path, 2)
    head = cat.audit_head()[1]
    con = sqlite3.connect(sqlite_path)
    con.execute("DELETE FROM audit_event WHERE seq = (SELECT max(seq) FROM audit_event)")
    con.commit()
    con.close()
    assert cat.verify_audit().ok  # what remains is a valid chain …
    check = cat.verify_audit(expected_head=head)
    assert not check.ok and "expected" in (check.problem or "")  # … but not the one kept


def test_backup_is_a_consistent_working_copy(sqlite_path: str, tmp_path: Path) -> None:
    cat = catalog_with_versions(sqlite_path, tmp_path, 3)
    target = tmp_path / "backup.sqlite"
    assert cat.backup(target).pages > 0
    copy = Catalog(str(target))
    assert copy.export_data() == cat.export_data()
    with sqlite3.connect(target) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with pytest.raises(UsageError, match="exists"):
        cat.backup(target)


def test_a_locked_catalog_gives_a_clear_message(
    sqlite_path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import regtui.catalog.db as db

    cat = catalog_with_versions(sqlite_path, tmp_path, 1)
    monkeypatch.setattr(db, "BUSY_TIMEOUT_S", 0.2)
    impatient = Catalog(sqlite_path)
    blocker = sqlite3.connect(sqlite_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(CatalogError, match="locked by another process"):
            impatient.approve("churn:1", "ok")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert cat.get("churn:1").approval.status == "pending"
    assert cat.verify_audit().ok


def test_a_full_disk_loses_nothing(sqlite_path: str, tmp_path: Path) -> None:
    cat = catalog_with_versions(sqlite_path, tmp_path, 1)
    before = cat.export_data()

    # Simulate a full disk: the catalog may not grow by a single page.
    from sqlalchemy import event

    @event.listens_for(cat.engine, "connect")
    def _cap(dbapi_conn: object, _rec: object) -> None:
        cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
        pages = cur.execute("PRAGMA page_count").fetchone()[0]
        cur.execute(f"PRAGMA max_page_count = {pages}")

    cat.engine.dispose()
    big = {f"k{i}": "v" * 200 for i in range(200)}
    with pytest.raises(CatalogError, match="disk is full"):
        cat.register(artifact(tmp_path, "big.bin", "big"), "churn", params=big)
    event.remove(cat.engine, "connect", _cap)
    cat.engine.dispose()
    assert cat.export_data() == before


def test_read_only_catalog_reads_but_refuses_changes(sqlite_path: str, tmp_path: Path) -> None:
    catalog_with_versions(sqlite_path, tmp_path, 2).close()
    ro = Catalog(sqlite_path, read_only=True)
    assert [v.version for v in ro.versions("churn")] == [1, 2]
    with pytest.raises((CatalogError, UsageError), match="read-only"):
        ro.approve("churn:1", "ok")
    with pytest.raises((CatalogError, UsageError), match="read-only"):
        ro.register(artifact(tmp_path, "new.bin", "new"), "churn")
    with pytest.raises(CatalogError, match="cannot open"):
        Catalog(str(tmp_path / "missing.sqlite"), read_only=True)


def test_policy_changes_are_audited(sqlite_path: str) -> None:
    cat = Catalog(sqlite_path)
    cat.set_policy(Policy(("production", "canary"), True), "tighten")
    event = cat.audit_events(action="policy_changed")[0]
    assert event.after["protected_stages"] == ["production", "canary"]
    assert event.reason == "tighten"


def test_several_stage_moves_are_one_transaction(db_url: str, tmp_path: Path) -> None:
    cat = catalog_with_versions(db_url, tmp_path, 3)
    cat.promote("churn:1", "qa")
    moves = cat.move_stages("churn:2", ["staging", "canary"], ["qa"], reason="release train")
    assert [(m.stage, m.to_version, m.action) for m in moves] == [
        ("staging", 2, "promote"),
        ("canary", 2, "promote"),
        ("qa", None, "demote"),
    ]
    assert cat.model("churn").stages == {"canary": 2, "qa": None, "staging": 2}
    events_before = cat.audit_head()[0]
    # production is protected and churn:3 is pending: the whole move is refused …
    with pytest.raises(PolicyRefused, match="protected-stage-needs-approval"):
        cat.move_stages("churn:3", ["staging", "production"], ["canary"])
    # … and nothing of it happened, not even the allowed parts.
    assert cat.model("churn").stages == {"canary": 2, "qa": None, "staging": 2}
    assert cat.audit_head()[0] == events_before
    with pytest.raises(UsageError, match="at once"):
        cat.move_stages("churn:3", ["staging"], ["staging"])
