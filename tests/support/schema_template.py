"""New empty SQLite catalogs in tests, from a template instead of seven migrations.

The tests open a couple of thousand new catalogs; running Alembic's migrations for each
costs about 65 ms of CPU, a fifth of the fast lane. Here the schema is built by the
real migrations once per test process and its statements (what SQLite keeps in
sqlite_master) are replayed into each new, empty SQLite catalog inside the same write
transaction `ensure_schema` opened. Anything else (PostgreSQL, an existing catalog, a
migration to an older revision) takes the real path, as do every subprocess, the tests
marked `real_migrations` and the test that holds this replay equal to the migrations'
schema (tests/unit/test_migrations.py).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from regtui.catalog import migrate
from regtui.catalog.db import close_engine, make_engine, write_txn
from regtui.settings import sqlite_url

REAL_UPGRADE = migrate.upgrade
# Tables before what is built on them; SQLite's own tables make themselves.
_KIND_ORDER = {"table": 0, "index": 1, "view": 2, "trigger": 3}
_statements: list[str] = []


def schema_of(conn: Connection) -> tuple[list[str], list[str]]:
    """The schema's statements in an order that rebuilds it, and the stamped revision."""
    rows = conn.execute(
        text(
            "SELECT type, sql FROM sqlite_master "
            "WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid"
        )
    ).all()
    ordered = sorted(rows, key=lambda r: _KIND_ORDER[r[0]])  # stable: rowid within a kind
    stamped = [r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))]
    return [r[1] for r in ordered], stamped


def head_statements() -> list[str]:
    """The head schema's statements, built once per process by the real migrations."""
    if not _statements:
        with tempfile.TemporaryDirectory(prefix="regtui-template-") as folder:
            engine = make_engine(sqlite_url(Path(folder) / "template.sqlite"))
            try:
                with write_txn(engine) as conn:
                    REAL_UPGRADE(conn)
                    _statements.extend(schema_of(conn)[0])
            finally:
                close_engine(engine)
    return _statements


def upgrade(conn: Connection, target: str = "head") -> None:
    empty = (
        conn.dialect.name == "sqlite"
        and target == "head"
        and not conn.execute(text("SELECT count(*) FROM sqlite_master")).scalar_one()
    )
    if not empty:
        REAL_UPGRADE(conn, target)
        return
    for statement in head_statements():
        conn.exec_driver_sql(statement)
    conn.execute(
        text("INSERT INTO alembic_version (version_num) VALUES (:v)"),
        {"v": migrate.HEAD_REVISION},
    )


def use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(migrate, "upgrade", upgrade)
