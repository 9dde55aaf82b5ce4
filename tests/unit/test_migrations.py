"""Schema versions: old catalogs open under new code; newer ones are refused."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy import inspect as sa_inspect

from regtui.catalog.db import close_engine, make_engine, write_txn
from regtui.catalog.migrate import HEAD_REVISION, known_revisions, upgrade
from regtui.catalog.service import Catalog
from regtui.errors import CatalogError
from regtui.settings import sqlite_url
from tests.support import schema_template
from tests.unit.helpers import model_bytes

DATA = Path(__file__).resolve().parents[1] / "data"
# Every catalog here is built by the migrations themselves, not the tests' template.
pytestmark = pytest.mark.real_migrations


def test_the_tests_schema_template_builds_what_the_migrations_build(tmp_path: Path) -> None:
    """Other tests get new SQLite catalogs from tests/support/schema_template.py: its
    replay must give exactly the migrations' schema, object for object, and the stamp."""
    with Catalog(tmp_path / "migrated.sqlite") as migrated, migrated.engine.connect() as conn:
        expected = schema_template.schema_of(conn)
    engine = make_engine(sqlite_url(tmp_path / "replayed.sqlite"))
    try:
        with write_txn(engine) as conn:
            schema_template.upgrade(conn)
        with engine.connect() as conn:
            replayed = schema_template.schema_of(conn)
    finally:
        close_engine(engine)
    assert expected[1] == [HEAD_REVISION]
    assert len(expected[0]) > 10  # tables, indexes and triggers, not an empty list
    assert replayed == expected


def test_head_constant_matches_the_migration_scripts() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from regtui.catalog.migrate import MIGRATIONS_DIR

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(cfg).get_current_head() == HEAD_REVISION
    assert HEAD_REVISION in known_revisions()


def test_migrations_build_exactly_the_tables_the_code_uses(db_url: str) -> None:
    """Alembic's autogenerate finds nothing to add: the migrations and schema.py agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from regtui.catalog.schema import SQLModel

    cat = Catalog(db_url)
    with cat.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        tables = set(sa_inspect(conn).get_table_names())
    assert diffs == []
    # Not a comparison of nothing with nothing: the catalog was migrated to the head,
    # on the backend this run is for, and holds every table schema.py declares.
    assert revision == HEAD_REVISION
    assert cat.engine.dialect.name == ("postgresql" if "://" in db_url else "sqlite")
    assert set(SQLModel.metadata.tables) <= tables


def test_first_schema_catalog_opens_and_works(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    shutil.copy(DATA / "catalog_schema_0001.sqlite", path)
    cat = Catalog(str(path), user="carol")
    assert [v.version for v in cat.versions("churn")] == [1, 2, 3]
    assert cat.get("churn@production").version == 1
    assert cat.model("churn").description == "Churn *model*"
    assert cat.verify_audit().ok
    # Migration 0004 filled the filter indexes from the old rows.
    assert [v.version for v in cat.versions("churn", where="metrics.auc > 0.815")] == [2, 3]
    assert [v.version for v in cat.versions("churn", where="tags.run = '2'")] == [2]
    (tmp_path / "new.bin").write_bytes(model_bytes("new weights"))
    assert cat.register(tmp_path / "new.bin", "churn").version == 4
    assert cat.verify_audit().ok


def test_catalog_from_a_newer_regtui_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite"
    shutil.copy(DATA / "catalog_schema_0001.sqlite", path)
    con = sqlite3.connect(path)
    con.execute("UPDATE alembic_version SET version_num = '9999'")
    con.commit()
    con.close()
    with pytest.raises(CatalogError, match="newer than this regtui"):
        Catalog(str(path))


def test_upgrade_from_empty_database(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'e.sqlite'}")
    with engine.begin() as conn:
        upgrade(conn)
    con = sqlite3.connect(tmp_path / "e.sqlite")
    assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == HEAD_REVISION
