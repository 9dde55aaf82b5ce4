"""The CLI's quick read path (stdlib sqlite3) must give exactly what Catalog gives,
and step aside whenever it cannot answer."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from regtui.catalog import reads, version_fields
from regtui.catalog.quickread import NotHere, QuickReader
from regtui.catalog.refs import parse_ref
from regtui.catalog.schema import VersionRow
from regtui.catalog.service import Catalog
from tests.unit.helpers import artifact, catalog_with_versions

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture
def busy_catalog(sqlite_path: str, tmp_path: Path) -> Catalog:
    """Two models with stages, rollbacks, approvals, archived versions and
    hostile text in every free-text field the records carry."""
    cat = catalog_with_versions(sqlite_path, tmp_path, 5)
    cat.register(artifact(tmp_path, "b/ünï\u202e.bin", "other"), "beta", tags={"x": "\x1b[31m"})
    reviewer = Catalog(sqlite_path, user="bob")
    for ref in ("churn:2", "churn:3", "churn:4"):
        reviewer.approve(ref, "ok ☃ \x1b]0;title\x07")
    cat.promote("churn:2", "production", reason="first")
    cat.promote("churn:4", "production", reason="second")
    cat.promote("churn:3", "staging")
    cat.rollback("churn", "production", reason="bad \u202eday")
    cat.archive("churn:5")
    cat.edit_model("churn", description="line one\nline two", tags={"owner": "ana"})
    return cat


def test_column_order_matches_the_schema() -> None:
    """The quick path selects the version table's columns (all of them, each
    once), in the order the declaration gives them positions."""
    selected = reads.SELECT_VERSIONS.split(" FROM ")[0].removeprefix("SELECT ").split(", ")
    assert sorted(selected[:-1]) == sorted(f"version.{c.name}" for c in VersionRow.__table__.c)
    assert selected[:-1] == [f"version.{c}" for c in version_fields.COLUMNS]


def test_same_answers_as_the_catalog(busy_catalog: Catalog, sqlite_path: str) -> None:
    cat = busy_catalog
    reader = QuickReader.open(sqlite_path)
    assert reader is not None
    with reader:
        assert [m.to_json() for m in reader.models()] == [m.to_json() for m in cat.models()]
        for model in ("churn", "beta"):
            quick = reader.versions(model)
            full = cat.versions(model)
            assert [v.to_json() for v in quick] == [v.to_json() for v in full]
            assert [v.to_json_text() for v in quick] == [v.to_json_text() for v in full]
            assert reader.stage_history(model) == cat.stage_history(model)
        for text in ("churn", "churn:3", "churn:5", "churn@production", "churn@staging", "beta"):
            ref = parse_ref(text)
            assert reader.get(ref).to_json() == cat.get(ref).to_json(), text
        assert reader.store_location() == cat.store_location()


def test_missing_things_are_left_to_the_full_path(busy_catalog: Catalog, sqlite_path: str) -> None:
    busy_catalog.demote("churn", "staging")
    reader = QuickReader.open(sqlite_path)
    assert reader is not None
    with reader:
        for text in ("nope", "churn:99", "churn@canary", "churn@staging"):
            with pytest.raises(NotHere):
                reader.get(parse_ref(text))
        with pytest.raises(NotHere):
            reader.versions("nope")
        # A failed lookup leaves no transaction open behind it.
        assert [m.name for m in reader.models()] == ["beta", "churn"]


def test_paths_with_uri_characters(tmp_path: Path) -> None:
    plain = tmp_path / "plain.sqlite"
    catalog_with_versions(str(plain), tmp_path, 2).close()
    odd = tmp_path / "odd ?#%20&mode=ro" / "cat alog?.sqlite"
    odd.parent.mkdir()
    plain.rename(odd)
    reader = QuickReader.open(str(odd))
    assert reader is not None
    with reader:
        assert [v.version for v in reader.versions("churn")] == [1, 2]


def test_steps_aside_when_it_cannot_answer(tmp_path: Path) -> None:
    missing = tmp_path / "absent.sqlite"
    assert QuickReader.open(str(missing)) is None
    assert not missing.exists()  # never creates a catalog
    assert QuickReader.open("postgresql://u@localhost/x") is None
    old = tmp_path / "old.sqlite"
    shutil.copy(DATA / "catalog_schema_0001.sqlite", old)
    assert QuickReader.open(str(old)) is None  # needs a migration: the full path does it
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    assert QuickReader.open(str(junk)) is None
    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).close()
    assert QuickReader.open(str(empty)) is None
