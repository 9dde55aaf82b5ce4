"""The CLI's quick read path (stdlib sqlite3) must give exactly what Catalog gives,
and step aside whenever it cannot answer."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
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


def test_catalog_files_at_paths_with_url_characters(tmp_path: Path) -> None:
    """'?' ends a URL's path and '%' starts an escape: neither may change which file opens."""
    folder = tmp_path / "runs?x=1 %41 #2"
    folder.mkdir()
    odd = folder / "cat%3F?.sqlite"
    with catalog_with_versions(str(odd), tmp_path, 2) as cat:
        assert cat.backup(tmp_path / "copy.sqlite").pages > 0
    assert odd.is_file()
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".sqlite") == ["copy.sqlite"]
    with Catalog(str(odd), read_only=True) as ro:
        assert [v.version for v in ro.versions("churn")] == [1, 2]
    with Catalog(str(tmp_path / "copy.sqlite")) as copy:
        assert [v.version for v in copy.versions("churn")] == [1, 2]
    proc = _cli("versions", "churn", "--filter", "version = 2", "--json", db=str(odd))
    assert proc.returncode == 0, proc.stderr
    assert [v["version"] for v in json.loads(proc.stdout)] == [2]


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


def _cli(*args: str, db: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess that reports whether SQLAlchemy was imported."""
    code = (
        "import sys; from regtui.cli.main import main; rc = main(sys.argv[1:]); "
        "sys.stdout.flush(); sys.stderr.write('SQLA=%s\\n' % ('sqlalchemy' in sys.modules)); "
        "sys.exit(rc)"
    )
    return subprocess.run(
        [sys.executable, "-c", code, "--db", db, *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_reads_without_sqlalchemy(busy_catalog: Catalog, sqlite_path: str) -> None:
    cat = busy_catalog
    proc = _cli("models", "--json", db=sqlite_path)
    assert proc.returncode == 0 and "SQLA=False" in proc.stderr, proc.stderr
    assert json.loads(proc.stdout) == [m.to_json() for m in cat.models()]

    proc = _cli("versions", "churn", "--json", db=sqlite_path)
    assert "SQLA=False" in proc.stderr, proc.stderr
    assert json.loads(proc.stdout) == [v.to_json() for v in cat.versions("churn")]

    proc = _cli("show", "churn@production", "--json", db=sqlite_path)
    assert "SQLA=False" in proc.stderr, proc.stderr
    assert json.loads(proc.stdout) == cat.get("churn@production").to_json()

    proc = _cli("resolve", "churn@production", db=sqlite_path)
    assert "SQLA=False" in proc.stderr, proc.stderr
    assert proc.stdout.strip() == str(cat.artifact_path(cat.resolve("churn@production")))


def test_cli_errors_and_filters_take_the_full_path(busy_catalog: Catalog, sqlite_path: str) -> None:
    proc = _cli("show", "churn:99", db=sqlite_path)
    assert proc.returncode == 3
    assert proc.stderr.splitlines()[0] == "regtui: error: churn has no version 99"
    proc = _cli("versions", "churn", "--filter", "metrics.auc > 0.825", "--json", db=sqlite_path)
    assert proc.returncode == 0 and "SQLA=True" in proc.stderr
    assert [v["version"] for v in json.loads(proc.stdout)] == [3, 4, 5]


def test_resolve_still_refuses_a_changed_artifact(busy_catalog: Catalog, sqlite_path: str) -> None:
    v = busy_catalog.resolve("churn@staging")
    Path(v.path).write_text("tampered")
    proc = _cli("resolve", "churn@staging", db=sqlite_path)
    assert proc.returncode != 0
    assert "refusing to serve" in proc.stderr and "changed" in proc.stderr
    assert "SQLA=False" in proc.stderr


def test_resolve_finds_kept_copies_where_the_catalog_does(
    busy_catalog: Catalog, sqlite_path: str, tmp_path: Path
) -> None:
    """Default store, a store set in the catalog, and a kept copy recorded by an
    older catalog as an absolute path: the quick path serves the same file."""
    cat = busy_catalog

    def same_everywhere() -> Path:
        reader = QuickReader.open(sqlite_path)
        assert reader is not None
        with reader:
            assert reader.store_location() == cat.store_location()
        expected = cat.artifact_path(cat.resolve("churn@production"))
        proc = _cli("resolve", "churn@production", db=sqlite_path)
        assert proc.returncode == 0 and "SQLA=False" in proc.stderr, proc.stderr
        assert Path(proc.stdout.strip()) == expected
        return expected

    assert same_everywhere().is_relative_to(Path(sqlite_path + ".store"))
    cat.set_store_location(tmp_path / "shared")
    assert same_everywhere().is_relative_to(tmp_path / "shared")
    v = cat.resolve("churn@production")
    legacy = tmp_path / "data" / "store" / (v.stored_path or "")
    legacy.parent.mkdir(parents=True)
    (tmp_path / "shared" / (v.stored_path or "")).rename(legacy)
    with sqlite3.connect(sqlite_path) as con:
        con.execute("UPDATE version SET stored_path = ? WHERE id = ?", (str(legacy), v.id))
    assert same_everywhere() == legacy
    legacy.unlink()
    # Gone everywhere: the training output serves while it still matches, on both paths.
    training = Path(v.path)
    assert same_everywhere() == training
    training.write_bytes(training.read_bytes() + b" retrained")
    proc = _cli("resolve", "churn@production", db=sqlite_path)
    assert proc.returncode == 6 and "SQLA=False" in proc.stderr, proc.stderr
    assert "kept copy" in proc.stderr and "missing" in proc.stderr
    assert "training output changed" in proc.stderr
