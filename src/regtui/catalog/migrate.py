"""Bring a catalog's schema to the one this regtui knows, or say why not.

Opening a current catalog costs one small query; Alembic is imported only
when a migration actually has to run.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from regtui.catalog.db import read_txn, translate_db_error, write_txn
from regtui.errors import CatalogError

# The newest revision in regtui/migrations/versions (a test keeps them equal).
HEAD_REVISION = "0004"
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def current_revision(conn: Connection) -> str | None:
    try:
        with conn.begin_nested():
            row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    except (OperationalError, ProgrammingError):
        return None
    return row[0] if row else None


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {s.revision for s in _script_dir(ScriptDirectory).walk_revisions()}


def _script_dir(cls: type) -> object:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cls.from_config(cfg)


def ensure_schema(engine: Engine, *, read_only: bool = False) -> None:
    """Create or upgrade the schema; refuse a catalog from a newer regtui."""
    with read_txn(engine) as conn:
        rev = current_revision(conn)
    if rev == HEAD_REVISION:
        return
    if rev is not None and rev not in known_revisions():
        raise CatalogError(
            f"catalog schema {rev} is newer than this regtui understands; upgrade regtui"
        )
    if read_only:
        raise CatalogError(f"catalog schema {rev or 'none'} needs a migration, but it is read-only")
    try:
        with write_txn(engine) as conn:
            # Another process may have migrated while we waited for the lock.
            if current_revision(conn) != HEAD_REVISION:
                upgrade(conn)
    except OperationalError as exc:
        raise translate_db_error(exc) from None


def upgrade(conn: Connection, target: str = "head") -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, target)
