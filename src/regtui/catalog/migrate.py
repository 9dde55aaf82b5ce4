"""Bring a catalog's schema to the one this regtui knows, or say why not.

Opening a current catalog costs one small query; Alembic is imported only
when a migration actually has to run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from regtui.catalog.db import CATALOG_TABLES, read_txn, write_txn
from regtui.errors import CatalogError
from regtui.migrations import HEAD_REVISION

__all__ = [
    "CATALOG_TABLES",
    "HEAD_REVISION",
    "current_revision",
    "ensure_schema",
    "known_revisions",
    "upgrade",
]
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def current_revision(conn: Connection) -> str | None:
    try:
        with conn.begin_nested():
            row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    except (OperationalError, ProgrammingError):
        return None
    return row[0] if row else None


def _config() -> Any:
    """Alembic's configuration, built in code (regtui ships no alembic.ini)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {s.revision for s in ScriptDirectory.from_config(_config()).walk_revisions()}


# Tables of an MLflow tracking database (its registry and its runs).
MLFLOW_TABLES = {"registered_models", "model_versions", "experiments", "runs"}


MLFLOW_KIND = "an MLflow tracking database"


def foreign_kind(conn: Connection, rev: str | None) -> str | None:
    """What a database that is not a regtui catalog is, or None for a catalog (of any
    revision) or an empty database. A SQLite file holding other tables is someone
    else's; on PostgreSQL other tables may share the schema, so only another
    program's Alembic revision there says the schema is not regtui's."""
    tables = set(inspect(conn).get_table_names()) - {"alembic_version"}
    if tables & CATALOG_TABLES:
        return None
    if len(tables & MLFLOW_TABLES) >= 2:
        return MLFLOW_KIND
    if rev is not None and rev not in known_revisions():
        return f"a database another program's migrations manage (revision {rev})"
    if tables and conn.dialect.name == "sqlite":
        shown = ", ".join(sorted(tables)[:3]) + (", …" if len(tables) > 3 else "")
        return f"a SQLite database of another program (tables {shown})"
    return None


def ensure_schema(engine: Engine, *, read_only: bool = False, name: str | None = None) -> None:
    """Create or upgrade the schema; refuse a catalog from a newer regtui, and any
    database that is not a catalog (nothing is written to it). `name` is how an error
    names the database (else its URL, without a password)."""
    with read_txn(engine) as conn:
        rev = current_revision(conn)
        foreign = None if rev == HEAD_REVISION else foreign_kind(conn, rev)
    if rev == HEAD_REVISION:
        return
    if foreign is not None:
        shown = name or engine.url.render_as_string(hide_password=True)
        hint = ""
        if foreign == MLFLOW_KIND:
            source = f"sqlite:///{name}" if name else shown
            hint = f"; to bring its registry over: regtui import-mlflow {source}"
        raise CatalogError(f"{shown} is {foreign}, not a regtui catalog{hint}")
    if rev is not None and rev not in known_revisions():
        raise CatalogError(
            f"catalog schema {rev} is newer than this regtui understands; upgrade regtui"
        )
    if read_only:
        raise CatalogError(f"catalog schema {rev or 'none'} needs a migration, but it is read-only")
    # write_txn turns database errors into one-line CatalogErrors.
    with write_txn(engine) as conn:
        # Another process may have migrated while we waited for the lock.
        if current_revision(conn) != HEAD_REVISION:
            upgrade(conn)


def upgrade(conn: Connection, target: str = "head") -> None:
    from alembic import command

    cfg = _config()
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, target)
