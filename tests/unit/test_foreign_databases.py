"""A database that is not a regtui catalog is named as such and left as it was: an
MLflow tracking database, another program's SQLite file, another program's Alembic
schema. An empty database becomes a catalog; a regtui catalog of any revision opens
(tests/unit/test_migrations.py)."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from regtui.catalog.migrate import CATALOG_TABLES, MLFLOW_TABLES
from regtui.catalog.service import Catalog
from regtui.errors import CatalogError
from tests.support.hypothesis_runs import examples
from tests.support.pg import PgServer


def _sqlite(path: Path, tables: list[str], revision: str | None = None) -> str:
    con = sqlite3.connect(path)
    for name in tables:
        con.execute(f'CREATE TABLE "{name}" (x)')
        con.execute(f'INSERT INTO "{name}" VALUES (1)')
    if revision is not None:
        con.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        con.execute("INSERT INTO alembic_version VALUES (?)", (revision,))
    con.commit()
    con.close()
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _refused(target: str, read_only: bool = False) -> str:
    with pytest.raises(CatalogError) as caught:
        Catalog(target, read_only=read_only)
    message = str(caught.value)
    assert "\n" not in message and "not a regtui catalog" in message
    return message


@pytest.mark.parametrize(
    "tables",
    [
        sorted(MLFLOW_TABLES),
        ["registered_models", "model_versions", "registered_model_tags"],
        ["experiments", "runs", "metrics", "params"],
    ],
)
@pytest.mark.parametrize("revision", [None, "0584bdc529eb"])
@pytest.mark.parametrize("read_only", [False, True])
def test_an_mlflow_database_is_named_and_left_as_it_was(
    tmp_path: Path, tables: list[str], revision: str | None, read_only: bool
) -> None:
    path = tmp_path / "mlflow.db"
    before = _sqlite(path, tables, revision)
    message = _refused(str(path), read_only)
    assert message.startswith(f"{path} is an MLflow tracking database")
    assert message.endswith(f"regtui import-mlflow sqlite:///{path}")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


_NAME = st.from_regex(r"[a-z_][a-z0-9_]{0,12}", fullmatch=True).filter(
    lambda n: (
        n not in CATALOG_TABLES | MLFLOW_TABLES | {"alembic_version"}
        and not n.startswith("sqlite_")
    )
)


@settings(max_examples=examples(40), deadline=None)
@given(
    tables=st.lists(_NAME, min_size=1, max_size=6, unique=True),
    revision=st.one_of(st.none(), st.from_regex(r"[0-9a-f]{12}", fullmatch=True)),
)
def test_another_programs_sqlite_file_is_named_and_left_as_it_was(
    tmp_path_factory: pytest.TempPathFactory, tables: list[str], revision: str | None
) -> None:
    path = tmp_path_factory.mktemp("foreign") / "other.sqlite"
    before = _sqlite(path, tables, revision)
    message = _refused(str(path))
    assert message.startswith(f"{path} is a")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_an_empty_sqlite_file_becomes_a_catalog(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite"
    sqlite3.connect(path).close()
    with Catalog(str(path)) as cat:
        assert cat.models() == []


def _sql(url: str, *statements: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            rows: list[tuple[object, ...]] = []
            for statement in statements:
                result = conn.execute(text(statement))
                rows = [tuple(r) for r in result] if result.returns_rows else []
            return rows
    finally:
        engine.dispose()


def test_a_postgresql_schema_another_program_migrates_is_refused(pg_server: PgServer) -> None:
    url = pg_server.new_database()
    _sql(
        url,
        "CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)",
        "INSERT INTO alembic_version VALUES ('0584bdc529eb')",
        "CREATE TABLE registered_models (name TEXT)",
        "CREATE TABLE logbook (name TEXT)",
    )
    message = _refused(url)  # one MLflow table is not an MLflow database
    assert "another program's migrations manage (revision 0584bdc529eb)" in message
    tables = _sql(url, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    assert sorted(tables) == [("alembic_version",), ("logbook",), ("registered_models",)]


def test_a_postgresql_schema_shared_with_other_tables_takes_the_catalog(
    pg_server: PgServer,
) -> None:
    url = pg_server.new_database()
    _sql(url, "CREATE TABLE invoices (id INT)")
    with Catalog(url) as cat:
        assert cat.models() == []
