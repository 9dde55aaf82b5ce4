"""The quick read path as the command line takes it, in a subprocess that reports
whether SQLAlchemy was imported: models, versions, show and resolve answer without
it, the same as the full Catalog; errors and filters take the full path; resolve
still refuses a changed artifact and finds kept copies where the catalog does; a
catalog file at a path with URL characters opens as that file. The reader itself,
in-process: tests/unit/test_quickread.py.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from regtui.catalog.quickread import QuickReader
from regtui.catalog.service import Catalog
from tests.unit import test_quickread
from tests.unit.helpers import catalog_with_versions

# The same fixture as the in-process tests (an import under its own name would be
# shadowed by the test parameters that request it).
busy_catalog = test_quickread.busy_catalog


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
