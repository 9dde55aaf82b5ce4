"""versions have a description

Revision ID: 0007
Revises: 0006

- `version.description`: what a person says about a version (`edit REF
  --description`), as a model has had since 0001; NULL until one is written.
- PostgreSQL: 0006's version guard keeps every column it does not list fixed after
  insert; its function is replaced by the same text with `description` listed.
"""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_0006 = importlib.import_module("regtui.migrations.versions.0006_team_enforcement")
# The end of the guard's list of columns that may change after insert.
_LISTED = "'approval_reason', 'stored_path']);"


def _version_guard(description_may_change: bool) -> str:
    """0006's regtui_guard_version, as CREATE OR REPLACE, with or without `description`."""
    start = _0006.GUARDS.index("CREATE FUNCTION {s}.regtui_guard_version()")
    end = _0006.GUARDS.index("CREATE FUNCTION {s}.regtui_guard_stage()")
    body = _0006.GUARDS[start:end]
    if body.count(_LISTED) != 1:
        raise RuntimeError("0006's version guard is not the text this migration edits")
    if description_may_change:
        body = body.replace(
            _LISTED, _LISTED.replace("'stored_path'", "'stored_path', 'description'")
        )
    s = _0006._schema()
    fmt = {
        "s": s,
        "pin": _0006.PIN,
        "lock": _0006.PG_WRITE_LOCK_KEY,
        "tables": _0006._sql_names(_0006.ALL_TABLES),
    }
    return body.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1).format(**fmt)


def upgrade() -> None:
    with op.batch_alter_table("version") as batch:
        batch.add_column(sa.Column("description", sa.Text(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_version_guard(description_may_change=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_version_guard(description_may_change=False))
    with op.batch_alter_table("version") as batch:
        batch.drop_column("description")
