"""`audit --verify` checks the state, not only the chain: a table edited beside the
log (on SQLite the file's owner can UPDATE any row) is reported with its row and
field, while unedited catalogs of every flow, old ones included, verify clean;
`verify` and `resolve` refuse a version whose identity the log contradicts."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from regtui.catalog.service import Catalog
from regtui.errors import CatalogError
from tests.support.hypothesis_runs import examples
from tests.unit.helpers import open_as
from tests.unit.test_import_validation import populated

DATA = Path(__file__).parent.parent / "data"


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("state")
    db = folder / "src.sqlite"
    populated(str(db), folder).close()
    with sqlite3.connect(db) as conn:  # all in the main file: the tests copy only it
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db


def _copy(source: Path, tmp: Path, name: str) -> Path:
    db = tmp / name
    shutil.copy(source, db)
    return db


def test_unedited_catalogs_verify_clean(db_url: str, tmp_path: Path) -> None:
    cat = populated(db_url, tmp_path)
    chain, state = cat.verify_catalog()
    assert chain.ok and state is not None
    assert state.mismatches == [] and state.unverifiable == []
    assert cat.verify_audit().ok
    assert all(c.state == "ok" for c in open_as(db_url, "alice").verify_artifacts())


def test_an_imported_catalog_verifies_clean(source: Path, tmp_path: Path) -> None:
    data = Catalog(source).export_data()
    target = Catalog(tmp_path / "t.sqlite", user="alice")
    target.import_data(data)
    assert target.verify_audit().ok


def test_a_schema_0001_catalog_verifies_clean(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite"
    shutil.copy(DATA / "catalog_schema_0001.sqlite", db)
    chain, state = Catalog(db).verify_catalog()
    assert chain.ok and state is not None and state.ok, state


# One direct table edit: (what it changes, SQL with a :v parameter, the row the
# report must name). Each picks its victim by model and number, as a person would.
def _vid(model: str, n: int) -> str:
    return f"(SELECT v.id FROM version v JOIN model m ON m.id = v.model_id WHERE m.name = '{model}' AND v.number = {n})"


EDITS: list[tuple[str, str, Callable[[Any], Any], str]] = [
    ("stage", f"UPDATE stage SET version_id = {_vid('churn', 4)} WHERE name = 'production'",
     lambda v: v, "stage churn@production"),
    ("stage-to-nothing", "UPDATE stage SET version_id = NULL WHERE name = 'production'",
     lambda v: v, "stage churn@production"),
    ("stage-new", "INSERT INTO stage (model_id, name, version_id, revision, updated_at, updated_by) "
     f"SELECT model_id, :v, id, 1, created_at, 'mallory' FROM version WHERE id = {_vid('churn', 1)}",
     lambda v: v, "stage churn@"),
    ("approval", f"UPDATE version SET approval_status = 'approved' WHERE id = {_vid('fraud', 1)}",
     lambda v: v, "version fraud:1"),
    ("approver", f"UPDATE version SET approval_by = :v WHERE id = {_vid('churn', 1)}",
     lambda v: v, "version churn:1"),
    ("approval-history", f"UPDATE approval SET by = :v WHERE version_id = {_vid('churn', 4)}",
     lambda v: v, "version churn:4"),
    ("approval-deleted", f"DELETE FROM approval WHERE version_id = {_vid('churn', 2)}",
     lambda v: v, "version churn:2"),
    ("path", f"UPDATE version SET path = :v WHERE id = {_vid('churn', 1)}",
     lambda v: "/tmp/" + v, "version churn:1"),
    ("sha256", f"UPDATE version SET sha256 = :v WHERE id = {_vid('churn', 4)}",
     lambda v: (v.encode().hex() * 64)[:64], "version churn:4"),
    ("size", f"UPDATE version SET size_bytes = size_bytes + 1 WHERE id = {_vid('churn', 2)}",
     lambda v: v, "version churn:2"),
    ("stored_path", f"UPDATE version SET stored_path = :v WHERE id = {_vid('churn', 4)}",
     lambda v: "sha256/00/" + "0" * 64 + "/" + v, "version churn:4"),
    ("archived", f"UPDATE version SET archived = 1 WHERE id = {_vid('churn', 2)}",
     lambda v: v, "version churn:2"),
    ("artifact_state", f"UPDATE version SET artifact_state = 'changed' WHERE id = {_vid('churn', 1)}",
     lambda v: v, "version churn:1"),
    ("policy", "UPDATE setting SET value = :v WHERE key = 'policy'",
     lambda v: '{"protected_stages": ["' + v + '"], "distinct_approver": false}', "setting policy"),
    ("policy-deleted", "DELETE FROM setting WHERE key = 'policy'", lambda v: v, "setting policy"),
    ("store", "INSERT INTO setting (key, value) VALUES ('store', :v)",
     lambda v: '{"location": "/tmp/' + v + '"}', "setting store"),
]  # fmt: skip


def _edit(db: Path, sql: str, value: Any) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, {"v": value}).rowcount


@pytest.mark.parametrize(("kind", "sql", "make", "row"), EDITS, ids=[e[0] for e in EDITS])
def test_each_kind_of_table_edit_is_reported_with_its_row(
    source: Path, tmp_path: Path, kind: str, sql: str, make: Callable[[Any], Any], row: str
) -> None:
    db = _copy(source, tmp_path, "c.sqlite")
    assert _edit(db, sql, make("zz")) >= 1
    cat = Catalog(db)
    chain, state = cat.verify_catalog()
    assert chain.ok, "the chain itself is intact: only the state shows the edit"
    assert state is not None and not state.ok
    assert any(m.row.startswith(row) for m in state.mismatches), state.mismatches
    check = cat.verify_audit()
    assert not check.ok and row.split("@")[0] in (check.problem or "")


@settings(max_examples=examples(60), deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(st.sampled_from(range(len(EDITS))), min_size=1, max_size=3, unique=True),
    st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12),
)
def test_generated_table_edits_are_all_reported(
    source: Path, tmp_path_factory: pytest.TempPathFactory, picks: list[int], value: str
) -> None:
    assume(value not in ("production", "staging"))
    db = _copy(source, tmp_path_factory.mktemp("gen"), "c.sqlite")
    for i in picks:
        _, sql, make, _ = EDITS[i]
        _edit(db, sql, make(value))
    chain, state = Catalog(db).verify_catalog()
    assert chain.ok and state is not None
    named = {m.row for m in state.mismatches}
    for i in picks:
        assert any(r.startswith(EDITS[i][3]) for r in named), (EDITS[i][0], state.mismatches)


def test_a_swapped_path_and_sha256_is_not_served(source: Path, tmp_path: Path) -> None:
    """The table's path and sha256 both pointed at other (real, matching) bytes: the
    re-hash alone would pass; the log's registration says otherwise."""
    db = _copy(source, tmp_path, "c.sqlite")
    evil = tmp_path / "evil.bin"
    evil.write_bytes(b"other bytes")
    sha = hashlib.sha256(evil.read_bytes()).hexdigest()
    with sqlite3.connect(db) as conn:
        conn.execute(
            f"UPDATE version SET path = ?, sha256 = ?, size_bytes = ? WHERE id = {_vid('churn', 1)}",
            (str(evil), sha, evil.stat().st_size),
        )
    checks = {c.ref: c for c in Catalog(db).verify_artifacts()}
    assert checks["churn:1"].state == "changed"
    assert "registration" in checks["churn:1"].detail


def test_steps_the_policy_forbade_are_reported_from_the_log_itself(tmp_path: Path) -> None:
    """A log showing a registrant approving their own version under distinct-approver,
    or a pending version moved into a protected stage: the replay reports both even
    when the rows agree with the log (what an import or audit --verify then refuses)."""
    from regtui.catalog import audit
    from regtui.catalog.audit_replay import replay

    src = populated(str(tmp_path / "src.sqlite"), tmp_path)
    events = src.audit_events()
    expected = replay(events)
    assert expected.broken == []
    ev = next(e for e in events if e.action == "approved")
    forged = [
        *events,
        type(ev)(**{**ev.__dict__, "seq": len(events) + 1, "action": "policy_changed",
                    "target": "policy", "after": {"protected_stages": ["production"],
                                                  "distinct_approver": True}}),
        type(ev)(**{**ev.__dict__, "seq": len(events) + 2, "actor": "alice",
                    "target": "churn:2", "action": "approved"}),
        type(ev)(**{**ev.__dict__, "seq": len(events) + 3, "action": "promoted",
                    "target": "fraud@production", "model": "fraud", "after": {"version": 1}}),
    ]  # fmt: skip
    broken = {(m.row, m.field) for m in replay(forged).broken}
    assert ("version churn:2", "approval_by") in broken
    assert ("stage fraud@production", "version") in broken
    assert audit.verify(events).ok


def test_the_library_refuses_to_hand_out_a_swapped_artifact(source: Path, tmp_path: Path) -> None:
    db = _copy(source, tmp_path, "c.sqlite")
    evil = tmp_path / "evil.bin"
    evil.write_bytes(b"other bytes")
    with sqlite3.connect(db) as conn:
        conn.execute(
            f"UPDATE version SET path = ?, sha256 = ? WHERE id = {_vid('churn', 1)}",
            (str(evil), hashlib.sha256(b"other bytes").hexdigest()),
        )
    cat = Catalog(db)
    with pytest.raises(CatalogError, match="registration"):
        cat.artifact_path(cat.resolve("churn@production"), check=False)
    assert cat.artifact_path(cat.resolve("churn:4"), check=False)  # others still served
