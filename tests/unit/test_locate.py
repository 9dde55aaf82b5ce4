"""Where the catalog is: one side-effect-free answer (settings.locate) that the
full path (Catalog) and the quick path (QuickReader) both use, and one builder
of SQLite `file:` URIs."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from regtui.catalog.quickread import QuickReader
from regtui.catalog.service import Catalog
from regtui.errors import UsageError
from regtui.settings import data_dir, database_url, locate, sqlite_uri, sqlite_url
from tests.unit.helpers import catalog_with_versions


def test_asking_where_creates_nothing() -> None:
    here = data_dir()
    where = locate()
    assert where.default and not where.given_as_url
    assert where.file == here / "catalog.sqlite"
    assert where.url == sqlite_url(here / "catalog.sqlite") == database_url()
    assert not here.exists()  # only asked: no data dir made
    Catalog().close()  # creating the default catalog makes its folder
    assert (here / "catalog.sqlite").is_file()


def test_flag_then_environment_then_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = tmp_path / "env.sqlite"
    flag = tmp_path / "flag.sqlite"
    monkeypatch.setenv("REGTUI_DB", str(env))
    assert locate().file == env and not locate().default
    assert locate(str(flag)).file == flag
    assert locate(flag).url == sqlite_url(flag)
    monkeypatch.setenv("REGTUI_DB", "")
    assert locate().default


def test_urls(tmp_path: Path) -> None:
    pg = locate("postgresql://ana@db.example/reg")
    assert (pg.url, pg.file, pg.given_as_url) == (
        "postgresql+psycopg://ana@db.example/reg",
        None,
        True,
    )
    file = tmp_path / "c.sqlite"
    lite = locate(f"sqlite:///{file}")
    assert (lite.url, lite.file, lite.given_as_url) == (f"sqlite:///{file}", file, True)
    assert locate("sqlite://").file is None
    with pytest.raises(UsageError, match="not a catalog URL"):
        locate("mysql://x/y")
    with pytest.raises(UsageError, match="not a catalog file"):
        locate(str(tmp_path))  # a folder


def test_both_paths_find_the_same_catalog(
    sqlite_path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog_with_versions(sqlite_path, tmp_path, 1).close()
    monkeypatch.setenv("REGTUI_DB", sqlite_path)
    reader = QuickReader.open(None)
    assert reader is not None
    with reader, Catalog() as cat:
        assert reader.url == cat.url == locate().url
        assert [v.to_json() for v in reader.versions("churn")] == [
            v.to_json() for v in cat.versions("churn")
        ]
    # A URL, or a --db that is no catalog file, is the full path's to answer.
    assert QuickReader.open(f"sqlite:///{sqlite_path}") is None
    assert QuickReader.open(str(tmp_path)) is None


def test_sqlite_uris_name_exactly_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "a?b=1 #x %41"
    folder.mkdir()
    odd = folder / "c%3F?.sqlite"
    with sqlite3.connect(odd) as con:
        con.execute("CREATE TABLE t (x)")
    con.close()
    with sqlite3.connect(sqlite_uri(odd, "ro"), uri=True) as ro:
        assert ro.execute("SELECT name FROM sqlite_master").fetchall() == [("t",)]
    ro.close()
    missing = folder / "missing.sqlite"
    with pytest.raises(sqlite3.OperationalError):
        sqlite3.connect(sqlite_uri(missing, "rw"), uri=True)
    assert not missing.exists()
    assert sorted(os.listdir(folder)) == [odd.name]
